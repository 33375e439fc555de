/**
 * When the store copies its write-ahead log into the database (a WAL checkpoint), instead of
 * SQLite's fixed "every 128 pages" (wal_autocheckpoint).
 *
 * A checkpoint costs two fsyncs plus one copy of each distinct page in the log, and holds the
 * event loop for all of it. The fixed 128-page (2 MiB) threshold keeps that hold short when every
 * page is new (an import writing big bodies: 16 MiB held the loop 230-380 ms), but a single small
 * APPEND writes ~18 pages, most of them the same index pages again, so it checkpointed every 7th
 * APPEND and the fsyncs were a third of APPEND's time (1,000 APPENDs: 3.1 s of checkpoints at 128
 * pages, 1.1 s at ~512, measured). So the threshold adapts to what a checkpoint actually cost: it
 * doubles (up to 1,024 pages) while checkpoints stay short and halves (down to 128) when one is
 * long, and 128 pages *added* to the database since the last checkpoint (all distinct: the import
 * case) checkpoint at once whatever the threshold.
 *
 * The log's length is read from its file size: with journal_size_limit = 0 SQLite cuts the file to
 * the current transaction's end each time it starts the log again, so the size is the frames of
 * the current log. Checked after each commit of a write transaction, as SQLite's own checkpoint
 * would be (a loop of writes that never yields must not grow the log without bound), and in a turn
 * of its own after statements that commit by themselves and after a durable commit (its caller
 * answers first: see StoreDb.writeDurably); never inside a transaction.
 */
import { statSync } from 'node:fs';
import type { SqlDatabase, SqlStatement } from '../../native/sqlcipher.ts';

const MIN_PAGES = 128;
const MAX_PAGES = 1024;
/** A checkpoint shorter than this lets the threshold double; longer than LONG_MS halves it. */
const SHORT_MS = 20;
const LONG_MS = 50;
/** WAL file header and per-frame header sizes (SQLite file format, section 4). */
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

export class WalCheckpointer {
  readonly #db: SqlDatabase;
  readonly #walFile: string;
  readonly #frameSize: number;
  readonly #pageCount: SqlStatement<unknown[], number>;
  #threshold = MIN_PAGES;
  #pagesAtLast: number;
  #scheduled: NodeJS.Immediate | null = null;
  #holds = 0;
  /** The log as the last checkpoint found it. */
  #copied = { size: -1, mtimeMs: -1 };
  #closed = false;
  /** What the last checkpoints did (tests and the bench read it). */
  readonly stats = { checkpoints: 0, maxFrames: 0, longestMs: 0 };

  constructor(db: SqlDatabase) {
    this.#db = db;
    this.#walFile = `${db.name}-wal`;
    this.#frameSize = (db.pragma('page_size', { simple: true }) as number) + FRAME_HEADER;
    this.#pageCount = db.prepare('PRAGMA page_count').pluck() as SqlStatement<unknown[], number>;
    db.pragma('journal_size_limit = 0');
    db.pragma('wal_autocheckpoint = 0');
    this.#pagesAtLast = this.#pageCount.get()!;
  }

  get threshold(): number {
    return this.#threshold;
  }

  /** Something was written: look at the log's length in a turn of its own. */
  wrote(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = null;
      this.check();
    });
  }

  /** A look wrote() scheduled and whose turn has not come yet is taken now (before another write). */
  checkScheduled(): void {
    if (!this.#scheduled) return;
    clearImmediate(this.#scheduled);
    this.#scheduled = null;
    this.check();
  }

  /**
   * A look wrote() scheduled is taken now if the log is already past the top threshold: a loop of
   * background slices (StoreDb.writeSlice) that never yields keeps the log bounded, while one that
   * yields leaves the checkpoint to its own turn.
   */
  checkOverdue(): void {
    if (this.#scheduled && this.#log().frames >= MAX_PAGES) this.checkScheduled();
  }

  /** Checkpoints now if the log is long enough (or pages enough were added). */
  check(): void {
    if (this.#closed || this.#holds > 0 || this.#db.inTransaction) return;
    const log = this.#log();
    const { frames } = log;
    if (frames === 0) return;
    // nothing written to the log since the last checkpoint copied it (the file keeps its length
    // until the next write starts it again): another would copy nothing
    if (log.size === this.#copied.size && log.mtimeMs === this.#copied.mtimeMs) return;
    const added = this.#pageCount.get()! - this.#pagesAtLast;
    if (frames < this.#threshold && added < MIN_PAGES) return;
    const t0 = performance.now();
    this.#db.pragma('wal_checkpoint(PASSIVE)');
    const ms = performance.now() - t0;
    this.#copied = log;
    this.#pagesAtLast = this.#pageCount.get()!;
    this.stats.checkpoints++;
    this.stats.maxFrames = Math.max(this.stats.maxFrames, frames);
    this.stats.longestMs = Math.max(this.stats.longestMs, ms);
    this.adapt(ms);
  }

  /** The log file's length in frames, and its size and modification time. */
  #log(): { frames: number; size: number; mtimeMs: number } {
    const st = statSync(this.#walFile, { throwIfNoEntry: false });
    const size = st?.size ?? 0;
    return {
      frames: Math.max(0, Math.floor((size - WAL_HEADER) / this.#frameSize)),
      size,
      mtimeMs: st?.mtimeMs ?? 0,
    };
  }

  /** The threshold after a checkpoint that took `ms`. */
  adapt(ms: number): void {
    if (ms > LONG_MS) this.#threshold = Math.max(MIN_PAGES, this.#threshold / 2);
    else if (ms < SHORT_MS) this.#threshold = Math.min(MAX_PAGES, this.#threshold * 2);
  }

  /**
   * No checkpoint until the returned release is called (the database file must not change while
   * it is copied: see health.ts). The log grows meanwhile.
   */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.wrote();
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
  }
}
