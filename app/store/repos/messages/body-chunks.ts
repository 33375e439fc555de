/**
 * Big message bodies stored in chunks (body_chunks, migration 9): written ahead one chunk per
 * transaction with the event loop free in between, linked to their message in the message's own
 * short transaction, and deleted (once no message links them) by a background sweep, one chunk
 * per transaction. See migrations/0009-body-chunks.ts for why and for the crash rules.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { silentLogger, type Logger } from '../../../shared/logger.ts';
import type { StoreDb } from '../../sql.ts';
import {
  CHUNK_SIZE,
  decodeRaw,
  joinChunks,
  joinRaw,
  type PackedBody,
  type SlicedBody,
} from '../raw-codec.ts';

/** A big body already written as chunks (by BodyChunks.staged), for the insert that links it. */
export interface WrittenBody {
  chunks: number;
}

/** A body as handed to an insert: packed whole, cut into packed slices, or written ahead. */
export type StoredBody = PackedBody | SlicedBody | WrittenBody;

/** The message_raw columns of a body. */
export interface RawRow {
  compression: number;
  body: Buffer;
  chunks: number | null;
}

const EMPTY = Buffer.alloc(0);

/** Pause between two steps of the sweep (it gives way to requests), and after a failed step. */
const SWEEP_PAUSE_MS = 5;
const SWEEP_RETRY_MS = 1000;

export class BodyChunks {
  readonly #s: StoreDb;
  readonly #logger: Logger;
  /** Bodies being written or handed to a caller that has not linked or released them yet. */
  readonly #inFlight = new Set<number>();
  /** Bodies being read a chunk at a time (ChunkedRaw), by number of readers: not swept meanwhile. */
  readonly #reading = new Map<number, number>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(s: StoreDb, logger: Logger = silentLogger) {
    this.#s = s;
    this.#logger = logger;
  }

  /**
   * Runs `fn` (which inserts the messages, in its own transaction) with the sliced bodies among
   * `msgs` written ahead, one chunk per transaction; a body `fn` did not link (it threw, or
   * skipped the message) is swept afterwards.
   */
  async staged<M extends { packedBody?: StoredBody | undefined }, T>(
    msgs: readonly M[],
    fn: (msgs: M[]) => T,
  ): Promise<T> {
    const written: number[] = [];
    try {
      const out: M[] = [];
      for (const m of msgs) {
        if (m.packedBody && 'slices' in m.packedBody) {
          const chunks = await this.#write(m.packedBody.slices);
          written.push(chunks);
          out.push({ ...m, packedBody: { chunks } });
        } else out.push(m);
      }
      return fn(out);
    } finally {
      for (const id of written) this.#release(id);
    }
  }

  /**
   * The message_raw columns for a body, inside the transaction that inserts its message: a body
   * written ahead is linked, sliced ones are written now.
   */
  rowFor(body: StoredBody): RawRow {
    if ('compression' in body) return { compression: body.compression, body: body.data, chunks: null };
    const chunks = 'chunks' in body ? body.chunks : this.#writeNow(body.slices);
    this.#link(chunks);
    return { compression: 0, body: EMPTY, chunks };
  }

  /** The served bytes: the header block, then the body stored inline or in chunks. */
  join(head: Buffer, row: RawRow): Buffer {
    return row.chunks === null
      ? joinRaw(head, row.compression, row.body)
      : joinChunks(head, this.read(row.chunks));
  }

  /**
   * Writes the slices as a new body, one transaction per chunk and a turn of the event loop
   * between two; returns its id, which stays in flight (never swept) until #release().
   */
  async #write(slices: readonly PackedBody[]): Promise<number> {
    const id = this.#s.write(() => this.#newBody());
    this.#inFlight.add(id);
    try {
      const ins = 'INSERT INTO body_chunks (body_id, seq, compression, data) VALUES (?, ?, ?, ?)';
      for (let seq = 0; seq < slices.length; seq++) {
        await yieldLoop();
        const c = slices[seq]!;
        this.#s.write(() => this.#s.prepare(ins).run(id, seq, c.compression, c.data));
      }
    } catch (err) {
      this.#release(id);
      throw err;
    }
    return id;
  }

  /** Writes the slices as a new body inside the caller's transaction (a caller that cannot wait). */
  #writeNow(slices: readonly PackedBody[]): number {
    const id = this.#newBody();
    const ins = this.#s.prepare(
      'INSERT INTO body_chunks (body_id, seq, compression, data) VALUES (?, ?, ?, ?)',
    );
    slices.forEach((c, seq) => ins.run(id, seq, c.compression, c.data));
    return id;
  }

  /**
   * Marks a body as linked to a message (inside the transaction that writes the message row); it
   * must be a whole body that is not linked yet.
   */
  #link(id: number): void {
    const n = this.#s.prepare('DELETE FROM loose_bodies WHERE body_id = ?').run(id).changes;
    if (n !== 1) throw new Error(`body ${id} is not a loose body`);
  }

  /** The caller is done with a body from #write(): when no message links it, the sweep deletes it. */
  #release(id: number): void {
    this.#inFlight.delete(id);
    this.kick();
  }

  /** The chunks of a body, in order. */
  read(id: number): PackedBody[] {
    return this.#s
      .prepare<PackedBody>('SELECT compression, data FROM body_chunks WHERE body_id = ? ORDER BY seq')
      .all(id);
  }

  /** The first `n` chunks of a body, in order. */
  readFirst(id: number, n: number): PackedBody[] {
    return this.#s
      .prepare<PackedBody>(
        'SELECT compression, data FROM body_chunks WHERE body_id = ? AND seq < ? ORDER BY seq',
      )
      .all(id, n);
  }

  /** One chunk of a body (undefined when it is missing). */
  chunk(id: number, seq: number): PackedBody | undefined {
    return this.#s
      .prepare<PackedBody>('SELECT compression, data FROM body_chunks WHERE body_id = ? AND seq = ?')
      .get(id, seq);
  }

  /**
   * The served bytes of a message whose body is in chunks, to be read a chunk at a time (FETCH of
   * a 20 MB message): `head` is its header block, `size` its length.
   */
  lazy(id: number, head: Buffer, size: number): ChunkedRaw {
    return new ChunkedRaw(this, id, head, size);
  }

  /** A reader holds a body: the sweep leaves it alone (its message may be expunged meanwhile). */
  hold(id: number): void {
    this.#reading.set(id, (this.#reading.get(id) ?? 0) + 1);
  }

  release(id: number): void {
    const n = (this.#reading.get(id) ?? 1) - 1;
    if (n > 0) this.#reading.set(id, n);
    else {
      this.#reading.delete(id);
      this.kick();
    }
  }

  /** Schedules the sweep of loose bodies (a no-op when one is scheduled). */
  kick(after = SWEEP_PAUSE_MS): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => this.#step(), after);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Deletes one chunk of a loose body that is not in flight (or, when it has none left, the body
   * itself), in one transaction; false when there is nothing to delete.
   */
  sweepStep(): boolean {
    return this.#s.writeSlice(() => {
      const id = this.#s
        .prepare<number>(
          'SELECT body_id FROM loose_bodies WHERE body_id NOT IN (SELECT value FROM json_each(?)) ORDER BY body_id LIMIT 1',
        )
        .pluck()
        .get(JSON.stringify([...this.#inFlight, ...this.#reading.keys()]));
      if (id === undefined) return false;
      const chunk = this.#s
        .prepare<number>('SELECT rowid FROM body_chunks WHERE body_id = ? ORDER BY seq DESC LIMIT 1')
        .pluck()
        .get(id);
      if (chunk === undefined) this.#s.prepare('DELETE FROM loose_bodies WHERE body_id = ?').run(id);
      else this.#s.prepare('DELETE FROM body_chunks WHERE rowid = ?').run(chunk);
      return true;
    });
  }

  #step(): void {
    this.#timer = null;
    if (this.#stopped) return;
    let more: boolean;
    try {
      more = this.sweepStep();
    } catch (err) {
      this.#logger.warn({ err }, 'deleting unused message chunks failed; will retry');
      this.kick(SWEEP_RETRY_MS);
      return;
    }
    if (more) this.kick();
  }

  #newBody(): number {
    return Number(this.#s.prepare('INSERT INTO loose_bodies DEFAULT VALUES').run().lastInsertRowid);
  }
}

