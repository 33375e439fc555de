/**
 * Full-text search: a contentless FTS5 trigram index narrows the candidates, each is then checked
 * exactly against the text re-derived from its raw bytes; messages still queued for indexing
 * (`fts_queue`) are checked directly, so results are always complete.
 */
import type { StoreDb } from '../../sql.ts';
import type { MessageBlobs } from './blobs.ts';
import type { BodyCache } from './body-cache.ts';
import { FTS_BYTES, ftsDocument, headerDocument, OFFLOAD_ABOVE, type FtsDoc } from './fts-doc.ts';
import { decodeParts } from './rows.ts';
import type { MimeWorkerPool } from './mime-worker-pool.ts';
import { TEXT_CAP } from '../../../mime/text-extract.ts';

export type TextScope = 'text' | 'body' | 'headers';

/** A message whose full-text document its caller derives elsewhere (see indexBatchWith). */
export interface OffloadedDoc {
  blobId: number;
  /** Its first FTS_BYTES (at least): what ftsDocument reads. */
  raw: Buffer;
}

/** Rows a search step reads at a time. */
const CHUNK = 512;
/**
 * The index's candidates (with the messages it cannot speak for) at most this many, and at most
 * 1/SPARSE_SHARE of the messages in the range: they are read by UID instead of walking every
 * message of the range in UID order (at 1,000,000 messages that walk alone took 0.5-0.9 s for a
 * needle found nowhere). A message read by UID costs about as much as 60-100 walked (a page of
 * the table read and decrypted: 512 lookups spread over 1,000,000 messages took 43-53 ms), and
 * the candidates are looked up in one statement: 2,000 hold the event loop ~170 ms at most.
 */
const SPARSE_AT_MOST = 2_000;
const SPARSE_SHARE = 64;
/** Rows a sparse search step reads at a time (by UID: ~11 ms for 128 at 1,000,000 messages). */
const SPARSE_CHUNK = 128;

/**
 * Blob-id bounds of a query on the FTS5 index, as integers: FTS5 applies a rowid bound only when
 * its value is an INTEGER (fts5GetRowidLimit), and a JavaScript number is bound as a REAL, which
 * it ignores — SQLite then filters every match of the whole index itself. Measured at 1,000,000
 * messages, a needle of 20 common trigrams: one message's check 385 ms -> 7 ms, a window of
 * 100,000 ids 360-490 ms -> 33-57 ms.
 */
const ROWID_FROM = 'rowid >= CAST(? AS INTEGER)';
const ROWID_TO = 'rowid < CAST(? AS INTEGER)';
/** Blob ids the first window of a search's index query covers, and the fewest any covers. */
const FIRST_WINDOW = 16_384;
const MIN_WINDOW = 1_024;

/** A search's turns of the event loop: `due()` yields one when a step's time is used up. */
class Turns {
  #mark: number;
  readonly #stepMs: number;

  constructor(stepMs: number, since: number) {
    this.#stepMs = stepMs;
    this.#mark = since;
  }

  *due(): Generator<SearchStep, void, void> {
    if (performance.now() - this.#mark < this.#stepMs) return;
    yield [];
    this.#mark = performance.now();
  }
}

export interface SearchStepOptions {
  /** Work per step (default: all in one step). */
  stepMs?: number;
  /** Which UIDs of the range to search (asked in ascending order); default all. */
  accept?: (uid: number) => boolean;
  /** false: yield the index's candidates unchecked. Default true. */
  exact?: boolean;
  /**
   * false: check every message exactly without asking the index (for a few messages: the index
   * query costs about as much for a few as for all). Default true.
   */
  useIndex?: boolean;
  /** false: walk every message of the range even when the index names few (tests). Default true. */
  sparse?: boolean;
  /** Read by UID up to 1/`sparseShare` of the range (tests: a small mailbox). Default SPARSE_SHARE. */
  sparseShare?: number;
  /** Blob ids the index query's first window covers (tests: a small index). Default FIRST_WINDOW. */
  firstWindow?: number;
  /**
   * true: the caller awaits a promise a step yields (see searchSteps), and the text of a candidate
   * whose first bytes are more than OFFLOAD_ABOVE is derived on the worker thread. Default false:
   * every text on this thread.
   */
  offload?: boolean;
  /**
   * Takes, in ascending order, the UIDs of the messages whose body is evicted (body cache) and
   * whose text the index cannot decide (see searchSteps); they are not among the UIDs found.
   * Ignored for the 'headers' scope and unchecked candidates.
   */
  undecided?: (uid: number) => void;
}

/** What a step of a search yields: the UIDs it found, or work to await before the next step. */
export type SearchStep = number[] | Promise<void>;

export class MessageFullText {
  readonly #s: StoreDb;
  readonly #blobs: MessageBlobs;

