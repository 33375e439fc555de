/** Per remote mailbox sync state (an opaque JSON document owned by the sync engine). */
import type { StoreDb } from '../sql.ts';

export class SyncStateRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  get<T = unknown>(accountId: number, remoteMailbox: string): T | null {
    const r = this.#s
      .prepare<{ state: string }>('SELECT state FROM sync_state WHERE account_id = ? AND remote_mailbox = ?')
      .get(accountId, remoteMailbox);
    return r ? (JSON.parse(r.state) as T) : null;
  }

  put(accountId: number, remoteMailbox: string, state: unknown): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO sync_state (account_id, remote_mailbox, state, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(account_id, remote_mailbox) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        )
        .run(accountId, remoteMailbox, JSON.stringify(state), Date.now()),
    );
  }

  list(accountId: number): Array<{ remoteMailbox: string; state: unknown; updatedAt: number }> {
    return this.#s
      .prepare<{ remote_mailbox: string; state: string; updated_at: number }>(
        'SELECT remote_mailbox, state, updated_at FROM sync_state WHERE account_id = ? ORDER BY remote_mailbox',
      )
      .all(accountId)
      .map((r: { remote_mailbox: string; state: string; updated_at: number }) => ({
        remoteMailbox: r.remote_mailbox,
        state: JSON.parse(r.state) as unknown,
        updatedAt: r.updated_at,
      }));
  }

  delete(accountId: number, remoteMailbox: string): void {
    this.#s.write(() =>
      this.#s
        .prepare('DELETE FROM sync_state WHERE account_id = ? AND remote_mailbox = ?')
        .run(accountId, remoteMailbox),
    );
  }
}
