/**
 * OAuth 2.0 sign-in from the UI: the bridge starts the flow and listens on its loopback
 * redirect; the provider's page opens in the user's browser (in the desktop app a new window is
 * refused and the page goes to the system browser); then the bridge gets the tokens, checks them at
 * the provider and saves the account. The tokens never reach the UI.
 */
import { useState } from 'react';
import type { AccountInfo, OAuthSignInInput, OAuthSignInStart } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { useAction, type Action } from './useAction.ts';

export interface OAuthSignInAction extends Action {
  /** The sign-in waiting for the browser (its page, to show as a link too), or null. */
  waiting: OAuthSignInStart | null;
  signIn(input: OAuthSignInInput): Promise<AccountInfo | undefined>;
  cancel(): void;
}

export function useOAuthSignIn(): OAuthSignInAction {
  const { bridge } = useApp();
  const action = useAction();
  const [waiting, setWaiting] = useState<OAuthSignInStart | null>(null);
  const signIn = (input: OAuthSignInInput) =>
    action.run(async () => {
      const start = await bridge.beginOAuthSignIn(input);
      setWaiting(start);
      window.open(start.url, '_blank', 'noopener');
      try {
        return await bridge.finishOAuthSignIn(start.id);
      } finally {
        setWaiting(null);
      }
    });
  const cancel = () => {
    if (waiting) void bridge.cancelOAuthSignIn(waiting.id).catch(() => {});
  };
  return { ...action, waiting, signIn, cancel };
}
