/**
 * The token endpoint and discovery, through `oauth4webapi` (panva's dependency-free, conformance-
 * tested OAuth 2.0 / OIDC client): the authorization-code exchange with the PKCE verifier, the
 * refresh grant, and OpenID Connect discovery. Plain http is allowed for loopback hosts only.
 */
import * as oauth from 'oauth4webapi';
import { UserError } from '../shared/errors.ts';
import type { RedirectResult } from './core/redirect.ts';

export interface ClientConfig {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string | null;
}

export interface TokenSet {
  accessToken: string;
  /** Absent when the provider keeps the old one (no rotation). */
  refreshToken: string | null;
  /** ms since the epoch */
  expiresAt: number;
  issuedAt: number;
  scopes: string[] | null;
}

/** The provider no longer honours the grant (revoked, expired, password changed): sign in again. */
export class OAuthSignInRequired extends UserError {
  override name = 'OAuthSignInRequired';
  constructor(message: string, options?: { cause?: unknown }) {
    super('oauth-sign-in-again', message, options);
  }
}

/** The token endpoint could not be reached or answered nonsense (retried later, like a lost connection). */
export class OAuthUnavailable extends UserError {
  override name = 'OAuthUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super('oauth-unavailable', message, options);
  }
}

const TIMEOUT_MS = 30_000;
/** Grant errors (RFC 6749 5.2) that no retry can fix. */
const FATAL = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope']);

function isLoopback(u: string): boolean {
  const h = new URL(u).hostname;
  return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
}

function requestOptions(url: string): oauth.TokenEndpointRequestOptions {
  const o: oauth.TokenEndpointRequestOptions = { signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (new URL(url).protocol === 'http:') {
    if (!isLoopback(url))
      throw new UserError('oauth-insecure', `refusing plain http to ${new URL(url).host}`);
    o[oauth.allowInsecureRequests] = true;
  }
  return o;
}

function server(c: ClientConfig): oauth.AuthorizationServer {
  return {
    issuer: c.issuer,
    authorization_endpoint: c.authorizationEndpoint,
    token_endpoint: c.tokenEndpoint,
  };
}

function auth(c: ClientConfig): oauth.ClientAuth {
  return c.clientSecret ? oauth.ClientSecretPost(c.clientSecret) : oauth.None();
}

function toTokenSet(r: oauth.TokenEndpointResponse, now: number): TokenSet {
  // No expires_in: assume an hour (every provider here sends it; the refresh-on-reject path covers a lie).
  const secs = typeof r.expires_in === 'number' && r.expires_in > 0 ? r.expires_in : 3600;
  return {
    accessToken: r.access_token,
    refreshToken: typeof r.refresh_token === 'string' ? r.refresh_token : null,
    expiresAt: now + secs * 1000,
    issuedAt: now,
    scopes: typeof r.scope === 'string' ? r.scope.split(' ').filter(Boolean) : null,
  };
}

function mapError(err: unknown, what: string, host: string): Error {
  if (err instanceof UserError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    const desc = err.error_description ? `: ${err.error_description.slice(0, 200)}` : '';
    if (FATAL.has(err.error))
      return new OAuthSignInRequired(`sign in again: ${host} refused the ${what} (${err.error}${desc})`, {
        cause: err,
      });
    return new OAuthUnavailable(`${host} refused the ${what} (${err.error}${desc})`, { cause: err });
  }
  if (err instanceof oauth.AuthorizationResponseError)
    return new UserError('oauth-denied', `the provider refused the sign-in: ${err.error}`, { cause: err });
  const msg = err instanceof Error ? err.message : String(err);
  return new OAuthUnavailable(`cannot reach ${host} for the ${what}: ${msg.slice(0, 200)}`, { cause: err });
}

/** Trades the authorization code (with the PKCE verifier) for tokens. */
export async function exchangeCode(
  c: ClientConfig,
  redirect: RedirectResult,
  redirectUri: string,
  state: string,
  codeVerifier: string,
  now: () => number = Date.now,
): Promise<TokenSet & { refreshToken: string }> {
  const host = new URL(c.tokenEndpoint).host;
  try {
    const as = server(c);
    const client: oauth.Client = { client_id: c.clientId };
    const params = oauth.validateAuthResponse(as, client, redirect.url, state);
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth(c),
      params,
      redirectUri,
      codeVerifier,
      requestOptions(c.tokenEndpoint),
    );
    const t = toTokenSet(await oauth.processAuthorizationCodeResponse(as, client, res), now());
    if (!t.refreshToken)
      throw new UserError(
        'oauth-no-refresh-token',
        `${host} gave no refresh token: Lockbridge could not stay signed in (is offline access allowed for this client?)`,
      );
    return { ...t, refreshToken: t.refreshToken };
  } catch (err) {
    throw mapError(err, 'authorization code', host);
  }
}

/** The refresh grant; OAuthSignInRequired when the grant is gone. */
export async function refreshTokens(
  c: ClientConfig,
  refreshToken: string,
  now: () => number = Date.now,
): Promise<TokenSet> {
  const host = new URL(c.tokenEndpoint).host;
  try {
    const as = server(c);
    const client: oauth.Client = { client_id: c.clientId };
    const res = await oauth.refreshTokenGrantRequest(
      as,
      client,
      auth(c),
      refreshToken,
      requestOptions(c.tokenEndpoint),
    );
    return toTokenSet(await oauth.processRefreshTokenResponse(as, client, res), now());
  } catch (err) {
    throw mapError(err, 'refresh token', host);
  }
}

/** OpenID Connect discovery (/.well-known/openid-configuration) of an issuer. */
export async function discoverIssuer(
  issuer: string,
): Promise<{ issuer: string; authorizationEndpoint: string; tokenEndpoint: string }> {
  const url = new URL(issuer);
  try {
    const res = await oauth.discoveryRequest(url, {
      algorithm: 'oidc',
      signal: AbortSignal.timeout(TIMEOUT_MS),
      ...(url.protocol === 'http:' && isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {}),
    });
    const as = await oauth.processDiscoveryResponse(url, res);
    if (!as.authorization_endpoint || !as.token_endpoint)
      throw new UserError('oauth-discovery', `${url.host} publishes no authorization or token endpoint`);
    return {
      issuer: as.issuer,
      authorizationEndpoint: as.authorization_endpoint,
      tokenEndpoint: as.token_endpoint,
    };
  } catch (err) {
    throw mapError(err, 'discovery', url.host);
  }
}
