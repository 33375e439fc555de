/**
 * The one place an account's access token comes from. Every provider connection of an
 * OAuth account (the sync passes, IDLE, repair, the outbox relay) asks here; the token is refreshed
 * a minute before it expires, or at once when a server rejected it — one refresh per account at a
 * time (a provider that rotates refresh tokens may revoke the whole grant when an old one is used
 * twice). New tokens are written to the encrypted store through the seam; no token is ever logged.
 */
import type { OAuthCredential } from '../shared/oauth-credential.ts';
import type { Logger } from '../shared/logger.ts';
import { UserError } from '../shared/errors.ts';
import { refreshTokens, type ClientConfig, type TokenSet } from './token-client.ts';

export interface CredentialSeam {
  read(accountId: number): OAuthCredential | null;
  write(accountId: number, credential: OAuthCredential): void;
}

export interface OAuthTokensOptions {
  seam: CredentialSeam;
  logger: Logger;
  now?: () => number;
  /** Refresh this long before expiry (default: a minute, or a quarter of a shorter token's life). */
  skewMs?: number;
  /** The refresh grant (tests replace it). */
  refresh?: (c: ClientConfig, refreshToken: string) => Promise<TokenSet>;
}

export class OAuthTokens {
  readonly #o: OAuthTokensOptions;
  readonly #inflight = new Map<number, Promise<string>>();

  constructor(o: OAuthTokensOptions) {
    this.#o = o;
  }

  /**
   * A usable access token. `rejected`: the token a server just refused — refreshed unless another
   * connection already replaced it.
   */
  async accessToken(accountId: number, opts: { rejected?: string } = {}): Promise<string> {
    const c = this.#o.seam.read(accountId);
    if (!c) throw new UserError('not-oauth', 'this account does not sign in with OAuth');
    const now = (this.#o.now ?? Date.now)();
    const life = c.issuedAt !== undefined ? c.expiresAt - c.issuedAt : Infinity;
    const skew = this.#o.skewMs ?? Math.min(60_000, Math.max(0, life / 4));
    const stale = opts.rejected !== undefined ? c.accessToken === opts.rejected : c.expiresAt - skew <= now;
    if (!stale) return c.accessToken;
    let p = this.#inflight.get(accountId);
    if (!p) {
      p = this.#refresh(accountId, c).finally(() => this.#inflight.delete(accountId));
      this.#inflight.set(accountId, p);
    }
    return p;
  }

  async #refresh(accountId: number, c: OAuthCredential): Promise<string> {
    const refresh = this.#o.refresh ?? ((cfg, rt) => refreshTokens(cfg, rt, this.#o.now));
    const t = await refresh(c, c.refreshToken);
    // Re-read: the account may have signed in again meanwhile (then keep what is newer).
    const cur = this.#o.seam.read(accountId);
    if (!cur || cur.refreshToken !== c.refreshToken) return cur?.accessToken ?? t.accessToken;
    this.#o.seam.write(accountId, {
      ...cur,
      accessToken: t.accessToken,
      refreshToken: t.refreshToken ?? cur.refreshToken,
      expiresAt: t.expiresAt,
      issuedAt: t.issuedAt,
    });
    this.#o.logger.info(
      {
        accountId,
        expiresInS: Math.round((t.expiresAt - (this.#o.now ?? Date.now)()) / 1000),
        rotated: !!t.refreshToken,
      },
      'access token refreshed',
    );
    return t.accessToken;
  }
}
