/** The mapping between local messages and the provider's (remote mailbox, UIDVALIDITY, UID). */
import type { StoreDb } from '../sql.ts';

export interface RemoteMapping {
  messageId: number;
  mailboxId: number;
  uid: number;
  remoteMailbox: string;
  remoteUidValidity: number;
  remoteUid: number;
  contentHash: Buffer | null;
}

/** A mapping with what sync compares a provider message against (its Message-ID, the stored blob). */
export interface MappedMessage {
  messageId: number;
  mailboxId: number;
  uid: number;
  remoteUidValidity: number;
  remoteUid: number;
  contentHash: Buffer | null;
  messageIdHeader: string | null;
  blobId: number;
  /** RFC822.SIZE and BODY[HEADER] digest at the provider when stored (null before schema 17) */
  remoteSize: number | null;
  remoteHead: Buffer | null;
}

interface Row {
  message_id: number;
  mailbox_id: number;
  uid: number;
  remote_mailbox: string;
  remote_uidvalidity: number;
  remote_uid: number;
  content_hash: Buffer | null;
}

const COLS =
  'r.message_id, m.mailbox_id, m.uid, r.remote_mailbox, r.remote_uidvalidity, r.remote_uid, r.content_hash';

function fromRow(r: Row): RemoteMapping {
  return {
    messageId: r.message_id,
    mailboxId: r.mailbox_id,
    uid: r.uid,
    remoteMailbox: r.remote_mailbox,
    remoteUidValidity: r.remote_uidvalidity,
    remoteUid: r.remote_uid,
    contentHash: r.content_hash,
  };
}

export class RemoteMapRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  find(
    accountId: number,
    remoteMailbox: string,
    uidvalidity: number,
    remoteUid: number,
  ): RemoteMapping | null {
    const r = this.#s
      .prepare<Row>(
        `SELECT ${COLS} FROM remote_map r JOIN messages m ON m.id = r.message_id
         WHERE r.account_id = ? AND r.remote_mailbox = ? AND r.remote_uidvalidity = ? AND r.remote_uid = ?`,
      )
      .get(accountId, remoteMailbox, uidvalidity, remoteUid);
    return r ? fromRow(r) : null;
  }

  forMessage(messageId: number): RemoteMapping | null {
    const r = this.#s
      .prepare<Row>(
        `SELECT ${COLS} FROM remote_map r JOIN messages m ON m.id = r.message_id WHERE r.message_id = ?`,
      )
      .get(messageId);
    return r ? fromRow(r) : null;
  }

  /** Every mapping of one remote mailbox, by remote UID. */
  *iterate(accountId: number, remoteMailbox: string): Generator<RemoteMapping> {
    const it = this.#s
      .prepare<Row>(
        `SELECT ${COLS} FROM remote_map r JOIN messages m ON m.id = r.message_id
         WHERE r.account_id = ? AND r.remote_mailbox = ? ORDER BY r.remote_uid`,
      )
      .iterate(accountId, remoteMailbox);
    for (const r of it) yield fromRow(r);
  }

  /** Every local message mapped to a remote mailbox (any UIDVALIDITY), by remote UID. */
  inRemoteMailbox(accountId: number, remoteMailbox: string): MappedMessage[] {
    type MappedRow = Row & {
      mid: string | null;
      blob_id: number;
      remote_size: number | null;
      remote_head: Buffer | null;
    };
    return this.#s
      .prepare<MappedRow>(
        `SELECT ${COLS}, b.message_id AS mid, m.blob_id, r.remote_size, r.remote_head
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
        remoteSize: r.remote_size,
        remoteHead: r.remote_head,
      }));
  }

  /** Remote UIDs already mapped within [from, to] for one remote mailbox + UIDVALIDITY. */
  remoteUidsIn(
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

  /**
   * The same UIDs in ascending order, as 4 bytes each: for a folder-wide comparison (a million UIDs
   * in a Set were ~20 MB of heap, here 4 MB).
   */
  sortedRemoteUidsIn(
    accountId: number,
    remoteMailbox: string,
    uidValidity: number,
    from: number,
    to: number,
  ): Uint32Array {
    let out = new Uint32Array(1024);
    let n = 0;
    const it = this.#s
      .prepare<number>(
        `SELECT remote_uid FROM remote_map WHERE account_id = ? AND remote_mailbox = ? AND remote_uidvalidity = ?
         AND remote_uid BETWEEN ? AND ? ORDER BY remote_uid`,
      )
      .pluck()
      .iterate(accountId, remoteMailbox, uidValidity, from, to) as unknown as Iterable<number>;
    for (const uid of it) {
      if (n === out.length) {
        const grown = new Uint32Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out[n++] = uid;
    }
    return out.subarray(0, n);
  }

  /** Number of local messages mapped to a remote mailbox. */
  countIn(accountId: number, remoteMailbox: string): number {
    return (
      this.#s
        .prepare<{ n: number }>(
          'SELECT count(*) AS n FROM remote_map WHERE account_id = ? AND remote_mailbox = ?',
        )
        .get(accountId, remoteMailbox)?.n ?? 0
    );
  }

  /** Local messages of a mailbox that are not (yet) on the provider. */
  localOnlyCount(mailboxId: number): number {
    return (
      this.#s
        .prepare<{ n: number }>(
          'SELECT count(*) AS n FROM messages m LEFT JOIN remote_map r ON r.message_id = m.id WHERE m.mailbox_id = ? AND r.message_id IS NULL',
        )
        .get(mailboxId)?.n ?? 0
    );
  }

  /**
   * The provider renamed a mailbox (UIDs stay): the mappings, the sync state and the local
   * mailboxes' remote names follow it, children included.
   */
  followRemoteRename(accountId: number, oldName: string, newName: string, delimiter: string): void {
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

  /** Of these RFC822.SIZEs, those a provider message of the account had when sync stored it. */
  knownSizes(accountId: number, sizes: Iterable<number>): Set<number> {
    const q = this.#s
      .prepare<number>('SELECT 1 FROM remote_map WHERE account_id = ? AND remote_size = ? LIMIT 1')
      .pluck();
    const out = new Set<number>();
    for (const n of new Set(sizes)) if (q.get(accountId, n) !== undefined) out.add(n);
    return out;
  }

  /**
   * Local messages of the account stored from a provider message of this RFC822.SIZE and header
   * block (SHA-256 of BODY[HEADER]), oldest first: the same message seen again under another UID.
   */
  findByIdentity(accountId: number, size: number, head: Buffer, limit = 20): RemoteMapping[] {
    return this.#s
      .prepare<Row>(
        `SELECT ${COLS} FROM remote_map r JOIN messages m ON m.id = r.message_id
          WHERE r.account_id = ? AND r.remote_size = ? AND r.remote_head = ? ORDER BY r.message_id LIMIT ?`,
      )
      .all(accountId, size, head, limit)
      .map(fromRow);
  }

  /** Forgets a mapping (e.g. the remote UIDVALIDITY changed). */
  unmap(messageId: number): void {
    this.#s.write(() => this.#s.prepare('DELETE FROM remote_map WHERE message_id = ?').run(messageId));
  }
}
