/**
 * Adding and removing messages: insert (with consecutive UIDs), copy and move (sharing the stored
 * bytes), expunge and remove. Each write is one transaction, takes one new MODSEQ for the mailbox,
 * queues its change-feed event and, for local changes, the pending remote ops.
 */
import { joinKeywords, packFlags } from '../../flags.ts';
import type { StoreDb } from '../../sql.ts';
import type { Origin, PendingChangesRepo } from '../pending-changes.ts';
import type { MessageBlobs } from './blobs.ts';
import {
  bumpCounters,
  mailboxCounters,
  META_COLS,
  metaRows,
  remoteOf,
  type MetaRow,
  type NewMessage,
} from './rows.ts';
import type { RemoteLink } from './rows.ts';

export interface InsertResult {
  id: number;
  uid: number;
  modseq: number;
}

export class MessageWrites {
  readonly #s: StoreDb;
  readonly #pending: PendingChangesRepo;
  readonly #blobs: MessageBlobs;

  constructor(s: StoreDb, pending: PendingChangesRepo, blobs: MessageBlobs) {
    this.#s = s;
    this.#pending = pending;
    this.#blobs = blobs;
  }

  /** Inserts many messages in ONE transaction (callers batch ~500) with consecutive UIDs. */
  insertBatch(mailboxId: number, msgs: readonly NewMessage[], origin: Origin): InsertResult[] {
    if (msgs.length === 0) return [];
    return this.#s.write(() => {
      const mb = mailboxCounters(this.#s, mailboxId);
      const modseq = mb.highestmodseq + 1;
      let uid = mb.uidnext;
      const now = Date.now();
      const out: InsertResult[] = [];
      for (const m of msgs) {
        const blobId = this.#blobs.insert(m.raw, m.analysis, m.sha256, m.packedBody);
        const f = packFlags(m.flags ?? []);
        const id = Number(
          this.#s
            .prepare(
              `INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              mailboxId,
              uid,
              modseq,
              f.bits,
              joinKeywords(f.keywords),
              Math.trunc(m.internalDate ?? now),
              m.raw.length,
              blobId,
              now,
            ).lastInsertRowid,
        );
        if (m.remote) this.#mapRemote(id, mb.account_id, m.remote);
        if (origin === 'local') this.#pending.enqueue(mb.account_id, { kind: 'append', mailboxId, uid });
        out.push({ id, uid, modseq });
        uid++;
      }
      bumpCounters(this.#s, mailboxId, uid, modseq);
      this.#s.emit({ type: 'messages-added', mailboxId, uids: out.map((r) => r.uid), modseq });
      return out;
    });
  }

  /** Copies messages (sharing their raw blob); returns [sourceUid, newUid] pairs in UID order. */
  copy(
    srcMailboxId: number,
    uids: readonly number[],
    dstMailboxId: number,
    origin: Origin,
  ): Array<[number, number]> {
    return this.#s.write(() => {
      const src = mailboxCounters(this.#s, srcMailboxId);
      const dst = mailboxCounters(this.#s, dstMailboxId);
      const rows = metaRows(this.#s, srcMailboxId, uids);
      if (rows.length === 0) return [];
      const modseq = dst.highestmodseq + 1;
      let uid = dst.uidnext;
      // a copy keeps the internal date and is saved into the target now
      const now = Date.now();
      const pairs: Array<[number, number]> = [];
      for (const r of rows) {
        this.#s
          .prepare(
            `INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(dstMailboxId, uid, modseq, r.flags, r.keywords, r.internal_date, r.size, r.blob_id, now);
        if (origin === 'local') {
          // Where the original is on the same provider, the provider copies it (same bytes).
          const source = src.account_id === dst.account_id ? remoteOf(this.#s, r.id) : null;
          this.#pending.enqueue(dst.account_id, {
            kind: 'append',
            mailboxId: dstMailboxId,
            uid,
            ...(source ? { source } : {}),
          });
        }
        pairs.push([r.uid, uid]);
        uid++;
      }
      bumpCounters(this.#s, dstMailboxId, uid, modseq);
      this.#s.emit({ type: 'messages-added', mailboxId: dstMailboxId, uids: pairs.map((p) => p[1]), modseq });
      return pairs;
    });
  }

  /** COPY + expunge of the sources, atomically; returns [sourceUid, newUid] pairs. */
  move(
    srcMailboxId: number,
    uids: readonly number[],
    dstMailboxId: number,
    origin: Origin,
  ): Array<[number, number]> {
    return this.#s.write(() => {
      const pairs = this.copy(srcMailboxId, uids, dstMailboxId, origin);
      this.remove(
        srcMailboxId,
        pairs.map((p) => p[0]),
        origin,
      );
      return pairs;
    });
  }

  /** IMAP EXPUNGE / UID EXPUNGE: removes the \Deleted messages (within `uids` if given). */
  expunge(mailboxId: number, uids: readonly number[] | undefined, origin: Origin): number[] {
    return this.#s.write(() => {
      const candidates = uids
        ? metaRows(this.#s, mailboxId, uids).filter((r) => r.flags & 8)
        : this.#s
            .prepare<MetaRow>(
              `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND (m.flags & 8) != 0 ORDER BY m.uid`,
            )
            .all(mailboxId);
      return this.#removeRows(mailboxId, candidates, origin);
    });
  }

  /** Removes messages whatever their flags (sync, MOVE); returns the UIDs removed. */
  remove(mailboxId: number, uids: readonly number[], origin: Origin): number[] {
    return this.#s.write(() => this.#removeRows(mailboxId, metaRows(this.#s, mailboxId, uids), origin));
  }

  /** Records where a local message lives on the provider (after sync uploaded it). */
  setRemote(messageId: number, accountId: number, remote: RemoteLink): void {
    this.#s.write(() => this.#mapRemote(messageId, accountId, remote));
  }

  #mapRemote(messageId: number, accountId: number, r: RemoteLink): void {
    // a new place of the same message keeps what it looked like at the provider unless told anew
    this.#s
      .prepare(
        `INSERT INTO remote_map (message_id, account_id, remote_mailbox, remote_uidvalidity, remote_uid, content_hash,
           remote_size, remote_head)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(message_id) DO UPDATE SET remote_mailbox = excluded.remote_mailbox,
           remote_uidvalidity = excluded.remote_uidvalidity, remote_uid = excluded.remote_uid,
           content_hash = excluded.content_hash,
           remote_size = coalesce(excluded.remote_size, remote_size),
           remote_head = coalesce(excluded.remote_head, remote_head)`,
      )
      .run(
        messageId,
        accountId,
        r.remoteMailbox,
        r.uidvalidity,
        r.uid,
        r.contentHash ?? null,
        r.identity?.size ?? null,
        r.identity?.head ?? null,
      );
  }

  #removeRows(mailboxId: number, rows: readonly MetaRow[], origin: Origin): number[] {
    if (rows.length === 0) return [];
    const mb = mailboxCounters(this.#s, mailboxId);
    const modseq = mb.highestmodseq + 1;
    const del = this.#s.prepare('DELETE FROM messages WHERE id = ?');
    const log = this.#s.prepare(
      'INSERT INTO expunge_log (mailbox_id, uid, modseq) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET modseq = excluded.modseq',
    );
    for (const r of rows) {
      if (origin === 'local')
        this.#pending.enqueue(mb.account_id, {
          kind: 'expunge',
          mailboxId,
          uid: r.uid,
          remote: remoteOf(this.#s, r.id),
        });
      del.run(r.id);
      log.run(mailboxId, r.uid, modseq);
    }
    bumpCounters(this.#s, mailboxId, mb.uidnext, modseq);
    const uids = rows.map((r) => r.uid);
    this.#s.emit({ type: 'messages-expunged', mailboxId, uids, modseq });
    return uids;
  }
}
