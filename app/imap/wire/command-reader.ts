/**
 * Streaming reader for IMAP client commands (RFC 3501 / RFC 9051 grammar, LITERAL+ RFC 7888,
 * literal8 RFC 3516). Feed it raw bytes as they arrive; it returns complete commands, asks for
 * `+` continuations for synchronizing literals, and reports every problem as an error event
 * (never a throw). Memory is bounded by the limits in limits.ts. No I/O.
 *
 * Pausing (see types.ts): after IDLE, AUTHENTICATE, STARTTLS and COMPRESS commands and after every
 * raw 'line' event the reader stops producing events until resume() is called.
 */
import { CommandParser, peekTag } from './command-parser.ts';
import { CR, LF } from './chars.ts';
import { resolveLimits } from './limits.ts';
import type { LiteralBudget, WireLimits } from './limits.ts';
import { trailingLiteral } from './literal-marker.ts';
import type { LiteralMarker } from './literal-marker.ts';
import type { ParsedCommand, ReaderErrorCode, ReaderEvent } from './types.ts';

export interface ReaderOptions {
  /** Commands after which the reader pauses (uppercased). Default: IDLE AUTHENTICATE STARTTLS COMPRESS. */
  pauseAfter?: Iterable<string>;
  /** Server-wide bound on literal bytes being received (all connections). */
  budget?: LiteralBudget;
}

export const DEFAULT_PAUSE_AFTER: readonly string[] = Object.freeze([
  'IDLE',
  'AUTHENTICATE',
  'STARTTLS',
  'COMPRESS',
]);

type Mode = 'line' | 'literal' | 'skip' | 'overflow';

const EMPTY = Buffer.alloc(0);

export class CommandReader {
  #currentLimits: Readonly<WireLimits>;
  readonly #pauseAfter: Set<string>;
  readonly #budget: LiteralBudget | null;
  /** Bytes of the budget held for the current command's literals. */
  #reserved = 0;

  #mode: Mode = 'line';
  // partial line
  #lineChunks: Buffer[] = [];
  #lineLen = 0;
  // literal being read
  #litBuf: Buffer = EMPTY;
  #litPos = 0;
  #litLiteral8 = false;
  #litSync = false;
  // bytes still to drop (rejected non-synchronizing literal)
  #skipRemaining = 0;
  // tail of an over-long line being dropped (to see a literal marker at its end)
  #overflowTail: Buffer = EMPTY;
  // the command being parsed, or null between commands
  #parser: CommandParser | null = null;
  /** Dropping the rest of a rejected command (its further segments and LITERAL+ literals). */
  #discarding = false;
  #cmdLineBytes = 0;
  #cmdTotalBytes = 0;

  #rawLineWanted = false;
  #isPaused = false;
  #pauseCommand: ParsedCommand | null = null;
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #dead = false;
  #consecutiveErrors = 0;
  #events: ReaderEvent[] = [];

  constructor(limits?: Partial<WireLimits>, options?: ReaderOptions) {
    this.#currentLimits = Object.freeze(resolveLimits(limits));
    this.#pauseAfter = new Set([...(options?.pauseAfter ?? DEFAULT_PAUSE_AFTER)].map((s) => s.toUpperCase()));
    this.#budget = options?.budget ?? null;
  }

  get limits(): Readonly<WireLimits> {
    return this.#currentLimits;
  }

  /** Replaces the limits (after login: the pre-authentication limits are lifted). */
  setLimits(limits?: Partial<WireLimits>): void {
    this.#currentLimits = Object.freeze(resolveLimits(limits));
  }

  /** Gives back what the current command holds of the budget (the connection is gone). */
  dispose(): void {
    this.#release();
    this.#dead = true;
  }

  #release(): void {
    if (this.#reserved > 0) this.#budget?.give(this.#reserved);
    this.#reserved = 0;
  }

