/**
 * Small read/write queries the sync engine needs that the store's repos do not offer. Takes the
 * store's StoreDb handle only; every write goes through its transaction helper.
 */
import type { StoreDb } from '../store/sql.ts';

export interface MappedMessage {
  messageId: number;
  mailboxId: number;
  uid: number;
  remoteUidValidity: number;
  remoteUid: number;
  contentHash: Buffer | null;
  messageIdHeader: string | null;
  blobId: number;
}

interface MappedRow {
  message_id: number;
  mailbox_id: number;
  uid: number;
  remote_uidvalidity: number;
  remote_uid: number;
  content_hash: Buffer | null;
  mid: string | null;
  blob_id: number;
}

export class SyncQueries {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  /** Every local message mapped to a remote mailbox (any UIDVALIDITY), by remote UID. */
  mappedIn(accountId: number, remoteMailbox: string): MappedMessage[] {
    return this.#s
      .prepare<MappedRow>(
        `SELECT r.message_id, m.mailbox_id, m.uid, r.remote_uidvalidity, r.remote_uid, r.content_hash,
                b.message_id AS mid, m.blob_id
         FROM remote_map r JOIN messages m ON m.id = r.message_id JOIN message_blobs b ON b.id = m.blob_id
         WHERE r.account_id = ? AND r.remote_mailbox = ? ORDER BY r.remote_uid`,
      )
      .all(accountId, remoteMailbox)
      .map((r: MappedRow) => ({
        messageId: r.message_id,
        mailboxId: r.mailbox_id,
        uid: r.uid,
        remoteUidValidity: r.remote_uidvalidity,
        remoteUid: r.remote_uid,
        contentHash: r.content_hash,
        messageIdHeader: r.mid,
        blobId: r.blob_id,
      }));
  }

  /** Remote UIDs already mapped within [from, to] for one remote mailbox + UIDVALIDITY. */
  mappedUids(
    accountId: number,
    remoteMailbox: string,
    uidValidity: number,
    from: number,
    to: number,
  ): Set<number> {
    const rows = this.#s
      .prepare<number>(
        `SELECT remote_uid FROM remote_map WHERE account_id = ? AND remote_mailbox = ? AND remote_uidvalidity = ?
         AND remote_uid BETWEEN ? AND ?`,
      )
      .pluck()
      .all(accountId, remoteMailbox, uidValidity, from, to) as unknown as number[];
    return new Set(rows);
  }

  /** The local message row (id, blob) for (mailbox, uid). */
  message(
    mailboxId: number,
    uid: number,
  ): { id: number; blobId: number; flags: number; keywords: string; internalDate: number } | null {
    const r = this.#s
      .prepare<{ id: number; blob_id: number; flags: number; keywords: string; internal_date: number }>(
        'SELECT id, blob_id, flags, keywords, internal_date FROM messages WHERE mailbox_id = ? AND uid = ?',
      )
      .get(mailboxId, uid);
    return r
      ? { id: r.id, blobId: r.blob_id, flags: r.flags, keywords: r.keywords, internalDate: r.internal_date }
      : null;
  }

  /** Is any local change still queued for this message? (Local changes win over remote ones.) */
  hasPending(accountId: number, mailboxId: number, uid: number): boolean {
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

  /** Any queued change for this account at all? */
  pendingCount(accountId: number): number {
    return (
      this.#s
        .prepare<{ n: number }>('SELECT count(*) AS n FROM pending_changes WHERE account_id = ?')
        .get(accountId)?.n ?? 0
    );
  }

  /** A provider-side RENAME keeps UIDs: move mappings and sync state to the new name (and children). */
  renameRemote(accountId: number, oldName: string, newName: string, delimiter: string): void {
    this.#s.write(() => {
      const prefix = oldName + delimiter;
      this.#s
        .prepare(
          `UPDATE remote_map SET remote_mailbox = ? || substr(remote_mailbox, ?)
           WHERE account_id = ? AND (remote_mailbox = ? OR substr(remote_mailbox, 1, ?) = ?)`,
        )
        .run(newName, oldName.length + 1, accountId, oldName, prefix.length, prefix);
      this.#s
        .prepare(
          `UPDATE OR REPLACE sync_state SET remote_mailbox = ? || substr(remote_mailbox, ?)
           WHERE account_id = ? AND (remote_mailbox = ? OR substr(remote_mailbox, 1, ?) = ?)`,
        )
        .run(newName, oldName.length + 1, accountId, oldName, prefix.length, prefix);
      this.#s
        .prepare(
          `UPDATE mailboxes SET remote_name = ? || substr(remote_name, ?)
           WHERE account_id = ? AND (remote_name = ? OR substr(remote_name, 1, ?) = ?)`,
        )
        .run(newName, oldName.length + 1, accountId, oldName, prefix.length, prefix);
    });
  }

  /** Local messages of a mailbox that are not (yet) on the provider. */
  unmappedCount(mailboxId: number): number {
    return (
      this.#s
        .prepare<{ n: number }>(
          'SELECT count(*) AS n FROM messages m LEFT JOIN remote_map r ON r.message_id = m.id WHERE m.mailbox_id = ? AND r.message_id IS NULL',
        )
        .get(mailboxId)?.n ?? 0
    );
  }

  /** Number of local messages mapped to a remote mailbox. */
  mappedCount(accountId: number, remoteMailbox: string): number {
    return (
      this.#s
        .prepare<{ n: number }>(
          'SELECT count(*) AS n FROM remote_map WHERE account_id = ? AND remote_mailbox = ?',
        )
        .get(accountId, remoteMailbox)?.n ?? 0
    );
  }
}
