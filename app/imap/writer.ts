/**
 * Response writer: collects response bytes into ~64 KiB chunks and writes them to the connection's
 * output (socket, TLS socket or deflate stream), up to FLUSH_AT bytes in one write (a socket's
 * writev). Big literal values (BODY[] of a large message) are written as their own Buffers, never
 * concatenated into strings. Honours backpressure: callers `await writer.drain()` (or turn())
 * between batches.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';

export interface OutputSink {
  /** Bytes, or text to be sent UTF-8 encoded. */
  write(chunk: Buffer | string): boolean;
  /**
   * Writes several chunks at once (a socket's writev: one system call, and one wake-up of a
   * reader on the same machine, instead of one per chunk).
   */
  writeAll?(chunks: readonly Buffer[]): void;
  /** Called after each flush, e.g. a deflate stream's sync flush. */
  afterFlush?(): void;
  /**
   * The sink holds more than it wants now (a stream's writableNeedDrain): waitDrain() resolves
   * once it has passed it on. Asked when it matters, never remembered from a write: a 'drain'
   * that came before anyone waited is not sent again.
   */
  readonly needsDrain: boolean;
  /** Resolves when the sink can take more data (called only while needsDrain). */
  waitDrain(): Promise<void>;
  readonly closed: boolean;
}

const CHUNK = 64 * 1024;
/** Byte strings up to this size are copied into the current chunk; bigger ones are queued as they are. */
const COPY_MAX = 16 * 1024;
/** A flush smaller than this copies the chunk out and keeps reusing the chunk buffer. */
const SMALL_FLUSH = 4 * 1024;
/**
 * Bytes held before they are written without being asked to (flush, drain): a message's FETCH
 * response, its literal and the tagged reply after it then go out in one write.
 */
const FLUSH_AT = 256 * 1024;
const CRLF = Buffer.from('\r\n');

export class ResponseWriter {
  #sink: OutputSink;
  /** Sealed chunks and big buffers, in order, not yet given to the sink. */
  #parts: Buffer[] = [];
  #pending = 0;
  /** The chunk being filled (bytes [0, pos)); allocated on first use. */
  #buf: Buffer | null = null;
  #pos = 0;
  #str = '';
  /** The last byte written ends a line (a reply can start here). */
  #lineStart = true;

  constructor(sink: OutputSink) {
    this.#sink = sink;
  }

  /** Switch the output (after STARTTLS / COMPRESS). Flushes first. */
  setSink(sink: OutputSink): void {
    this.flush();
    this.#sink = sink;
  }

  /** Append text (must be already-valid protocol text; UTF-8 encoded). */
  text(s: string): void {
    if (s.length === 0) return;
    this.#lineStart = s.charCodeAt(s.length - 1) === 0x0a;
    this.#str += s;
    if (this.#str.length > 8192) this.#commitStr();
  }

  /** One complete response line (CRLF added). */
  line(s: string): void {
    this.text(s);
    this.text('\r\n');
  }

  /** Raw bytes (e.g. a literal's content). Small ones are copied; large buffers are not. */
  bytes(b: Buffer): void {
    this.copy(b, 0, b.length);
  }

  /** The bytes [start, end) of `b` (copied, unless large: then `b` must not change afterwards). */
  copy(b: Buffer, start: number, end: number): void {
    this.#commitStr();
    const len = end - start;
    if (len <= 0) return;
    this.#lineStart = b[end - 1] === 0x0a;
    if (len > COPY_MAX) {
      this.#seal();
      this.#queue(start === 0 && end === b.length ? b : b.subarray(start, end));
      return;
    }
    let buf = this.#buf;
    if (buf === null || len > CHUNK - this.#pos) {
      this.#seal();
      buf = this.#chunk();
    }
    b.copy(buf, this.#pos, start, end);
    this.#pos += len;
  }

  /** `{n}\r\n` followed by the bytes. */
  literal(b: Buffer, literal8 = false): void {
    this.text(literal8 ? `~{${b.length}}\r\n` : `{${b.length}}\r\n`);
    this.bytes(b);
  }

  crlf(): void {
    this.copy(CRLF, 0, 2);
  }

  #chunk(): Buffer {
    if (this.#buf === null) {
      this.#buf = Buffer.allocUnsafe(CHUNK);
      this.#pos = 0;
    }
    return this.#buf;
  }

  /** Moves the filled part of the current chunk to the queue (the chunk then belongs to the sink). */
  #seal(): void {
    if (this.#buf === null || this.#pos === 0) return;
    const filled = this.#buf.subarray(0, this.#pos);
    this.#buf = null;
    this.#pos = 0;
    this.#queue(filled);
  }

  #queue(b: Buffer): void {
    this.#parts.push(b);
    this.#pending += b.length;
    if (this.#pending >= FLUSH_AT) this.flush();
  }

  #commitStr(): void {
    const str = this.#str;
    if (!str) return;
    this.#str = '';
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (str.length * 3 > CHUNK) {
      this.#seal();
      this.#queue(Buffer.from(str, 'utf8'));
      return;
    }
    let buf = this.#buf;
    if (buf === null || str.length * 3 > CHUNK - this.#pos) {
      this.#seal();
      buf = this.#chunk();
    }
    this.#pos += buf.write(str, this.#pos, 'utf8');
  }