  /** Feeds bytes from the client; returns the events they complete, in order. */
  push(chunk: Uint8Array): ReaderEvent[] {
    const events: ReaderEvent[] = (this.#events = []);
    if (this.#dead || chunk.length === 0) return events;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#isPaused) {
      this.#stash(buf, 0);
      return events;
    }
    this.#consume(buf);
    return events;
  }

  /** Ends a pause and parses what was buffered meanwhile. */
  resume(): ReaderEvent[] {
    const events: ReaderEvent[] = (this.#events = []);
    this.#isPaused = false;
    if (this.#dead || this.#pendingLen === 0) return events;
    const data = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingLen = 0;
    this.#consume(data);
    return events;
  }

  /**
   * The next line (up to LF, CR stripped) comes out as a {kind:'line'} event instead of being
   * parsed as a command (IDLE's DONE, AUTHENTICATE client responses). The reader pauses after it.
   */
  expectRawLine(): void {
    this.#rawLineWanted = true;
  }

  /** Cancels expectRawLine() (e.g. the session left IDLE by itself). */
  cancelRawLine(): void {
    this.#rawLineWanted = false;
  }

  /**
   * Refuses the synchronizing literal just announced by a 'continue' event (instead of sending
   * `+`): the command is dropped and the next line is parsed as a new command. Returns false (and
   * does nothing) if the reader is not waiting for the first byte of a synchronizing literal.
   */
  rejectLiteral(): boolean {
    if (this.#mode !== 'literal' || !this.#litSync || this.#litPos !== 0) return false;
    this.#resetCommand();
    this.#mode = 'line';
    return true;
  }

  /** Drops bytes received while paused (STARTTLS: pipelined plaintext must not be executed). */
  discardBuffered(): number {
    const n = this.#pendingLen;
    this.#pending = [];
    this.#pendingLen = 0;
    return n;
  }

  /** Removes and returns bytes received while paused (COMPRESS: they are already compressed). */
  takeBuffered(): Buffer {
    const out = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.discardBuffered();
    return out;
  }

  get paused(): boolean {
    return this.#isPaused;
  }

  /** The command that caused the current pause (null when not paused or paused after a raw line). */
  get pausedBy(): ParsedCommand | null {
    return this.#isPaused ? this.#pauseCommand : null;
  }

  /** True after a fatal error: the reader ignores all further input. */
  get closed(): boolean {
    return this.#dead;
  }

  /** Bytes the reader currently holds for the client (partial line, command so far, literal, paused data). */
  get bufferedBytes(): number {
    return this.#lineLen + this.#cmdTotalBytes + this.#litPos + this.#pendingLen;
  }

  /** True between commands (nothing partially received). */
  get idle(): boolean {
    return this.#mode === 'line' && this.#parser === null && !this.#discarding && this.#lineLen === 0;
  }

  // ---------------------------------------------------------------------------------------------

  #stash(buf: Buffer, from: number): void {
    if (from >= buf.length) return;
    const part = from === 0 ? buf : buf.subarray(from);
    this.#pending.push(part);
    this.#pendingLen += part.length;
    if (this.#pendingLen > this.limits.maxPausedBuffer) {
      this.#pending = [];
      this.#pendingLen = 0;
      this.#error(null, 'Too much data sent without waiting for the server', 'LIMIT', undefined, true);
    }
  }

  #consume(buf: Buffer): void {
    let pos = 0;
    const len = buf.length;
    while (pos < len && !this.#dead) {
      if (this.#isPaused) {
        this.#stash(buf, pos);
        return;
      }
      switch (this.#mode) {
        case 'skip': {
          const n = Math.min(this.#skipRemaining, len - pos);
          pos += n;
          this.#skipRemaining -= n;
          if (this.#skipRemaining === 0) this.#mode = 'line';
          break;
        }
        case 'literal': {
          const n = Math.min(this.#litBuf.length - this.#litPos, len - pos);
          buf.copy(this.#litBuf, this.#litPos, pos, pos + n);
          pos += n;
          this.#litPos += n;
          if (this.#litPos === this.#litBuf.length) this.#literalDone();
          break;
        }
        case 'overflow': {
          const idx = buf.indexOf(LF, pos);
          const stop = idx === -1 ? len : idx;
          this.#keepTail(buf.subarray(pos, stop));
          if (idx === -1) {
            pos = len;
          } else {
            pos = idx + 1;
            this.#mode = 'line';
            this.#afterRejectedLine(this.#overflowTail, true);
            this.#overflowTail = EMPTY;
          }
          break;
        }
        case 'line': {
          if (this.#lineLen === 0 && this.#parser === null && !this.#discarding && !this.#rawLineWanted) {
            // Nothing valid starts with a control byte; a TLS ClientHello has no LF to wait for.
            if (buf[pos] === 0x16) {
              this.#error(null, 'TLS handshake on a plaintext connection', 'PARSE', undefined, true);
              return;
            }
          }
          const idx = buf.indexOf(LF, pos);
          const budget = this.limits.maxLineLength - this.#cmdLineBytes;
          if (idx === -1) {
            const part = buf.subarray(pos);
            if (this.#lineLen + part.length > budget) this.#startOverflow(part);
            else {
              this.#lineChunks.push(part);
              this.#lineLen += part.length;
            }
            pos = len;
            break;
          }
          const part = buf.subarray(pos, idx);
          pos = idx + 1;
          if (this.#lineLen + part.length + 1 > budget) {
            this.#startOverflow(part);
            this.#mode = 'line';
            this.#afterRejectedLine(this.#overflowTail, true);
            this.#overflowTail = EMPTY;
            break;
          }
          let line: Buffer;
          if (this.#lineChunks.length === 0) line = part;
          else {
            this.#lineChunks.push(part);
            line = Buffer.concat(this.#lineChunks, this.#lineLen + part.length);
            this.#lineChunks = [];
          }
          const rawLen = line.length + 1;
          this.#lineLen = 0;
          if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
          this.#handleLine(line, rawLen);
          break;
        }
      }
    }
  }

  #handleLine(line: Buffer, rawLen: number): void {
    if (this.#rawLineWanted && this.#parser === null && !this.#discarding) {
      this.#rawLineWanted = false;
      this.#events.push({ kind: 'line', line: line.toString('latin1') });
      this.#isPaused = true;
      this.#pauseCommand = null;
      return;
    }
    if (this.#discarding) {
      this.#afterRejectedLine(line, false);
      return;
    }
    if (this.#parser === null) {
      if (line.length === 0) return; // empty lines between commands are ignored
      this.#parser = new CommandParser(this.limits.maxDepth);
      this.#cmdLineBytes = 0;
      this.#cmdTotalBytes = 0;
    }
    this.#cmdLineBytes += rawLen;
    this.#cmdTotalBytes += rawLen;
    const parser = this.#parser;
    const res = parser.feedLine(line);
    if (res.kind === 'done') {
      this.#consecutiveErrors = 0;
      this.#resetCommand();
      this.#events.push({ kind: 'command', command: res.command });
      if (this.#pauseAfter.has(res.command.command)) {
        this.#isPaused = true;
        this.#pauseCommand = res.command;
      }
    } else if (res.kind === 'literal') {
      this.#startLiteral(res.marker);
    } else {
      this.#error(parser.tag, res.message, 'PARSE', parser.command ?? undefined, res.fatal === true);
      this.#afterRejectedLine(line, false);
    }
  }

  #startLiteral(m: LiteralMarker): void {
    const parser = this.#parser as CommandParser;
    const { maxLiteralSize, maxCommandSize } = this.limits;
    if (m.size > maxLiteralSize || this.#cmdTotalBytes + m.size > maxCommandSize) {
      const what =
        m.size > maxLiteralSize ? `Literal too big (max ${maxLiteralSize} bytes)` : 'Command too big';
      this.#error(parser.tag, what, 'TOOBIG', parser.command ?? undefined, false);
      this.#rejectWithMarker(m);
      return;
    }
    if (m.size > 0 && this.#budget) {
      if (!this.#budget.take(m.size)) {
        this.#error(
          parser.tag,
          'Server busy receiving other data, try again later',
          'BUSY',
          parser.command ?? undefined,
          false,
        );
        this.#rejectWithMarker(m);
        return;
      }
      this.#reserved += m.size;
    }
    if (m.sync)
      this.#events.push({
        kind: 'continue',
        tag: parser.tag as string,
        command: parser.command as string,
        size: m.size,
      });
    this.#litSync = m.sync;
    this.#cmdTotalBytes += m.size;
    this.#litLiteral8 = m.literal8;
    this.#litPos = 0;
    this.#litBuf = m.size === 0 ? EMPTY : Buffer.allocUnsafe(m.size);
    // A {0} literal completes when the client goes on after '+' (so rejectLiteral() still works).
    if (m.size === 0 && !m.sync) this.#literalDone();
    else this.#mode = 'literal';
  }

  #literalDone(): void {
    const value = this.#litBuf;
    this.#litBuf = EMPTY;
    this.#litPos = 0;
    this.#mode = 'line';
    // cmdTotalBytes already counts the literal
    (this.#parser as CommandParser).addLiteral(value, this.#litLiteral8);
  }

  /** The rest of the current command is dropped; a LITERAL+ literal the client will send anyway is skipped. */
  #rejectWithMarker(m: LiteralMarker | null): void {
    this.#resetCommand();
    if (m && !m.sync && m.size > 0) {
      if (m.size > this.limits.maxLiteralSkip) {
        this.#error(null, 'Literal too big to skip', 'TOOBIG', undefined, true);
        return;
      }
      this.#discarding = true;
      this.#skipRemaining = m.size;
      this.#mode = 'skip';
    } else if (m && !m.sync) {
      this.#discarding = true;
    } else {
      this.#discarding = false;
    }
  }

  /** A line of a rejected command ended (or an over-long line did): skip its LITERAL+ literal, if any. */
  #afterRejectedLine(line: Buffer, _overflow: boolean): void {
    this.#rejectWithMarker(
      trailingLiteral(line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line),
    );
  }

  #startOverflow(part: Buffer): void {
    const silent = this.#discarding;
    let tag: string | null = null;
    if (!silent) tag = this.#parser ? this.#parser.tag : peekTag(Buffer.concat([...this.#lineChunks, part]));
    const command = this.#parser?.command ?? undefined;
    this.#overflowTail = EMPTY;
    for (const c of this.#lineChunks) this.#keepTail(c);
    this.#keepTail(part);
    this.#lineChunks = [];
    this.#lineLen = 0;
    this.#mode = 'overflow';
    if (!silent)
      this.#error(
        tag,
        `Command line too long (max ${this.limits.maxLineLength} bytes)`,
        'LIMIT',
        command,
        false,
      );
    if (this.#dead) return;
    this.#resetCommand();
  }

  /** Keeps the last 32 bytes seen of an over-long line (enough for `~{999999999999999+}`). */
  #keepTail(part: Buffer): void {
    if (part.length >= 32) this.#overflowTail = Buffer.from(part.subarray(part.length - 32));
    else if (part.length > 0) {
      const joined = Buffer.concat([this.#overflowTail, part]);
      this.#overflowTail = joined.length > 32 ? Buffer.from(joined.subarray(joined.length - 32)) : joined;
    }
  }

  #resetCommand(): void {
    this.#release();
    this.#parser = null;
    this.#discarding = false;
    this.#cmdLineBytes = 0;
    this.#cmdTotalBytes = 0;
    this.#litBuf = EMPTY;
    this.#litPos = 0;
  }

  #error(
    tag: string | null,
    message: string,
    code: ReaderErrorCode,
    command: string | undefined,
    fatal: boolean,
  ): void {
    if (code !== 'TOOBIG' && code !== 'BUSY') this.#consecutiveErrors++;
    const isFatal = fatal || this.#consecutiveErrors >= this.limits.maxConsecutiveErrors;
    const ev: ReaderEvent = { kind: 'error', tag, message, fatal: isFatal, code };
    if (command !== undefined) ev.command = command;
    this.#events.push(ev);
    if (isFatal) {
      this.#dead = true;
      this.#resetCommand();
      this.#lineChunks = [];
      this.#lineLen = 0;
      this.#pending = [];
      this.#pendingLen = 0;
    }
  }
}
