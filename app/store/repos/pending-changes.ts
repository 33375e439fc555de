/**
 * The durable, ordered queue of local changes to replay on the provider (consumed by sync).
 * Mailbox and message repos enqueue these in the same transaction as the change itself when the
 * change's origin is 'local' (an IMAP client, an import); changes made by sync are not queued.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { StoreDb } from '../sql.ts';

/** Ids of pending changes summed per turn of the event loop (~10-20 ms of reading). */
const SUMMARY_IDS = 50_000;

/** Where a remote message lives (captured before a local expunge deletes the mapping). */
export interface RemoteRef {
  remoteMailbox: string;
  uidvalidity: number;
  uid: number;
}

export type PendingChange =
  | { kind: 'mailbox-create'; mailboxId: number; name: string }
  | { kind: 'mailbox-rename'; mailboxId: number; oldName: string; name: string }
  | { kind: 'mailbox-delete'; mailboxId: number; name: string; remoteName: string | null }
  | { kind: 'mailbox-subscribe'; mailboxId: number; name: string; subscribed: boolean }
  /**
   * local message (mailboxId, uid) to put at the provider; `source`: it is a local COPY/MOVE of a
   * message that is on the provider there (captured at copy time), so the provider copies it
   */
  | { kind: 'append'; mailboxId: number; uid: number; source?: RemoteRef }
  /** new flags of a local message; `remote` null when it was never uploaded */
  | { kind: 'flags'; mailboxId: number; uid: number; flags: string[]; remote: RemoteRef | null }
  | { kind: 'expunge'; mailboxId: number; uid: number; remote: RemoteRef | null };

export type FolderChange = Extract<
  PendingChange,
  { kind: 'mailbox-create' | 'mailbox-rename' | 'mailbox-delete' }
>;

export type Origin = 'local' | 'sync';

/** One message's identity at the provider, to find a copy whose COPY/MOVE reply was lost. */
export interface CopyIdentity {
  size: number;
  internalDate: number;
  /** sha256 (hex) of the message's header block as the provider serves it */
  header: string;
}

/**
 * What an attempt at the provider was about to do, written durably before the command is sent:
 * after a crash or a lost reply the next attempt looks for its effect instead of repeating it.
 */
export type PendingAttempt =
  /** APPEND of a copy carrying `X-Lockbridge-Upload: token` */
  | { kind: 'upload'; token: string; remoteMailbox: string }
  /** COPY/MOVE into `target`, whose UIDNEXT was `uidNext` just before */
  | { kind: 'copy'; target: string; uidValidity: number; uidNext: number; identity: CopyIdentity };

export interface PendingRow {
  id: number;
  accountId: number;
  change: PendingChange;
  /** set while an attempt's outcome is unknown (see PendingAttempt) */
  attempt: PendingAttempt | null;
  attempts: number;
  nextAttempt: number;
  lastError: string | null;
  createdAt: number;
}

interface Row {
  id: number;
  account_id: number;
  kind: string;
  payload: string;
  attempts: number;
  next_attempt: number;
  last_error: string | null;
  created_at: number;
}