  readonly #pool: MimeWorkerPool;
  /** Takes in each body as it is indexed (body-cache.ts admitIndexed). */
  readonly #bodyCache: BodyCache;

  constructor(s: StoreDb, blobs: MessageBlobs, pool: MimeWorkerPool, bodyCache: BodyCache) {
    this.#s = s;
    this.#blobs = blobs;
    this.#pool = pool;
    this.#bodyCache = bodyCache;
  }

  /**
   * The document of a message from its first bytes, derived on the worker thread; derived here if
   * the worker fails (it should not: search must keep finding the message's words); null once the
   * store closed.
   */
  async ftsDocOffThread(raw: Buffer): Promise<FtsDoc | null> {
    try {
      return await this.#pool.doc(raw);
    } catch {
      return this.#pool.closed ? null : ftsDocument(raw);
    }
  }

  /** Sets of the searches running now: each gets the blobs indexBatch moves into the index. */
  readonly #indexedMeanwhile = new Set<Set<number>>();

  /**
   * Case-insensitive substring search (IMAP SEARCH TEXT / BODY and header text) over the messages
   * of a mailbox with a UID in `uidRange` (inclusive) that `accept` (called in ascending UID
   * order) takes, in steps: each step works about `stepMs` and yields the UIDs it found
   * (ascending, after those of the steps before), so that the caller can give the event loop a
   * turn in between. Time linear in the mailbox: one trigram query for the whole search narrows the
   * candidates, then the mailbox is walked once in UID order, each candidate checked exactly
   * against the text re-derived from its raw bytes; messages still queued for indexing are checked
   * too. With `exact` false, the candidates are yielded unchecked (a prefilter for a caller that
   * checks them itself). With `offload`, a step may yield a promise instead of UIDs: the text
   * of a big candidate being derived on the worker thread, which the caller awaits before it asks
   * for the next step. Between steps messages may come, go or be indexed: each step reads the rows
   * it works on afresh.
   *
   * A message whose body is evicted is decided from its kept header block and the index. The index
   * cannot decide its body text when the needle is shorter than 3 characters (no trigram), or
   * when the needle is not in the index and the message's text may reach beyond what was indexed
   * (partlyIndexed): such a message, unless its headers hold the needle (scope 'text'), goes to
   * `undecided` instead of being found or not.
   */
  *searchSteps(
    mailboxId: number,
    needle: string,
    scope: TextScope,
    uidRange: readonly [number, number],
    opts: SearchStepOptions = {},
  ): Generator<SearchStep, void, void> {
    const begun = performance.now();
    const stepMs = opts.stepMs ?? Infinity;
    const offloadAbove = opts.offload ? OFFLOAD_ABOVE : Infinity;
    /** Documents derived on the worker for this search, by blob. */
    const derived = new Map<number, FtsDoc>();
    const exact = opts.exact ?? true;
    const [lo, hi] = uidRange;
    const want = needle.toLowerCase();
    const grams = trigrams(want);
    // the index's candidates (null: every message is one, the needle is too short for trigrams)
    let indexed: BlobIds | null = null;
    const meanwhile = new Set<number>();
    const undecided = exact && scope !== 'headers' && want !== '' ? opts.undecided : undefined;
    try {
      const turns = new Turns(stepMs, begun);
      if (grams.length > 0 && opts.useIndex !== false) {
        this.#indexedMeanwhile.add(meanwhile);
        const query = grams.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
        indexed = new BlobIds();
        yield* this.#indexCandidates(query, indexed, stepMs, turns, opts.firstWindow ?? FIRST_WINDOW);
      }
      type Row = { uid: number; blob_id: number };
      const rows = this.#s.prepare<Row>(
        'SELECT uid, blob_id FROM messages WHERE mailbox_id = ? AND uid > ? AND uid <= ? ORDER BY uid LIMIT ?',
      );
      const queuedIn = this.#s
        .prepare<number>(
          'SELECT q.blob_id FROM messages m JOIN fts_queue q ON q.blob_id = m.blob_id WHERE m.mailbox_id = ? AND m.uid > ? AND m.uid <= ?',
        )
        .pluck();
      // evicted messages the index may hold only part of: looked at also when not candidates
      const bigEvictedIn = this.#s
        .prepare<number>(
          `SELECT m.blob_id FROM messages m JOIN body_cache c ON c.blob_id = m.blob_id
            JOIN message_blobs b ON b.id = m.blob_id
           WHERE m.mailbox_id = ? AND m.uid > ? AND m.uid <= ? AND c.evicted = 1 AND b.size > ?`,
        )
        .pluck();
      const sparse =
        indexed && opts.sparse !== false
          ? yield* this.#sparseVisit(
              mailboxId,
              indexed,
              lo,
              hi,
              undecided !== undefined,
              opts.sparseShare ?? SPARSE_SHARE,
              meanwhile,
              turns,
            )
          : null;
      const byUid = this.#s.prepare<Row>(
        'SELECT m.uid, m.blob_id FROM json_each(?) j CROSS JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value ORDER BY m.uid',
      );
      let next = 0; // sparse: where the UIDs to visit stand
      if (sparse) yield* turns.due();
      const chunkAfter = (after: number): Row[] => {
        if (!sparse) return rows.all(mailboxId, after, hi, CHUNK) as Row[];
        while (next < sparse.uids.length && sparse.uids[next]! <= after) next++;
        // read afresh: expunged meanwhile, they are not there any more
        for (; next < sparse.uids.length; next += SPARSE_CHUNK) {
          const c = byUid.all(
            JSON.stringify(sparse.uids.slice(next, next + SPARSE_CHUNK)),
            mailboxId,
          ) as Row[];
          if (c.length) return c;
        }
        return [];
      };
      let after = lo - 1;
      let started = performance.now();
      let found: number[] = [];
      for (;;) {
        const chunk = chunkAfter(after);
        if (chunk.length === 0) break;
        const last = chunk[chunk.length - 1]!.uid;
        const queued = sparse
          ? sparse.queued
          : indexed
            ? new Set(queuedIn.all(mailboxId, after, last) as unknown as number[])
            : null;
        const bigEvicted = sparse
          ? sparse.bigEvicted
          : indexed && undecided
            ? new Set(bigEvictedIn.all(mailboxId, after, last, TEXT_CAP) as unknown as number[])
            : null;
        let stepDone = false;
        let waitFor: Promise<void> | null = null;
        for (const { uid, blob_id: blobId } of chunk) {
          const accepted = !opts.accept || opts.accept(uid);
          const candidate =
            accepted && (!indexed || indexed.has(blobId) || queued!.has(blobId) || meanwhile.has(blobId));
          if (!candidate && accepted && bigEvicted?.has(blobId)) {
            // not in the index (nor in its headers, which the index holds whole), whose text of it
            // may be cut short
            if (this.#partlyIndexed(blobId)) undecided!(uid);
          } else if (candidate && exact && want !== '') {
            let doc: (FtsDoc & { evicted?: boolean }) | undefined = derived.get(blobId);
            if (!doc) {
              const raw = this.#blobs.rawPrefix(blobId, FTS_BYTES);
              if (raw !== null && raw.length > offloadAbove) {
                // derived on the worker: this message is checked again once its text is back
                waitFor = this.ftsDocOffThread(raw).then(
                  (d) => void derived.set(blobId, d ?? { headers: '', text: '' }), // null: the store closed
                );
                break;
              }
              doc = raw === null ? this.#evictedDoc(blobId) : ftsDocument(raw);
            }
            const indexHit = indexed
              ? indexed.has(blobId)
              : doc.evicted === true && grams.length > 0 && this.#indexHolds(blobId, grams);
            if (this.#docMatches(doc, want, scope, indexHit)) found.push(uid);
            else if (doc.evicted && undecided && (grams.length === 0 || this.#partlyIndexed(blobId)))
              undecided(uid);
          } else if (candidate) found.push(uid);
          after = uid;
          if (performance.now() - started >= stepMs) {
            stepDone = true;
            break;
          }
        }
        if (waitFor) {
          if (found.length) yield found;
          found = [];
          yield waitFor;
          started = performance.now();
        } else if (stepDone) {
          // the rest of this chunk is read again after the turn: it may have changed meanwhile
          yield found;
          found = [];
          started = performance.now();
        }
      }
      yield found;
    } finally {
      this.#indexedMeanwhile.delete(meanwhile);
    }
  }

  /**
   * The messages of the range a search must look at when the index names few: its candidates, the
   * messages still queued for the index or taken from the queue since the search began
   * (`meanwhile`), and (`evictedToo`) the big evicted ones the index may hold only part of — by
   * UID, ascending, with the queued and big evicted blobs; null when they are too many for that to
   * beat the walk (SPARSE_AT_MOST, SPARSE_SHARE). A turn now and then (`turns`).
   */
  *#sparseVisit(
    mailboxId: number,
    candidates: BlobIds,
    lo: number,
    hi: number,
    evictedToo: boolean,
    share: number,
    meanwhile: ReadonlySet<number>,
    turns: Turns,
  ): Generator<SearchStep, { uids: number[]; queued: Set<number>; bigEvicted: Set<number> | null } | null> {
    if (candidates.few === null) return null;
    type Row = { uid: number; blob_id: number };
    // (CROSS JOIN: the few named rows first; left to itself SQLite walked every message of the
    // mailbox against an empty queue, 236 ms at 1,000,000)
    const read = (sql: string, ...args: unknown[]): Row[] | null => {
      const r = this.#s.prepare<Row>(`${sql} LIMIT ?`).all(...args, SPARSE_AT_MOST + 1) as Row[];
      return r.length > SPARSE_AT_MOST ? null : r;
    };
    const queued = read(
      `SELECT m.uid, m.blob_id FROM fts_queue q CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = q.blob_id
        WHERE m.mailbox_id = ? AND m.uid >= ? AND m.uid <= ?`,
      mailboxId,
      lo,
      hi,
    );
    // with those the indexer took from the queue since the search began (after the index was
    // read for them, they may be in neither): read after the queue, so each is in one of the two
    const few = [...new Set([...candidates.few, ...meanwhile])];
    if (few.length > SPARSE_AT_MOST) return null;
    // the candidates a few at a time, a turn between when a step is used up (a lookup costs
    // ~85 us at 1,000,000 messages: 2,000 in one statement held the loop ~170 ms)
    const named: Row[] = [];
    const byBlob = this.#s.prepare<Row>(
      `SELECT m.uid, m.blob_id FROM json_each(?) j CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = j.value
        WHERE m.mailbox_id = ? AND m.uid >= ? AND m.uid <= ?`,
    );
    for (let i = 0; i < few.length; i += SPARSE_CHUNK) {
      for (const r of byBlob.all(JSON.stringify(few.slice(i, i + SPARSE_CHUNK)), mailboxId, lo, hi) as Row[])
        named.push(r);
      yield* turns.due();
    }
    // (no body evicted, the usual case: body_cache is not read)
    const anyEvicted =
      evictedToo &&
      (this.#s.prepare<number>('SELECT evicted FROM body_cache_totals WHERE id = 1').pluck().get() ?? 0) > 0;
    const evicted = anyEvicted
      ? read(
          `SELECT m.uid, m.blob_id FROM body_cache c CROSS JOIN message_blobs b ON b.id = c.blob_id
             CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = c.blob_id
            WHERE c.evicted = 1 AND b.size > ? AND m.mailbox_id = ? AND m.uid >= ? AND m.uid <= ?`,
          TEXT_CAP,
          mailboxId,
          lo,
          hi,
        )
      : [];
    if (!queued || !evicted) return null;
    const uids = [...new Set([...named, ...queued, ...evicted].map((r) => r.uid))].sort((a, b) => a - b);
    if (uids.length > SPARSE_AT_MOST) return null;
    // a share of the range at most (counted no further than that)
    const upTo = this.#s
      .prepare<number>(
        'SELECT count(*) FROM (SELECT 1 FROM messages WHERE mailbox_id = ? AND uid >= ? AND uid <= ? LIMIT ?)',
      )
      .pluck()
      .get(mailboxId, lo, hi, uids.length * share)!;
    if (upTo < uids.length * share) return null;
    return {
      uids,
      queued: new Set(queued.map((r) => r.blob_id)),
      bigEvicted: evictedToo ? new Set(evicted.map((r) => r.blob_id)) : null,
    };
  }

  /**
   * The index's candidates for `query` into `into`, in windows of blob ids (see ROWID_FROM) sized
   * to take about half a step each, with a turn of the event loop whenever a step's time is used
   * up. At 1,000,000 messages one query for a needle whose trigrams are in most messages held the
   * loop 370-650 ms; a window of 30,000 ids takes 11-14 ms. Without `stepMs`, one query.
   */
  *#indexCandidates(
    query: string,
    into: BlobIds,
    stepMs: number,
    turns: Turns,
    firstWindow: number,
  ): Generator<SearchStep, void, void> {
    const base = 'SELECT rowid FROM message_fts WHERE message_fts MATCH ?';
    const whole = this.#s.prepare<number>(`${base} AND ${ROWID_FROM}`).pluck();
    const window = this.#s.prepare<number>(`${base} AND ${ROWID_FROM} AND ${ROWID_TO}`).pluck();
    // (ids given after this are indexed meanwhile, if at all: the last window has no end)
    const top = Number.isFinite(stepMs)
      ? (this.#s.prepare<number>('SELECT max(id) FROM message_blobs').pluck().get() ?? 0)
      : 0;
    let from = 0;
    let width = firstWindow;
    for (;;) {
      const t0 = performance.now();
      const last = from + width > top;
      const ids = (last
        ? whole.all(query, from)
        : window.all(query, from, from + width)) as unknown as number[];
      for (const id of ids) into.add(id);
      const took = performance.now() - t0;
      yield* turns.due();
      if (last) return;
      from += width;
      // aimed at half a step: widened at most 8-fold (a needle's trigrams may thicken further on)
      const aim = (width * stepMs) / 2 / Math.max(took, 0.05);
      width = Math.max(MIN_WINDOW, Math.min(width * 8, Math.round(aim)));
    }
  }

  /** searchSteps in one go: the matching UIDs, ascending. */
  searchText(
    mailboxId: number,
    needle: string,
    scope: TextScope,
    uidRange: readonly [number, number],
  ): number[] {
    const out: number[] = [];
    for (const found of this.searchSteps(mailboxId, needle, scope, uidRange))
      if (Array.isArray(found)) for (const u of found) out.push(u); // (no promise without `offload`)
    return out;
  }

  /**
   * Whether a message's text holds `want`. A message whose body is evicted (body cache) is checked
   * exactly in its header block; its body text only through the index (`indexHit`: every trigram
   * of the needle is in its indexed text or headers — the index (detail=none) cannot tell the
   * columns apart, so a BODY search may also name an evicted message whose headers hold them).
   */
  #docMatches(
    doc: FtsDoc & { evicted?: boolean },
    want: string,
    scope: TextScope,
    indexHit: boolean,
  ): boolean {
    if (doc.evicted) {
      if (scope !== 'body' && doc.headers.toLowerCase().includes(want)) return true;
      return scope !== 'headers' && indexHit;
    }
    const hay =
      scope === 'body' ? doc.text : scope === 'headers' ? doc.headers : doc.headers + '\n' + doc.text;
    return hay.toLowerCase().includes(want);
  }

