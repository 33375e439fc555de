/**
 * Checks a redirect that claims to end an authorization request (RFC 8252 loopback redirect, or a
 * redirect URL pasted from a browser on another machine): it must come back to exactly the
 * redirect URI we sent — 127.0.0.1, the port we listen on, the path — and carry our `state`
 * (compared in constant time). Only then is its code looked at. No I/O.
 */
import { timingSafeEqual } from 'node:crypto';
import { UserError } from '../../shared/errors.ts';

export class RedirectRefused extends UserError {
  override name = 'RedirectRefused';
  constructor(message: string) {
    super('oauth-redirect-refused', message);
  }
}

export interface RedirectResult {
  /** The whole redirect URL (what oauth4webapi's validateAuthResponse takes). */
  url: URL;
  code: string;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Throws RedirectRefused unless `got` is a redirect to `redirectUri` with `state`; an `error`
 * answer from the provider (the user said no) becomes a one-line UserError.
 */
export function checkRedirect(got: string | URL, redirectUri: string, state: string): RedirectResult {
  let url: URL;
  try {
    url = typeof got === 'string' ? new URL(got.trim()) : got;
  } catch {
    throw new RedirectRefused('that is not a URL');
  }
  const want = new URL(redirectUri);
  if (url.protocol !== want.protocol || url.hostname !== want.hostname || url.port !== want.port)
    throw new RedirectRefused(`the redirect went to ${url.host}, not to ${want.host}`);
  if (url.pathname !== want.pathname)
    throw new RedirectRefused(`the redirect path ${url.pathname} is not ours`);
  const gotState = url.searchParams.get('state');
  if (gotState === null || !sameSecret(gotState, state))
    throw new RedirectRefused('the redirect does not carry the state of this sign-in (forged or stale)');
  const error = url.searchParams.get('error');
  if (error) {
    const desc = url.searchParams.get('error_description');
    throw new UserError(
      'oauth-denied',
      `the provider refused the sign-in: ${error}${desc ? ` (${desc.slice(0, 200)})` : ''}`,
    );
  }
  const code = url.searchParams.get('code');
  if (!code) throw new RedirectRefused('the redirect carries no authorization code');
  return { url, code };
}
