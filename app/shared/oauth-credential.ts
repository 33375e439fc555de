/**
 * What an account signed in with OAuth 2.0 keeps: where to refresh, as whom, and the
 * tokens. It lives only inside the encrypted store (the `accounts.oauth` column) and is never
 * logged; the store, the oauth layer and sync share this one shape.
 */
export interface OAuthCredential {
  /** The profile it came from ('google', 'microsoft', ..., or 'custom' for OIDC discovery). */
  profile: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  /** Some providers (Google, Yahoo, AOL) want a secret even from installed apps; null when none. */
  clientSecret: string | null;
  scopes: string[];
  refreshToken: string;
  accessToken: string;
  /** When the access token stops working (ms since the epoch). */
  expiresAt: number;
  /** When it was issued (ms): a short-lived token is refreshed a quarter of its life early, at most a minute. */
  issuedAt?: number;
}
