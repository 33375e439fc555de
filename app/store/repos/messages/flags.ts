/**
 * Message flags: STORE (add / remove / replace, CONDSTORE's UNCHANGEDSINCE) and the queries that
 * select messages by their flag bits without reading rows into JavaScript.
 */
import type { FlagChange } from '../../change-feed.ts';
import { applyFlagOp, flagsToList, packFlags, type FlagOp } from '../../flags.ts';
import type { StoreDb } from '../../sql.ts';
import type { Origin, PendingChangesRepo } from '../pending-changes.ts';
import { bumpCounters, mailboxCounters, metaRows, remoteOf } from './rows.ts';

export interface StoreFlagsResult {
  /** Rows whose flags actually changed, with their new MODSEQ. */
  changed: FlagChange[];
  /** UIDs not changed because their MODSEQ was above unchangedSince (CONDSTORE). */
  modified: number[];
}

export class MessageFlags {
  readonly #s: StoreDb;
  readonly #pending: PendingChangesRepo;

  constructor(s: StoreDb, pending: PendingChangesRepo) {
    this.#s = s;
    this.#pending = pending;
  }

  /**
   * STORE FLAGS: add / remove / replace. With `unchangedSince` (CONDSTORE), messages whose MODSEQ
   * is greater are left alone and reported in `modified`. All changed rows share one new MODSEQ.
   */
  storeFlags(
    mailboxId: number,
    uids: readonly number[],
    op: FlagOp,
    flags: readonly string[],
    opts: { unchangedSince?: number; origin?: Origin },
  ): StoreFlagsResult {
    const origin = opts.origin ?? 'local';
    const change = packFlags(flags);
    return this.#s.write(() => {
      const mb = mailboxCounters(this.#s, mailboxId);
      const rows = metaRows(this.#s, mailboxId, uids);
      const modseq = mb.highestmodseq + 1;
      const changed: FlagChange[] = [];
      const modified: number[] = [];
      const upd = this.#s.prepare('UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE id = ?');
      for (const r of rows) {
        if (opts.unchangedSince !== undefined && r.modseq > opts.unchangedSince) {
          modified.push(r.uid);
          continue;
        }
        const next = applyFlagOp(op, r.flags, r.keywords, change);
        if (next.bits === r.flags && next.keywords === r.keywords) continue;
        upd.run(next.bits, next.keywords, modseq, r.id);
        const list = flagsToList(next.bits, next.keywords);
        changed.push({ uid: r.uid, flags: list, modseq });
        if (origin === 'local')
          this.#pending.enqueue(mb.account_id, {
            kind: 'flags',
            mailboxId,
            uid: r.uid,
            flags: list,
            remote: remoteOf(this.#s, r.id),
          });
      }
      if (changed.length) {
        bumpCounters(this.#s, mailboxId, mb.uidnext, modseq);
        this.#s.emit({ type: 'flags-changed', mailboxId, changes: changed });
      }
      return { changed, modified };
    });
  }

  /**
   * UIDs from..to (ascending) whose flag bits include all of `hasBits` and none of `lacksBits`:
   * the scan stays in SQLite, no row reaches JavaScript unless it matches.
   */
  uidsWithFlags(mailboxId: number, from: number, to: number, hasBits: number, lacksBits: number): number[] {
    return this.#s
      .prepare<number>(
        `SELECT uid FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ?
         AND (flags & ?) = ? AND (flags & ?) = 0 ORDER BY uid`,
      )
      .pluck(true)
      .all(mailboxId, from, to, hasBits, hasBits, lacksBits) as unknown as number[];
  }

  /** The lowest UID without \\Seen, or null: one seek of the index of unseen messages (migration 21). */
  firstUnseenUid(mailboxId: number): number | null {
    return (
      this.#s
        .prepare<{ uid: number }>(
          'SELECT uid FROM messages WHERE mailbox_id = ? AND (flags & 1) = 0 ORDER BY uid LIMIT 1',
        )
        .get(mailboxId)?.uid ?? null
    );
  }
}
