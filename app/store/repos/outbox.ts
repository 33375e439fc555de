/** The durable outbox: a message is accepted (SMTP 250) only once it is committed here. */
import type { StoreDb } from '../sql.ts';

export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed';

export interface OutboxEnvelope {
  from: string;
  to: string[];
  [extra: string]: unknown;
}

export interface OutboxRecord {
  id: number;
  accountId: number;
  envelope: OutboxEnvelope;
  state: OutboxState;
  attempts: number;
  nextAttempt: number;
  lastError: string | null;
  createdAt: number;
  size: number;
}

interface Row {
  id: number;
  account_id: number;
  envelope: string;
  state: OutboxState;
  attempts: number;
  next_attempt: number;
  last_error: string | null;
  created_at: number;
  size: number;
}

const COLS = 'id, account_id, envelope, state, attempts, next_attempt, last_error, created_at, size';

function fromRow(r: Row): OutboxRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    envelope: JSON.parse(r.envelope) as OutboxEnvelope,
    state: r.state,
    attempts: r.attempts,
    nextAttempt: r.next_attempt,
    lastError: r.last_error,
    createdAt: r.created_at,
    size: r.size,
  };
}

export class OutboxRepo {
  readonly #s: StoreDb;
  constructor(s: StoreDb) {
    this.#s = s;
  }

  /** Durably queues a message; returns its id once committed. */
  enqueue(accountId: number, envelope: OutboxEnvelope, raw: Buffer): number {
    return this.#s.write(() => {
      const now = Date.now();
      const res = this.#s
        .prepare(
          "INSERT INTO outbox (account_id, envelope, size, state, next_attempt, created_at) VALUES (?, ?, ?, 'queued', ?, ?)",
        )
        .run(accountId, JSON.stringify(envelope), raw.length, now, now);
      const id = Number(res.lastInsertRowid);
      // the bytes live apart so that state changes never rewrite them
      this.#s.prepare('INSERT INTO outbox_raw (id, raw) VALUES (?, ?)').run(id, raw);
      return id;
    });
  }

  /**
   * Queues every copy of one submission in one commit that is on disk before this returns (the
   * SMTP 250 promises it; see StoreDb.writeDurably); returns their ids.
   */
  enqueueDurably(
    accountId: number,
    copies: ReadonlyArray<{ envelope: OutboxEnvelope; raw: Buffer }>,
    opts: { replaces?: number } = {},
  ): number[] {
    return this.#s.writeDurably(() => {
      const ids = copies.map((c) => this.enqueue(accountId, c.envelope, c.raw));
      // a message sent again from the outbox: its old item goes in the same commit as the new
      // copies (removed after them, so that no new copy takes over its id)
      if (opts.replaces !== undefined) this.remove(opts.replaces);
      return ids;
    });
  }

  /**
   * Keeps a submission that was refused (e.g. encryption required and a key missing) as a
   * 'failed' item with its reason, so the user can act on it in the outbox. Never relayed: the
   * relay takes 'queued' items only, and such an item is only ever sent again through the
   * submission pipeline (which replaces it).
   */
  recordRefused(accountId: number, envelope: OutboxEnvelope, raw: Buffer, error: string): number {
    return this.#s.write(() => {
      const now = Date.now();
      const res = this.#s
        .prepare(
          "INSERT INTO outbox (account_id, envelope, size, state, next_attempt, created_at, last_error) VALUES (?, ?, ?, 'failed', ?, ?, ?)",
        )
        .run(accountId, JSON.stringify(envelope), raw.length, now, now, error);
      const id = Number(res.lastInsertRowid);
      this.#s.prepare('INSERT INTO outbox_raw (id, raw) VALUES (?, ?)').run(id, raw);
      return id;
    });
  }

  get(id: number): OutboxRecord | null {
    const r = this.#s.prepare<Row>(`SELECT ${COLS} FROM outbox WHERE id = ?`).get(id);
    return r ? fromRow(r) : null;
  }

  raw(id: number): Buffer | null {
    return (
      (this.#s.prepare<{ raw: Buffer }>('SELECT raw FROM outbox_raw WHERE id = ?').get(id)?.raw as Buffer) ??
      null
    );
  }

  list(accountId?: number): OutboxRecord[] {
    return (
      accountId === undefined
        ? this.#s.prepare<Row>(`SELECT ${COLS} FROM outbox ORDER BY id`).all()
        : this.#s.prepare<Row>(`SELECT ${COLS} FROM outbox WHERE account_id = ? ORDER BY id`).all(accountId)
    ).map(fromRow);
  }

  /** Queued items whose next attempt is due, oldest first. */
  due(now = Date.now(), limit = 50): OutboxRecord[] {
    return this.#s
      .prepare<Row>(
        `SELECT ${COLS} FROM outbox WHERE state = 'queued' AND next_attempt <= ? ORDER BY id LIMIT ?`,
      )
      .all(now, limit)
      .map(fromRow);
  }

  setState(
    id: number,
    state: OutboxState,
    opts: { error?: string | null; nextAttempt?: number; countAttempt?: boolean } = {},
  ): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `UPDATE outbox SET state = ?, last_error = coalesce(?, last_error), next_attempt = coalesce(?, next_attempt),
             attempts = attempts + ? WHERE id = ?`,
        )
        .run(state, opts.error ?? null, opts.nextAttempt ?? null, opts.countAttempt ? 1 : 0, id),
    );
  }

  /**
   * The provider accepted this copy (its 250 to DATA): recorded on disk before anything else
   * happens, so a crash after this point never sends it again.
   */
  markSent(id: number): void {
    this.#s.writeDurably(() =>
      this.#s.prepare("UPDATE outbox SET state = 'sent', last_error = NULL WHERE id = ?").run(id),
    );
  }

  remove(id: number): void {
    this.#s.write(() => this.#s.prepare('DELETE FROM outbox WHERE id = ?').run(id));
  }

  /** Items still waiting after a restart ('sending' ones go back to 'queued'). */
  requeueInterrupted(): number {
    return this.#s.write(
      () => this.#s.prepare("UPDATE outbox SET state = 'queued' WHERE state = 'sending'").run().changes,
    );
  }
}
