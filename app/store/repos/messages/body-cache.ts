/**
 * The bounded body cache (issue 20, migration 15): when the stored body bytes exceed the budget
 * the user set, the bodies of the least recently read messages are dropped — only the body bytes:
 * the message row, flags, RFC822.SIZE, ENVELOPE/BODYSTRUCTURE, header block, summary fields,
 * full-text index entry and provider mapping stay, so what is served about the message never
 * changes and its body can be fetched again from the provider (app/sync/body-fetch.ts).
 *
 * Never evicted: a body whose message is not at the provider (no provider mapping: local APPENDs
 * and imports not uploaded yet, copies not replayed yet), one of a message with a queued local
 * change (append, flags, expunge), one not yet in the full-text index, and Drafts. The outbox keeps
 * its own bytes (outbox table) and is never touched.
 *
 * Reads are noted in memory (a FETCH does not write) and written as `read_at` in batches before
 * each eviction run. Eviction runs in the background in steps of about STEP_MS of work, one
 * transaction each (StoreDb.writeSlice: a checkpoint it makes due is taken in a turn of its own),
 * with the event loop free in between.
 */
import { BackgroundTurn, type ForegroundWork } from '../../../shared/foreground.ts';
import { silentLogger, type Logger } from '../../../shared/logger.ts';
import type { StoreDb } from '../../sql.ts';
import { RAW_EVICTED } from '../raw-codec.ts';
import type { BodyChunks } from './body-chunks.ts';

export interface BodyCacheStatus {
  /** Stored (packed) body bytes of the messages whose body is local. */
  storedBytes: number;
  /** The budget, null when every body is kept (the default). */
  budgetBytes: number | null;
  /** Messages' bodies dropped from the cache (fetched again from the provider when asked for). */
  evicted: number;
}

/** Work per eviction step (one transaction), and the pause between two steps. */
const STEP_MS = 20;
const STEP_PAUSE_MS = 2;
/** Candidates read per query, and reads noted before they are written at once. */
const CANDIDATES = 64;
const READS_FLUSH_AT = 4096;
const RECHECK_MS = 60_000;

const EMPTY = Buffer.alloc(0);

export class BodyCache {
  readonly #s: StoreDb;
  readonly #chunks: BodyChunks;
  readonly #logger: Logger;
  #budget: number | null = null;
  /** blob id → when it was last read (ms), not yet written. */
  readonly #reads = new Map<number, number>();
  /**
   * The same for bodies read before they were indexed (no body_cache row yet, migration 19):
   * written when the indexer admits them (admitIndexed).
   */
  readonly #readsBeforeIndexed = new Map<number, number>();
  #timer: NodeJS.Timeout | null = null;
  /** Looks again now and then: bodies kept for a queued change may be evicted once it is replayed. */
  #interval: NodeJS.Timeout | null = null;
  #stopped = false;
  /** Where the running eviction walk stands (read_at, blob id): the next step goes on from there. */
  #cursor: [number, number] | null = null;

  /** A local client's command being answered goes first (see shared/foreground.ts). */
  readonly #turn: BackgroundTurn;

  constructor(s: StoreDb, chunks: BodyChunks, logger: Logger = silentLogger, foreground?: ForegroundWork) {
    this.#s = s;
    this.#chunks = chunks;
    this.#logger = logger;
    this.#turn = new BackgroundTurn(foreground);
  }