/**
 * A message whose body is in chunks, read a chunk at a time with a turn of the event loop before
 * each: reading and inflating a 20 MB body at once held the loop 0.2-2 s. A range reads only the
 * chunks it covers. The body is held (not swept) while a read runs.
 */
export class ChunkedRaw {
  readonly #chunks: BodyChunks;
  readonly #id: number;
  readonly head: Buffer;
  readonly size: number;

  constructor(chunks: BodyChunks, id: number, head: Buffer, size: number) {
    this.#chunks = chunks;
    this.#id = id;
    this.head = head;
    this.size = size;
  }

  /**
   * The bytes [start, end) of the message, in pieces of at most a chunk. Every chunk but the last
   * holds CHUNK_SIZE bytes of the body (raw-codec's packSlices): a chunk of another length, a
   * missing chunk or fewer bytes than `size` throw, never a short answer.
   */
  async *read(start = 0, end = this.size): AsyncGenerator<Buffer> {
    end = Math.min(end, this.size);
    if (start >= end) return;
    const h = this.head.length;
    if (start < h) {
      yield this.head.subarray(start, Math.min(end, h));
      start = h;
    }
    this.#chunks.hold(this.#id);
    try {
      for (let seq = Math.floor((start - h) / CHUNK_SIZE); start < end; seq++) {
        await yieldLoop();
        const c = this.#chunks.chunk(this.#id, seq);
        if (!c) throw new Error(`chunk ${seq} of message body ${this.#id} is missing`);
        const data = decodeRaw(c.compression, c.data);
        const base = h + seq * CHUNK_SIZE;
        if (data.length !== CHUNK_SIZE && base + data.length < end)
          throw new Error(`chunk ${seq} of message body ${this.#id} has ${data.length} bytes`);
        yield data.subarray(start - base, Math.min(end - base, data.length));
        start = base + data.length;
      }
    } finally {
      this.#chunks.release(this.#id);
    }
  }

  /** The whole message in one Buffer, read a chunk at a time. */
  async whole(): Promise<Buffer> {
    const out = Buffer.allocUnsafe(this.size);
    let at = 0;
    for await (const piece of this.read()) at += piece.copy(out, at);
    return out;
  }
}