  /** Write everything buffered to the sink. */
  flush(): void {
    if (this.#pos === 0 && this.#parts.length === 0 && this.#str.length < SMALL_FLUSH && this.#str) {
      // A short reply and nothing before it (most replies): the sink encodes the text itself,
      // with no copy through the chunk.
      const str = this.#str;
      this.#str = '';
      this.#write([str]);
      return;
    }
    this.#commitStr();
    if (this.#pending === 0 && this.#parts.length === 0) {
      if (this.#buf === null || this.#pos === 0) return;
      if (this.#pos < SMALL_FLUSH) {
        // A short reply: hand over a copy and keep the chunk for the next one.
        const b = Buffer.from(this.#buf.subarray(0, this.#pos));
        this.#pos = 0;
        this.#write([b]);
        return;
      }
    }
    this.#seal();
    if (this.#pending === 0) return;
    const parts = this.#parts;
    this.#parts = [];
    this.#pending = 0;
    this.#write(parts);
  }

  #write(parts: Array<Buffer | string>): void {
    if (this.#sink.closed) return;
    if (parts.length === 1) this.#sink.write(parts[0]!);
    else if (this.#sink.writeAll) this.#sink.writeAll(parts as Buffer[]);
    else {
      // Coalesce small parts; write big ones on their own.
      let group: Buffer[] = [];
      let groupLen = 0;
      for (const p of parts as Buffer[]) {
        if (p.length >= CHUNK / 2) {
          if (group.length) this.#sink.write(group.length === 1 ? group[0]! : Buffer.concat(group, groupLen));
          group = [];
          groupLen = 0;
          this.#sink.write(p);
        } else {
          group.push(p);
          groupLen += p.length;
        }
      }
      if (group.length) this.#sink.write(group.length === 1 ? group[0]! : Buffer.concat(group, groupLen));
    }
    this.#sink.afterFlush?.();
  }

  /** False while a response line is half written (e.g. a command failed mid-FETCH). */
  get atLineStart(): boolean {
    return this.#lineStart;
  }

  /** True while the sink holds more than it wants (asked now: see OutputSink.needsDrain). */
  get needsDrain(): boolean {
    return !this.#sink.closed && this.#sink.needsDrain;
  }

  /** Flush, then wait for the sink to drain if it is full. */
  async drain(): Promise<void> {
    this.flush();
    if (this.needsDrain) await this.#sink.waitDrain();
  }

  /**
   * Flush, wait for the sink when it is full, and let the event loop turn: a drain can come in
   * the same turn (a corked write the socket took at once), so it does not end one by itself.
   */
  async turn(): Promise<void> {
    await this.drain();
    await yieldLoop();
  }
}
