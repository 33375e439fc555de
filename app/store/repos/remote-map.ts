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

  /** Forgets a mapping (e.g. the remote UIDVALIDITY changed). */
  unmap(messageId: number): void {
    this.#s.write(() => this.#s.prepare('DELETE FROM remote_map WHERE message_id = ?').run(messageId));
  }
}
