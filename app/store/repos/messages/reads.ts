/**
 * Reading a mailbox's messages: single rows, UID lists, metadata streams, the FETCH batch read
 * (only the columns asked for, one statement per batch) and QRESYNC's expunged UIDs.
 */
import { flagsToList, SYSTEM_FLAGS } from '../../flags.ts';
import type { StoreDb } from '../../sql.ts';
import { joinChunks, RAW_EVICTED, splitRaw } from '../raw-codec.ts';
import type { BodyCache } from './body-cache.ts';
import type { BodyChunks } from './body-chunks.ts';
import {
  contiguous,
  decodeBody,
  decodeEnvelope,
  decodeParts,
  HEADER_COL_COUNT,
  HEADER_COLS,
  headersFromArray,
  META_COLS,
  metaFrom,
  metaRows,
  sortedUnique,
  type FetchedRow,
  type MessageMeta,
  type MetaRow,
} from './rows.ts';

/** What a FETCH batch reads besides the metadata (see MessageReads.fetchRows). */
export interface FetchWant {
  analysis?: boolean;
  headers?: boolean;
  head?: boolean;
  summary?: boolean;
  raw?: boolean;
  /** With `raw`: a body stored in chunks comes as `lazyRaw`, to be read a chunk at a time. */
  lazy?: boolean;
  /** The message's EMAILID. */
  emailId?: boolean;
  /** The message's THREADID. */
  threadId?: boolean;
}

/**
 * The UID, MODSEQ and flags of messages, a column each (MessageReads.flagColumns): row i is
 * `uids[i]`, `modseqs[i]`, `flags[i]`.
 */
export interface FlagColumns {
  uids: number[];
  modseqs: number[];
  /**
   * The flags as IMAP names (flagsToList's order). Frozen and shared: rows with the same flags have
   * the same array, also from one call to the next (while the store has at most FLAG_SETS kinds).
   */
  flags: Array<readonly string[]>;
}

/** Distinct sets of flags with keywords kept for sharing (then the cache starts over). */
const FLAG_SETS = 4096;

/** The 32 sets of system flags alone, by bitmask. */
const BITS_ONLY: ReadonlyArray<readonly string[]> = Array.from(
  { length: 1 << SYSTEM_FLAGS.length },
  (_, bits) => Object.freeze(flagsToList(bits, '')),
);

export class MessageReads {
  readonly #s: StoreDb;
  readonly #chunks: BodyChunks;
  readonly #cache: BodyCache;

  /** Shared flag lists with keywords (flagColumns), by bitmask and keywords. */
  readonly #flagSets = new Map<string, readonly string[]>();

  constructor(s: StoreDb, chunks: BodyChunks, cache: BodyCache) {
    this.#s = s;
    this.#chunks = chunks;
    this.#cache = cache;
  }

  get(mailboxId: number, uid: number): MessageMeta | null {
    const r = this.#s
      .prepare<MetaRow>(`SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.uid = ?`)
      .get(mailboxId, uid);
    return r ? metaFrom(r) : null;
  }

  /** All UIDs in ascending order. */
  uids(mailboxId: number): number[] {
    return this.#s
      .prepare<number>('SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid')
      .pluck()
      .all(mailboxId) as unknown as number[];
  }