  /** Messages waiting to be added to the full-text index. */
  ftsBacklog(): number {
    return this.#s.prepare<{ n: number }>('SELECT count(*) AS n FROM fts_queue').get()!.n;
  }

  /**
   * Moves up to `limit` queued messages into the FTS index (one transaction); returns how many.
   * With `budgetMs`, stops after the message that used the budget up (big messages one by one).
   */
  indexBatch(limit: number, budgetMs: number): number {
    return this.indexBatchWith(limit, budgetMs, {}).indexed;
  }

  /**
   * indexBatch, with documents derived elsewhere: `docs` (by blob id; those no longer queued are
   * dropped) are used as they are, and the batch stops before a queued message whose first bytes
   * are more than `offloadAbove` without one in `docs`, and hands it back (`offload`) for the
   * caller to derive off the event loop and give in the next batch.
   */
  indexBatchWith(
    limit: number,
    budgetMs: number,
    opts: { docs?: ReadonlyMap<number, FtsDoc>; offloadAbove?: number },
  ): { indexed: number; offload: OffloadedDoc | null } {
    const started = performance.now();
    const offloadAbove = opts.offloadAbove ?? Infinity;
    return this.#s.writeSlice(() => {
      const ids = this.#s
        .prepare<number>('SELECT blob_id FROM fts_queue ORDER BY blob_id LIMIT ?')
        .pluck()
        .all(limit) as unknown as number[];
      const ins = this.#s.prepare('INSERT INTO message_fts (rowid, headers, text) VALUES (?, ?, ?)');
      const del = this.#s.prepare('DELETE FROM fts_queue WHERE blob_id = ?');
      let n = 0;
      let offload: OffloadedDoc | null = null;
      for (const id of ids) {
        let doc = opts.docs?.get(id);
        if (!doc) {
          const raw = this.#blobs.rawPrefix(id, FTS_BYTES);
          if (raw !== null && raw.length > offloadAbove) {
            offload = { blobId: id, raw };
            break;
          }
          // (an evicted body is never queued: it was indexed before it was evicted)
          doc = raw === null ? this.#evictedDoc(id) : ftsDocument(raw);
        }
        ins.run(id, doc.headers, doc.text);
        this.#bodyCache.admitIndexed(id);
        del.run(id);
        for (const meanwhile of this.#indexedMeanwhile) meanwhile.add(id);
        n++;
        if (performance.now() - started >= budgetMs) break;
      }
      return { indexed: n, offload };
    });
  }

  /**
   * Whether the index holds every trigram of the needle for one message (an evicted one checked
   * without the index query over all messages: a search among a few).
   */
  #indexHolds(blobId: number, grams: readonly string[]): boolean {
    const query = grams.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
    // a range, not `rowid = ?`: on this contentless detail=none table, MATCH with `rowid = ?`
    // answers the row whether it matches or not (measured; a rowid range filters right). Its
    // bounds as integers: see ROWID_FROM.
    return (
      this.#s
        .prepare<number>(
          `SELECT 1 FROM message_fts WHERE message_fts MATCH ? AND ${ROWID_FROM} AND ${ROWID_TO}`,
        )
        .pluck()
        .get(query, blobId, blobId + 1) === 1
    );
  }

  /**
   * Whether the index may hold only part of a message's text (fts-doc.ts: the text parts that
   * start in its first FTS_BYTES, at most TEXT_CAP characters): some text part (or encapsulated
   * message, counted whole) ends beyond FTS_BYTES, or their bytes add up to more than TEXT_CAP (a
   * part's text has no more characters than its encoded bytes). A message of TEXT_CAP bytes or less
   * is held whole.
   */
  #partlyIndexed(blobId: number): boolean {
    const r = this.#s
      .prepare<{ size: number; parts: string }>('SELECT size, parts FROM message_blobs WHERE id = ?')
      .get(blobId);
    if (!r) return false; // gone meanwhile: nothing to search
    if (r.size <= TEXT_CAP) return false;
    let bytes = 0;
    for (const p of decodeParts(r.parts)) {
      if (p.section === '' || !/^(text|message)\//.test(p.contentType)) continue;
      if (p.bodyEnd > FTS_BYTES) return true;
      bytes += p.bodyEnd - p.bodyStart + 1; // and the line break after each
    }
    return bytes > TEXT_CAP;
  }

  /** The document of a message whose body is evicted: its header block, which is kept. */
  #evictedDoc(blobId: number): FtsDoc & { evicted: true } {
    return { headers: headerDocument(this.#blobs.header(blobId)), text: '', evicted: true };
  }
}

