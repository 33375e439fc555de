/** While an OAuth sign-in waits for the browser: where to sign in, the page as a link, and Cancel. */
import type { OAuthSignInAction } from '../hooks/useOAuthSignIn.ts';

export function OAuthWaiting({ action }: { action: OAuthSignInAction }) {
  const w = action.waiting;
  if (!w) return null;
  return (
    <div className="oauth-waiting" role="status" data-testid="oauth-waiting">
      <p>
        Sign in on the page of {w.provider} in your browser. If no page opened,{' '}
        <a href={w.url} target="_blank" rel="noopener noreferrer">
          open the sign-in page
        </a>
        . Lockbridge continues by itself when you are done.
      </p>
      <button type="button" onClick={action.cancel}>
        Cancel sign-in
      </button>
    </div>
  );
}