  /**
   * All UIDs in ascending order, as SELECT's sequence view, read without a JavaScript value per
   * message: at 1,000,000 messages the rows as numbers, then a Uint32Array of them, took most of a
   * 250 ms SELECT. From the mailbox's maintained count and its first and last UID (two seeks):
   * when at most half of the range first..last is missing, the missing UIDs are the expunged ones
   * (expunge_log; a UID is never given again, so none there is present) if the log has exactly
   * that many in the range — the range is filled around them; without gaps no row is read.
   * Otherwise the UIDs are read as one string (#uidList). First SELECT in a fresh process, 1,000,000
   * messages: no gaps 295 -> 15 ms, 10 % expunged 480 -> 32 ms, read as a string (gaps not logged)
   * 475 -> 214 ms (with the first unseen found by its index, flags.ts).
   */
  uidView(mailboxId: number): Uint32Array {
    const ends = this.#s
      .prepare<[number, number | null, number | null]>(
        `SELECT n_messages, (SELECT min(uid) FROM messages WHERE mailbox_id = b.id),
           (SELECT max(uid) FROM messages WHERE mailbox_id = b.id) FROM mailboxes b WHERE b.id = ?`,
      )
      .raw(true)
      .get(mailboxId);
    if (!ends || ends[1] === null || ends[2] === null) return new Uint32Array(0);
    const [n, lo, hi] = ends as [number, number, number];
    const gaps = hi - lo + 1 - n;
    if (gaps <= n) {
      const missing = this.#uidList(
        'SELECT count(*), group_concat(uid) FROM (SELECT uid FROM expunge_log WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid)',
        mailboxId,
        lo,
        hi,
      );
      if (missing.length === gaps) {
        const out = new Uint32Array(n);
        let k = 0;
        let uid = lo;
        for (const gap of missing) {
          while (uid < gap) out[k++] = uid++;
          uid = gap + 1;
        }
        while (uid <= hi) out[k++] = uid++;
        return out;
      }
    }
    return this.#uidList(
      'SELECT count(*), group_concat(uid) FROM (SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid)',
      mailboxId,
    );
  }

  /**
   * The UIDs of `SELECT count(*), group_concat(uid) FROM (... ORDER BY uid)` — one decimal string
   * in the subquery's order (an ORDER BY inside group_concat sorts: 2.5 x slower, measured), parsed
   * here: 100,000 UIDs in 8-10 ms against 17-37 ms as rows (iterate() into the array: 35-40 ms).
   */
  #uidList(sql: string, ...args: number[]): Uint32Array {
    const [count, text] = this.#s
      .prepare<[number, string | null]>(sql)
      .raw(true)
      .get(...args)!;
    const out = new Uint32Array(count);
    if (text === null) return out;
    let k = 0;
    let v = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 44) {
        out[k++] = v;
        v = 0;
      } else v = v * 10 + c - 48;
    }
    out[k] = v;
    return out;
  }

  /** Streams (uid, flags, modseq, ...) for a UID range, in UID order, without building an array. */
  *iterateMeta(mailboxId: number, fromUid: number, toUid: number): Generator<MessageMeta> {
    const it = this.#s
      .prepare<MetaRow>(
        `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
      )
      .iterate(mailboxId, fromUid, toUid);
    for (const r of it) yield metaFrom(r);
  }

  /** Meta rows for the given UIDs (missing ones skipped), in UID order. */
  metaFor(mailboxId: number, uids: readonly number[]): MessageMeta[] {
    return metaRows(this.#s, mailboxId, uids).map(metaFrom);
  }

  /**
   * FETCH of UID / FLAGS / MODSEQ only: those of the messages `uids` (ascending, unique; missing
   * ones skipped), with a MODSEQ above `changedSince` when given, as columns — no object, no
   * array per message (a FLAGS fetch of 1,000,000 messages made 2,000,000 objects). UIDs that are
   * mostly consecutive (at least half of the range between the first and the last) are read as
   * one range of the UID index, the ones in between not asked for passed over.
   */
  flagColumns(mailboxId: number, uids: ArrayLike<number>, changedSince: number | null): FlagColumns {
    const out: FlagColumns = { uids: [], modseqs: [], flags: [] };
    const n = uids.length;
    if (n === 0) return out;
    const first = uids[0]!;
    const last = uids[n - 1]!;
    const since = changedSince === null ? '' : ' AND m.modseq > ?';
    const byRange = last - first < 2 * n;
    const list = byRange ? null : JSON.stringify(Array.from(uids));
    const rows = (
      byRange
        ? this.#s
            .prepare<unknown[]>(
              `SELECT m.uid, m.modseq, m.flags, m.keywords FROM messages m WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ?${since} ORDER BY m.uid`,
            )
            .raw(true)
            .all(mailboxId, first, last, ...(changedSince === null ? [] : [changedSince]))
        : // CROSS JOIN: the UID list drives, each a primary-key lookup (see fetchRows)
          this.#s
            .prepare<unknown[]>(
              `SELECT m.uid, m.modseq, m.flags, m.keywords FROM json_each(?) j CROSS JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value${since} ORDER BY m.uid`,
            )
            .raw(true)
            .all(list, mailboxId, ...(changedSince === null ? [] : [changedSince]))
    ) as Array<[number, number, number, string]>;
    let at = 0; // the next of `uids` a row may be
    for (const r of rows) {
      const uid = r[0];
      if (byRange) {
        while (at < n && uids[at]! < uid) at++;
        if (at === n || uids[at] !== uid) continue; // in the range, not asked for
      }
      out.uids.push(uid);
      out.modseqs.push(r[1]);
      out.flags.push(r[3] === '' ? BITS_ONLY[r[2]]! : this.#flagSet(r[2], r[3]));
    }
    return out;
  }

  #flagSet(bits: number, keywords: string): readonly string[] {
    const key = bits + ' ' + keywords;
    let set = this.#flagSets.get(key);
    if (set === undefined) {
      if (this.#flagSets.size >= FLAG_SETS) this.#flagSets.clear();
      set = Object.freeze(flagsToList(bits, keywords));
      this.#flagSets.set(key, set);
    }
    return set;
  }

  /** QRESYNC: UIDs expunged after modseq. */
  expungedSince(mailboxId: number, modseq: number): number[] {
    return this.#s
      .prepare<number>('SELECT uid FROM expunge_log WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
      .pluck()
      .all(mailboxId, modseq) as unknown as number[];
  }

  /**
   * FETCH rows for the given UIDs (missing ones skipped), ascending, reading only the columns
   * asked for: `analysis` = ENVELOPE/BODYSTRUCTURE/BODY/parts, `headers` = the header index,
   * `head` = the raw header block (without reading the body), `summary` = only the summary
   * fields' lines of it (enough for HEADER.FIELDS of those fields; the header block itself when
   * it has no other field, blobs.ts's summaryOf), `raw` = the whole raw message
   * (read in the same query as the metadata: one statement per batch, not one per message),
   * `emailId` / `threadId` = the message's EMAILID / THREADID. With `lazy`, a body stored in chunks is not read: the row
   * carries `lazyRaw` instead of `raw` (FETCH of a 20 MB message reads it a chunk at a time).
   */
  fetchRows(mailboxId: number, uids: readonly number[], want: FetchWant): FetchedRow[] {
    if (uids.length === 0) return [];
    const sorted = sortedUnique(uids);
    // Rows come as arrays (cheaper than objects); columns: META_COLS (0..8), then each group asked for.
    let cols = META_COLS;
    let at = 9;
    const analysisAt = want.analysis ? at : -1;
    if (want.analysis) {
      cols += ', b.envelope, b.body_structure, b.body, b.parts';
      at += 4;
    }
    const headersAt = want.headers ? at : -1;
    if (want.headers) {
      cols += ', ' + HEADER_COLS;
      at += HEADER_COL_COUNT;
    }
    const emailIdAt = want.emailId ? at++ : -1;
    if (want.emailId) cols += ', b.email_id';
    const threadIdAt = want.threadId ? at++ : -1;
    if (want.threadId) cols += ', b.thread_id';
    // Whole messages come as one blob, head || stored body (one Buffer per row, not two: creating
    // Buffers dominates this read); || on blobs copies their bytes as they are.
    // Header blocks (whole, or the summary's) come as one blob for the whole batch, with their
    // lengths as one list, from a second statement: one Buffer per row cost more than reading
    // the rows themselves, and the rows' statement does not join the header table at all.
    const heads = want.raw ? null : want.head ? 'message_heads' : want.summary ? 'message_summaries' : null;
    // no summary row: the header block is the summary (coalesce reads it only then)
    const headOf =
      heads === 'message_summaries'
        ? 'coalesce(h.head, (SELECT x.head FROM message_heads x WHERE x.blob_id = m.blob_id))'
        : 'h.head';
    if (want.raw) cols += ', CAST(h.head || mr.body AS BLOB), length(h.head), mr.compression, mr.chunks';
    let join =
      want.analysis || want.headers || want.emailId || want.threadId
        ? ' JOIN message_blobs b ON b.id = m.blob_id'
        : '';
    if (want.raw) join += ' JOIN message_heads h ON h.blob_id = m.blob_id';
    if (want.raw) join += ' JOIN message_raw mr ON mr.blob_id = m.blob_id';
    const byRange = contiguous(sorted);
    const where = byRange
      ? ` WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ?`
      : // CROSS JOIN: the UID list drives, each a primary-key lookup; the planner otherwise scanned
        // the whole mailbox per batch (256 scattered UIDs of 1,000,000 messages: 21 s)
        ` CROSS JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value`;
    const base = byRange ? 'FROM messages m' : 'FROM json_each(?) j';
    const from = byRange ? `${base}${join}${where}` : `${base}${where}${join}`;
    const params = byRange
      ? [mailboxId, sorted[0], sorted[sorted.length - 1]]
      : [JSON.stringify(sorted), mailboxId];
    const read = (): { rows: unknown[][]; block: unknown[] | null } => ({
      rows: this.#s
        .prepare<unknown[]>(`SELECT ${cols} ${from} ORDER BY m.uid`)
        .raw(true)
        .all(...params) as unknown[][],
      // group_concat(.. ORDER BY) sorts in a temp b-tree; an ordered subquery is a co-routine
      // that the index already feeds in UID order (half the cost, measured). A LEFT JOIN keeps
      // one length per row: a missing block shows as a missing length, never as shifted headers.
      block: heads
        ? (this.#s
            .prepare<unknown[]>(
              `SELECT CAST(group_concat(head, '') AS BLOB), group_concat(coalesce(length(head), -1)), count(*) FROM (SELECT ${headOf} AS head ${byRange ? base : base + where} LEFT JOIN ${heads} h ON h.blob_id = m.blob_id${byRange ? where : ''} ORDER BY m.uid)`,
            )
            .raw(true)
            .get(...params) as unknown[])
        : null,
    });
    // both statements see the same snapshot
    const { rows, block: blockRow } = heads ? this.#s.db.transaction(read)() : read();
    const block = blockRow ? ((blockRow[0] as Buffer | null) ?? Buffer.alloc(0)) : null;
    const lengths = blockRow ? String(blockRow[1] ?? '').split(',') : null;
    if (lengths && (blockRow![2] as number) !== rows.length)
      throw new Error('header blocks do not match their rows');
    let blockAt = 0;
    const out: FetchedRow[] = new Array<FetchedRow>(rows.length);
    // the bodies read, for the body cache's least-recently-read order (written in batches)
    const bodiesRead: number[] | null = want.raw && this.#cache.budget !== null ? [] : null;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const o: FetchedRow = {
        id: r[0] as number,
        uid: r[1] as number,
        modseq: r[2] as number,
        flags: flagsToList(r[3] as number, r[4] as string),
        internalDate: r[5] as number,
        size: r[6] as number,
        blobId: r[7] as number,
        savedAt: r[8] as number,
      };
      if (analysisAt >= 0) {
        o.envelope = decodeEnvelope(r[analysisAt] as string);
        o.bodyStructure = r[analysisAt + 1] as string;
        o.body = decodeBody(r[analysisAt + 2] as string, o.bodyStructure);
        o.parts = decodeParts(r[analysisAt + 3] as string);
      }
      if (headersAt >= 0) o.headers = headersFromArray(r, headersAt);
      if (emailIdAt >= 0) o.emailId = r[emailIdAt] as string;
      if (threadIdAt >= 0) o.threadId = r[threadIdAt] as string;
      if (want.raw) {
        const headLength = r[at + 1] as number;
        const chunks = r[at + 3] as number | null;
        o.headLength = headLength;
        if ((r[at + 2] as number) === RAW_EVICTED) {
          o.evicted = true;
          if (want.head || want.summary) o.head = (r[at] as Buffer).subarray(0, headLength);
          out[i] = o;
          continue;
        }
        bodiesRead?.push(o.blobId);
        if (chunks !== null && want.lazy) {
          const head = (r[at] as Buffer).subarray(0, headLength);
          o.lazyRaw = this.#chunks.lazy(chunks, head, o.size);
          if (want.head || want.summary) o.head = head;
          out[i] = o;
          continue;
        }
        o.raw =
          chunks === null
            ? splitRaw(r[at] as Buffer, headLength, r[at + 2] as number)
            : joinChunks((r[at] as Buffer).subarray(0, headLength), this.#chunks.read(chunks));
        if (want.head || want.summary) o.head = o.raw.subarray(0, headLength);
      } else if (block) {
        const len = Number(lengths![i]);
        if (!(len >= 0)) throw new Error(`the header block of message ${o.uid} is missing`);
        o.head = block.subarray(blockAt, blockAt + len);
        blockAt += len;
      }
      out[i] = o;
    }
    if (block && blockAt !== block.length) throw new Error('header blocks do not match their rows');
    if (bodiesRead?.length) this.#cache.noteRead(bodiesRead);
    return out;
  }
}
