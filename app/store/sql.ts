/**
 * StoreDb: the open database plus a prepared-statement cache and the write-transaction helper
 * that queues change-feed events and emits them only after the outermost commit.
 */
import type { SqlDatabase, SqlStatement } from '../../native/sqlcipher.ts';
import { DiskFullError, isDiskFull } from '../shared/errors.ts';
import { WalCheckpointer } from './wal-checkpoint.ts';
import type { ChangeFeed, StoreEvent, StoreEventBody } from './change-feed.ts';

/**
 * The key under which a Store hands its StoreDb to app/store's own modules (health, cache hold,
 * keyring). Nothing outside app/store imports this module, so the database and its raw handle
 * stay inside the store (npm run layering checks it); tests reach them through test/helpers.
 */
export const STORE_SQL = Symbol('store sql');

/**
 * The key under which a Store hands app/store's own modules a copy of its data key (the integrity
 * check opens a copy of the encrypted database with it, on a worker thread: see health.ts). The
 * caller zeroes the copy when done.
 */
export const STORE_KEY = Symbol('store key');

export class StoreDb {
  readonly db: SqlDatabase;
  readonly feed: ChangeFeed;
  readonly #stmts = new Map<string, SqlStatement>();
  #pending: StoreEvent[] | null = null;
  #actor: object | undefined;
  /**
   * Changes whenever the database may have changed: at every statement that can write (handed out
   * by prepare) and at the end of every write(), committed or rolled back, nested or not. A cache of
   * rows is current while this number is the one it was filled at.
   */
  generation = 0;
  /** Called once when the store closes, before the database does (work that must stop first). */
  readonly closing = new Set<() => void>();
  /** Set while the last write failed because the disk is full (the sentence for the user). */
  diskFull: string | null = null;
  readonly #diskFullMessage: () => string;
  /** Copies the write-ahead log into the database when it is long enough (see wal-checkpoint.ts). */
  readonly checkpoints: WalCheckpointer;
  /** Set during writeDurably: the commit's checkpoint check waits for a turn of its own. */
  #checkpointLater = false;

  constructor(db: SqlDatabase, feed: ChangeFeed, diskFullMessage: () => string = () => 'the disk is full') {
    this.db = db;
    this.feed = feed;
    this.#diskFullMessage = diskFullMessage;
    this.checkpoints = new WalCheckpointer(db);
    this.closing.add(() => this.checkpoints.close());
  }

  /**
   * A cached prepared statement, in its default mode (rows as objects): a caller that wants
   * `.raw()` or `.pluck()` sets it on each use, so two callers sharing one SQL text never see
   * each other's mode.
   */
  prepare<R = unknown>(sql: string): SqlStatement<unknown[], R> {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    } else if (s.reader) {
      s.raw(false);
      s.pluck(false);
    }
    if (!s.readonly) {
      this.generation++;
      if (!this.#pending) {
        // a write outside write(), committed when the caller runs it: checked at the next
        // statement like it, or in a turn of its own
        this.checkpoints.check();
        this.checkpoints.wrote();
      }
    }
    return s as SqlStatement<unknown[], R>;
  }

  /**
   * Runs fn in a write transaction (BEGIN IMMEDIATE). Nested calls become savepoints of the outer
   * transaction. Events queued with emit() are delivered after the outermost COMMIT, dropped on
   * rollback.
   */
  write<T>(fn: () => T): T {
    if (this.#pending) {
      const mark = this.#pending.length;
      try {
        return this.db.transaction(fn)();
      } catch (err) {
        this.#pending.length = mark;
        throw err;
      } finally {
        this.generation++;
      }
    }
    this.#pending = [];
    let events: StoreEvent[];
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
      events = this.#pending;
      this.diskFull = null;
      if (this.#checkpointLater) this.checkpoints.wrote();
      else this.checkpoints.check();
    } catch (err) {
      // SQLite rolled the transaction back: nothing half-written. Say which disk, once, here.
      if (!isDiskFull(err) || err instanceof DiskFullError) throw err;
      this.diskFull = this.#diskFullMessage();
      throw new DiskFullError(this.diskFull, { cause: err });
    } finally {
      this.#pending = null;
      this.generation++;
    }
    for (const e of events) this.feed.emit(e);
    return result;
  }

  /**
   * write(), with this one commit flushed to disk before it returns (synchronous=FULL for it; the
   * store otherwise runs WAL with synchronous=NORMAL, durable against a crash of the process but
   * not of the machine). For the records a promise to someone else rests on.
   *
   * The commit's own flush keeps that promise, so no WAL checkpoint stands between it and the
   * caller's answer (the SMTP 250): the look at the log after this commit is taken in a turn of
   * its own, and one still waiting for its turn is taken before the transaction (a loop of such
   * writes that never yields still keeps the log bounded).
   */
  writeDurably<T>(fn: () => T): T {
    if (this.#pending) return this.write(fn); // inside a transaction: its outermost commit decides
    this.checkpoints.checkScheduled();
    const previous = this.db.pragma('synchronous', { simple: true }) as number;
    this.db.pragma('synchronous = FULL');
    try {
      return this.writeSlice(fn);
    } finally {
      this.db.pragma(`synchronous = ${Number(previous) || 1}`);
    }
  }

  /**
   * write() for one slice of a background job (a full-text index batch, an eviction step): the
   * look at the log after its commit is taken in a turn of its own, so a client's command that
   * came in meanwhile is read between the two holds of the event loop (at 150,000 messages an
   * index batch's commit and the checkpoint it made due held it 128-185 ms in one turn, 41-97 ms
   * of it the checkpoint; measured). A look still waiting for its turn is taken before the
   * transaction only once the log is past the top threshold: a loop of slices that never yields
   * keeps the log bounded.
   */
  writeSlice<T>(fn: () => T): T {
    if (this.#pending) return this.write(fn);
    this.checkpoints.checkOverdue();
    this.#checkpointLater = true;
    try {
      return this.write(fn);
    } finally {
      this.#checkpointLater = false;
    }
  }

  /** Queues an event for after commit (or emits at once outside a transaction). */
  emit(body: StoreEventBody): void {
    const event: StoreEvent = this.#actor ? { ...body, actor: this.#actor } : body;
    if (this.#pending) this.#pending.push(event);
    else this.feed.emit(event);
  }

  /** Runs fn with `actor` attached to every event it emits (synchronous fn only). */
  as<T>(actor: object | undefined, fn: () => T): T {
    const prev = this.#actor;
    this.#actor = actor;
    try {
      return fn();
    } finally {
      this.#actor = prev;
    }
  }

  get inWrite(): boolean {
    return this.#pending !== null;
  }
}