export class PendingChangesRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  enqueue(accountId: number, change: PendingChange): number {
    const res = this.#s
      .prepare('INSERT INTO pending_changes (account_id, kind, payload, created_at) VALUES (?, ?, ?, ?)')
      .run(accountId, change.kind, JSON.stringify(change), Date.now());
    return Number(res.lastInsertRowid);
  }

  /**
   * Oldest first; only those due at `now`, and none queued after a folder change that is not due
   * yet (later changes name the folder as that change leaves it: a second rename overtaking the
   * first made the retry rename the folder back).
   */
  list(accountId: number, limit = 500, now = Date.now()): PendingRow[] {
    return this.#s
      .prepare<Row>(
        `SELECT * FROM pending_changes WHERE account_id = ? AND next_attempt <= ?
           AND id < coalesce((SELECT min(id) FROM pending_changes WHERE account_id = ? AND next_attempt > ?
             AND kind IN ('mailbox-create', 'mailbox-rename', 'mailbox-delete')), 9007199254740991)
         ORDER BY id LIMIT ?`,
      )
      .all(accountId, now, accountId, now, limit)
      .map((r: Row) => toPending(r));
  }

  /** Records (durably, before the command goes out) what an attempt is about to do. */
  setAttempt(id: number, attempt: PendingAttempt): void {
    this.#s.write(() =>
      this.#s
        .prepare("UPDATE pending_changes SET payload = json_set(payload, '$.attempt', json(?)) WHERE id = ?")
        .run(JSON.stringify(attempt), id),
    );
  }

  /** The pending upload whose attempt carries this token, if any (the provider shows it in a header). */
  findByUploadToken(accountId: number, token: string): PendingRow | null {
    const r = this.#s
      .prepare<Row>(
        `SELECT * FROM pending_changes WHERE account_id = ? AND kind = 'append'
           AND json_extract(payload, '$.attempt.token') = ?`,
      )
      .get(accountId, token);
    return r ? toPending(r) : null;
  }

  /** Pending copies whose COPY/MOVE into `target` may have happened without our hearing of it. */
  copyAttemptsInto(accountId: number, target: string): PendingRow[] {
    return this.#s
      .prepare<Row>(
        `SELECT * FROM pending_changes WHERE account_id = ? AND kind = 'append'
           AND json_extract(payload, '$.attempt.kind') = 'copy' AND json_extract(payload, '$.attempt.target') = ?
         ORDER BY id`,
      )
      .all(accountId, target)
      .map((r: Row) => toPending(r));
  }

  /**
   * After the provider folder `oldName` (and its children) became `newName`: queued changes that
   * recorded a provider name under the old one point at the new one (a delete queued after a
   * rename must not hit the old name, find nothing and count as done).
   */
  followRemoteRename(accountId: number, oldName: string, newName: string, delimiter: string): void {
    const moved = (n: string): string =>
      n === oldName ? newName : n.startsWith(oldName + delimiter) ? newName + n.slice(oldName.length) : n;
    this.#s.write(() => {
      const update = this.#s.prepare('UPDATE pending_changes SET payload = ? WHERE id = ?');
      for (const r of this.#s
        .prepare<{ id: number; payload: string }>(
          'SELECT id, payload FROM pending_changes WHERE account_id = ?',
        )
        .all(accountId)) {
        const p = JSON.parse(r.payload) as PendingChange & { attempt?: PendingAttempt };
        const before = JSON.stringify(p);
        if (p.kind === 'mailbox-delete' && p.remoteName !== null) p.remoteName = moved(p.remoteName);
        if ((p.kind === 'flags' || p.kind === 'expunge') && p.remote)
          p.remote.remoteMailbox = moved(p.remote.remoteMailbox);
        if (p.kind === 'append' && p.source) p.source.remoteMailbox = moved(p.source.remoteMailbox);
        if (p.attempt?.kind === 'upload') p.attempt.remoteMailbox = moved(p.attempt.remoteMailbox);
        if (p.attempt?.kind === 'copy') p.attempt.target = moved(p.attempt.target);
        const after = JSON.stringify(p);
        if (after !== before) update.run(after, r.id);
      }
    });
  }

  /** The queued folder creations, renames and deletions, oldest first. */
  folderChanges(accountId: number): FolderChange[] {
    return this.#s
      .prepare<{ payload: string }>(
        `SELECT payload FROM pending_changes WHERE account_id = ?
           AND kind IN ('mailbox-create', 'mailbox-rename', 'mailbox-delete') ORDER BY id`,
      )
      .all(accountId)
      .map((r: { payload: string }) => JSON.parse(r.payload) as FolderChange);
  }

  count(accountId: number): number {
    return (
      this.#s
        .prepare<{ n: number }>('SELECT count(*) AS n FROM pending_changes WHERE account_id = ?')
        .get(accountId)?.n ?? 0
    );
  }

  /** Is a local flag change or upload still queued for this message? (Local changes win over remote ones.) */
  hasLocalChange(accountId: number, mailboxId: number, uid: number): boolean {
    return (
      this.#s
        .prepare(
          `SELECT 1 FROM pending_changes WHERE account_id = ? AND kind IN ('flags', 'append')
           AND json_extract(payload, '$.mailboxId') = ? AND json_extract(payload, '$.uid') = ? LIMIT 1`,
        )
        .get(accountId, mailboxId, uid) !== undefined
    );
  }

  /**
   * Remote UIDs of one remote mailbox whose local expunge still waits for the provider: not
   * missing locally (repair must not fetch them back).
   */
  expungesWaiting(accountId: number, remoteMailbox: string, uidValidity: number): Set<number> {
    const rows = this.#s
      .prepare<number>(
        `SELECT json_extract(payload, '$.remote.uid') FROM pending_changes WHERE account_id = ? AND kind = 'expunge'
         AND json_extract(payload, '$.remote.remoteMailbox') = ? AND json_extract(payload, '$.remote.uidvalidity') = ?`,
      )
      .pluck()
      .all(accountId, remoteMailbox, uidValidity) as unknown as number[];
    return new Set(rows);
  }

  /**
   * What waits for the provider: all changes, the uploads among them (messages to APPEND), when the
   * oldest was made, and the most recent error any of them met. Summed over SUMMARY_IDS ids of
   * the account's rows at a time, the event loop free in between (a million rows read at once held
   * it 635-678 ms); rows done or queued meanwhile may be counted in or out.
   */
  async summary(accountId: number): Promise<{
    changes: number;
    uploads: number;
    oldestAt: number | null;
    lastError: string | null;
  }> {
    let changes = 0;
    let uploads = 0;
    let oldestAt: number | null = null;
    let errorId = 0;
    // min and max apart: each is one step of the index (together in one query: a scan)
    const bound = (f: 'min' | 'max'): number | null =>
      this.#s
        .prepare<number | null>(`SELECT ${f}(id) FROM pending_changes WHERE account_id = ?`)
        .pluck()
        .get(accountId) ?? null;
    const first = bound('min');
    const last = bound('max') ?? 0;
    for (let lo = first ?? 1; first !== null && lo <= last; lo += SUMMARY_IDS) {
      if (lo !== first) await yieldLoop();
      const r = this.#s
        .prepare<{ n: number; uploads: number | null; oldest: number | null; err: number | null }>(
          `SELECT count(*) AS n, sum(kind = 'append') AS uploads, min(created_at) AS oldest,
             max(CASE WHEN last_error IS NOT NULL THEN id END) AS err
           FROM pending_changes WHERE account_id = ? AND id BETWEEN ? AND ?`,
        )
        .get(accountId, lo, lo + SUMMARY_IDS - 1);
      if (!r) continue;
      changes += r.n;
      uploads += r.uploads ?? 0;
      if (r.oldest !== null && (oldestAt === null || r.oldest < oldestAt)) oldestAt = r.oldest;
      if (r.err !== null && r.err > errorId) errorId = r.err;
    }
    const lastError = errorId
      ? (this.#s
          .prepare<{ e: string | null }>('SELECT last_error AS e FROM pending_changes WHERE id = ?')
          .get(errorId)?.e ?? null)
      : null;
    return { changes, uploads, oldestAt, lastError };
  }

  done(id: number): void {
    this.#s.write(() => this.#s.prepare('DELETE FROM pending_changes WHERE id = ?').run(id));
  }

  failed(id: number, error: string, retryAt: number): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          'UPDATE pending_changes SET attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE id = ?',
        )
        .run(error, retryAt, id),
    );
  }
}

function toPending(r: Row): PendingRow {
  const parsed = JSON.parse(r.payload) as PendingChange & { attempt?: PendingAttempt };
  const { attempt, ...change } = parsed;
  return {
    id: r.id,
    accountId: r.account_id,
    change: change as PendingChange,
    attempt: attempt ?? null,
    attempts: r.attempts,
    nextAttempt: r.next_attempt,
    lastError: r.last_error,
    createdAt: r.created_at,
  };
}