  /** Sets the budget in bytes (null: keep every body) and starts evicting when it is exceeded. */
  setBudget(bytes: number | null): void {
    this.#budget = bytes === null ? null : Math.max(0, Math.floor(bytes));
    if (this.#budget === null) {
      if (this.#interval) clearInterval(this.#interval);
      this.#interval = null;
      this.#reads.clear();
      this.#readsBeforeIndexed.clear();
    } else if (!this.#interval && !this.#stopped) {
      this.#interval = setInterval(() => this.kick(), RECHECK_MS);
      this.#interval.unref();
    }
    this.kick();
  }

  get budget(): number | null {
    return this.#budget;
  }

  status(): BodyCacheStatus {
    // the bodies not yet indexed have no body_cache row: their sizes wait in the queue (migration 19)
    const r = this.#s
      .prepare<{ stored: number; evicted: number }>(
        `SELECT stored + (SELECT coalesce(sum(bytes), 0) FROM fts_queue) AS stored, evicted
           FROM body_cache_totals WHERE id = 1`,
      )
      .get();
    return { storedBytes: r?.stored ?? 0, budgetBytes: this.#budget, evicted: r?.evicted ?? 0 };
  }

  /** Whether a blob's body is evicted (not stored locally). */
  isEvicted(blobId: number): boolean {
    return (
      this.#s.prepare<number>('SELECT evicted FROM body_cache WHERE blob_id = ?').pluck().get(blobId) === 1
    );
  }

  /** The blobs' bodies were read now (a FETCH of their bytes): remembered, written in batches. */
  noteRead(blobIds: Iterable<number>): void {
    if (this.#budget === null) return;
    const now = Date.now();
    for (const id of blobIds) this.#reads.set(id, now);
    if (this.#reads.size >= READS_FLUSH_AT) this.kick();
  }

  /** Writes the reads noted so far, READS_FLUSH_AT at most (one transaction). */
  flushReads(): void {
    if (this.#reads.size === 0) return;
    const rows: Array<[number, number]> = [];
    for (const r of this.#reads) {
      rows.push(r);
      this.#reads.delete(r[0]);
      if (rows.length === READS_FLUSH_AT) break;
    }
    this.#s.writeSlice(() => {
      const up = this.#s.prepare('UPDATE body_cache SET read_at = max(read_at, ?) WHERE blob_id = ?');
      const queued = this.#s.prepare<number>('SELECT 1 FROM fts_queue WHERE blob_id = ?').pluck();
      for (const [id, at] of rows)
        if (up.run(at, id).changes === 0 && queued.get(id) === 1) this.#readsBeforeIndexed.set(id, at);
    });
  }

  /**
   * A body just added to the full-text index joins the body cache (inside the indexer's
   * transaction, before its queue row is deleted): until then its size waited in the queue row
   * (migration 19). A queue row from before migration 19 (no size) has its body_cache row already.
   */
  admitIndexed(blobId: number): void {
    const readAt = this.#readsBeforeIndexed.get(blobId) ?? 0;
    this.#readsBeforeIndexed.delete(blobId);
    this.#s
      .prepare(
        `INSERT INTO body_cache (blob_id, read_at, bytes, evicted)
           SELECT q.blob_id, max(coalesce(b.date, 0), ?), q.bytes, mr.compression = ${RAW_EVICTED}
             FROM fts_queue q JOIN message_blobs b ON b.id = q.blob_id JOIN message_raw mr ON mr.blob_id = q.blob_id
            WHERE q.blob_id = ? AND q.bytes IS NOT NULL
         ON CONFLICT (blob_id) DO NOTHING`,
      )
      .run(readAt, blobId);
  }

  /**
   * Evicts, least recently read first, the bodies that may be evicted until the stored bytes are
   * within the budget or about `budgetMs` of work is done (one transaction); the next step goes on
   * where this one stopped. Returns a positive number while there is more to do (how many were
   * evicted, at least 1); 0 when within the budget or nothing more may be evicted.
   */
  evictStep(budgetMs = STEP_MS): number {
    const budget = this.#budget;
    if (budget === null) return 0;
    this.flushReads();
    const started = performance.now();
    let evicted = 0;
    let more = false;
    this.#s.writeSlice(() => {
      let stored = this.status().storedBytes;
      if (stored <= budget) return;
      const pending = this.#pendingMessages();
      type Candidate = { blob_id: number; read_at: number; bytes: number };
      const candidates = this.#s.prepare<Candidate>(
        `SELECT blob_id, read_at, bytes FROM body_cache INDEXED BY body_cache_lru
          WHERE evicted = 0 AND (read_at, blob_id) > (?, ?)
            AND NOT EXISTS (SELECT 1 FROM fts_queue q WHERE q.blob_id = body_cache.blob_id)
          ORDER BY read_at, blob_id LIMIT ?`,
      );
      type Copy = { mailbox_id: number; uid: number; mapped: number; special_use: string | null };
      const copies = this.#s.prepare<Copy>(
        `SELECT m.mailbox_id, m.uid, r.message_id IS NOT NULL AS mapped, x.special_use
           FROM messages m JOIN mailboxes x ON x.id = m.mailbox_id
           LEFT JOIN remote_map r ON r.message_id = m.id WHERE m.blob_id = ?`,
      );
      const drop = this.#s.prepare(
        `UPDATE message_raw SET compression = ${RAW_EVICTED}, body = ?, chunks = NULL WHERE blob_id = ?`,
      );
      let after: [number, number] = this.#cursor ?? [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
      for (;;) {
        const batch = candidates.all(after[0], after[1], CANDIDATES) as Candidate[];
        if (batch.length === 0) return;
        for (const c of batch) {
          if (performance.now() - started >= budgetMs) {
            // the next step goes on with this candidate
            this.#cursor = after;
            more = true;
            return;
          }
          after = [c.read_at, c.blob_id];
          const ms = copies.all(c.blob_id) as Copy[];
          const keep =
            ms.length === 0 ||
            ms.some(
              (m) => !m.mapped || m.special_use === '\\Drafts' || pending.has(`${m.mailbox_id}:${m.uid}`),
            );
          if (keep) continue;
          drop.run(EMPTY, c.blob_id);
          stored -= c.bytes;
          evicted++;
          if (stored <= budget) return;
        }
      }
    });
    if (!more) this.#cursor = null; // the walk ended: the next run starts from the least recently read
    if (evicted) this.#chunks.kick();
    return more ? Math.max(evicted, 1) : evicted;
  }

  /** The body was fetched again and is being served: it counts as read now. */
  touch(blobId: number): void {
    this.#reads.set(blobId, Date.now());
  }

  /** Schedules an eviction run (a no-op without a budget or when one is scheduled). */
  kick(after = STEP_PAUSE_MS): void {
    if (this.#stopped || this.#timer || this.#budget === null) return;
    this.#timer = setTimeout(() => this.#step(), after);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#interval) clearInterval(this.#interval);
    this.#timer = this.#interval = null;
  }

  #step(): void {
    this.#timer = null;
    if (this.#stopped) return;
    const wait = this.#turn.waitMs();
    if (wait > 0) {
      this.kick(wait);
      return;
    }
    let n: number;
    try {
      n = this.evictStep();
    } catch (err) {
      this.#logger.warn({ err }, 'evicting message bodies from the cache failed; will retry');
      this.kick(1000);
      return;
    }
    if (n > 0) this.kick();
  }

  /** "mailboxId:uid" of every message with a queued local change. */
  #pendingMessages(): Set<string> {
    type Row = { mb: number | null; uid: number | null };
    const rows = this.#s
      .prepare<Row>(
        `SELECT payload ->> '$.mailboxId' AS mb, payload ->> '$.uid' AS uid FROM pending_changes
          WHERE kind IN ('append', 'flags', 'expunge')`,
      )
      .all() as Row[];
    return new Set(rows.map((r) => `${r.mb}:${r.uid}`));
  }
}
