/**
 * Response writer: collects response bytes into ~64 KiB chunks and writes them to the connection's
 * output (socket, TLS socket or deflate stream). Big literal values (BODY[] of a large message) are
 * written as their own Buffers, never concatenated into strings. Honours backpressure: callers
 * `await writer.drain()` between batches.
 */

export interface OutputSink {
  write(chunk: Buffer): boolean;
  /** Called after each flush, e.g. a deflate stream's sync flush. */
  afterFlush?(): void;
  /** Resolves when the sink can take more data. */
  waitDrain(): Promise<void>;
  readonly closed: boolean;
}

const CHUNK = 64 * 1024;
const CRLF = Buffer.from('\r\n');

export class ResponseWriter {
  private sink: OutputSink;
  private parts: Buffer[] = [];
  private pending = 0;
  private str = '';
  private blocked = false;
  /** The last byte written ends a line (a reply can start here). */
  private lineStart = true;

  constructor(sink: OutputSink) {
    this.sink = sink;
  }

  /** Switch the output (after STARTTLS / COMPRESS). Flushes first. */
  setSink(sink: OutputSink): void {
    this.flush();
    this.sink = sink;
  }

  /** Append text (must be already-valid protocol text; UTF-8 encoded). */
  text(s: string): void {
    if (s.length === 0) return;
    this.lineStart = s.endsWith('\n');
    this.str += s;
    if (this.str.length > 8192) this.commitStr();
  }

  /** One complete response line (CRLF added). */
  line(s: string): void {
    this.text(s);
    this.text('\r\n');
  }

  /** Raw bytes (e.g. a literal's content). Large buffers are not copied. */
  bytes(b: Buffer): void {
    this.commitStr();
    if (b.length === 0) return;
    this.lineStart = b[b.length - 1] === 0x0a;
    this.parts.push(b);
    this.pending += b.length;
    if (this.pending >= CHUNK) this.flush();
  }

  /** `{n}\r\n` followed by the bytes. */
  literal(b: Buffer, literal8 = false): void {
    this.text(literal8 ? `~{${b.length}}\r\n` : `{${b.length}}\r\n`);
    this.bytes(b);
  }

  crlf(): void {
    this.lineStart = true;
    this.commitStr();
    this.parts.push(CRLF);
    this.pending += 2;
  }

  private commitStr(): void {
    if (!this.str) return;
    const b = Buffer.from(this.str, 'utf8');
    this.str = '';
    this.parts.push(b);
    this.pending += b.length;
    if (this.pending >= CHUNK) this.flush();
  }

  /** Write everything buffered to the sink. */
  flush(): void {
    this.commitStr();
    if (this.pending === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.pending = 0;
    if (this.sink.closed) return;
    let ok = true;
    if (parts.length === 1) ok = this.sink.write(parts[0]!);
    else {
      // Coalesce small parts; write big ones on their own.
      let group: Buffer[] = [];
      let groupLen = 0;
      for (const p of parts) {
        if (p.length >= CHUNK) {
          if (group.length) ok = this.sink.write(Buffer.concat(group, groupLen)) && ok;
          group = [];
          groupLen = 0;
          ok = this.sink.write(p) && ok;
        } else {
          group.push(p);
          groupLen += p.length;
        }
      }
      if (group.length)
        ok = this.sink.write(group.length === 1 ? group[0]! : Buffer.concat(group, groupLen)) && ok;
    }
    this.sink.afterFlush?.();
    if (!ok) this.blocked = true;
  }

  /** False while a response line is half written (e.g. a command failed mid-FETCH). */
  get atLineStart(): boolean {
    return this.lineStart;
  }

  /** True if the sink asked us to wait. */
  get needsDrain(): boolean {
    return this.blocked;
  }

  /** Flush, then wait for the sink to drain if it is full. */
  async drain(): Promise<void> {
    this.flush();
    if (this.blocked) {
      this.blocked = false;
      if (!this.sink.closed) await this.sink.waitDrain();
    }
  }
}