/** The distinct trigrams of a (lowercased) needle, by code point, as the trigram tokenizer makes them. */
function trigrams(s: string): string[] {
  const cps = [...s];
  const out = new Set<string>();
  for (let i = 0; i + 3 <= cps.length; i++) out.add(cps.slice(i, i + 3).join(''));
  return [...out];
}

/**
 * A search's candidates: blob ids as a bitmap (at 1,000,000 candidates a Set of them cost ~40 MB
 * and 100+ ms to build; this, 125 KB), listed too while at most SPARSE_AT_MOST.
 */
class BlobIds {
  #bits = new Uint8Array(8192);
  #few: number[] | null = [];

  /** The ids in the order added while they are at most SPARSE_AT_MOST; null once more. */
  get few(): readonly number[] | null {
    return this.#few;
  }

  add(id: number): void {
    const i = Math.floor(id / 8);
    if (i >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const bit = 1 << (id & 7);
    if ((this.#bits[i]! & bit) !== 0) return;
    this.#bits[i]! |= bit;
    if (this.#few !== null) {
      if (this.#few.length < SPARSE_AT_MOST) this.#few.push(id);
      else this.#few = null;
    }
  }

  has(id: number): boolean {
    const i = Math.floor(id / 8);
    return i < this.#bits.length && (this.#bits[i]! & (1 << (id & 7))) !== 0;
  }
}
