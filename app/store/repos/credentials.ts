/**
 * The local password mail clients use (shown by `lockbridge credentials`, so it is kept as is,
 * inside the encrypted database). Verification is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoreDb } from '../sql.ts';

/** The row for the one local password shared by every account. */
export const DEFAULT_USER = '*';

export class CredentialsRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  get(username = DEFAULT_USER): string | null {
    return (
      this.#s
        .prepare<{ password: string }>('SELECT password FROM local_credentials WHERE username = ?')
        .get(username)?.password ?? null
    );
  }

  set(password: string, username = DEFAULT_USER): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO local_credentials (username, password, updated_at) VALUES (?, ?, ?)
           ON CONFLICT(username) DO UPDATE SET password = excluded.password, updated_at = excluded.updated_at`,
        )
        .run(username, password, Date.now()),
    );
  }

  /** A new random password (base64url, 24 chars), stored and returned. */
  reset(username = DEFAULT_USER): string {
    const pw = randomBytes(18).toString('base64url');
    this.set(pw, username);
    return pw;
  }

  verify(password: string, username = DEFAULT_USER): boolean {
    const stored = this.get(username);
    const a = createHash('sha256').update(password, 'utf8').digest();
    const b = createHash('sha256')
      .update(stored ?? randomBytes(16).toString('hex'), 'utf8')
      .digest();
    return timingSafeEqual(a, b) && stored !== null;
  }
}
