/**
 * One client connection: socket ↔ CommandReader ↔ Session, with STARTTLS, implicit TLS,
 * COMPRESS=DEFLATE and the idle timeout. Commands run strictly one after another.
 */
import type { ForegroundWork } from '../shared/foreground.ts';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { constants as zc, createDeflateRaw, createInflateRaw } from 'node:zlib';
import type { DeflateRaw, InflateRaw } from 'node:zlib';
import { CommandReader } from './wire/command-reader.ts';
import type { ReaderEvent } from './wire/types.ts';
import { PRE_AUTH_WIRE_LIMITS, tighterLimits } from './wire/limits.ts';
import type { LiteralBudget, WireLimits } from './wire/limits.ts';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ResponseWriter } from './writer.ts';
import type { OutputSink } from './writer.ts';
import { Session } from './session.ts';
import { execute } from './dispatcher.ts';
import type { SessionConfig, Transport } from './session.ts';

export interface ConnectionOptions {
  secureContext: SecureContext | null;
  implicitTls: boolean;
  idleTimeoutMs: number;
  /** Inactivity timeout before login (shorter: an idle unauthenticated socket is only a cost). */
  preAuthTimeoutMs: number;
  /** Time from connect to a successful login, whatever the client sends meanwhile. */
  authDeadlineMs: number;
  wireLimits?: Partial<WireLimits>;
  /** Server-wide bound on literal bytes being received. */
  literalBudget?: LiteralBudget;
  /** Held from a command's start until its response is written (not during IDLE). */
  foreground?: ForegroundWork;
}

/** The connection's output straight to its (TLS) socket. */
export class SocketSink implements OutputSink {
  readonly #socket: Socket;
  constructor(socket: Socket) {
    this.#socket = socket;
  }
  write(chunk: Buffer | string): boolean {
    return this.#socket.write(chunk);
  }
  writeAll(chunks: readonly Buffer[]): void {
    this.#socket.cork();
    for (const c of chunks) this.#socket.write(c);
    this.#socket.uncork();
  }
  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }
  waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }
  get closed(): boolean {
    return this.#socket.destroyed || !this.#socket.writable;
  }
}

class DeflateSink implements OutputSink {
  readonly #deflate: DeflateRaw;
  readonly #socket: Socket;
  constructor(deflate: DeflateRaw, socket: Socket) {
    this.#deflate = deflate;
    this.#socket = socket;
  }
  write(chunk: Buffer | string): boolean {
    return this.#deflate.write(chunk);
  }
  afterFlush(): void {
    this.#deflate.flush(zc.Z_SYNC_FLUSH);
  }
  get needsDrain(): boolean {
    return this.#deflate.writableNeedDrain;
  }
  waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#deflate.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#deflate.on('drain', done);
      this.#socket.on('close', done);
    });
  }
  get closed(): boolean {
    return this.#socket.destroyed || !this.#socket.writable;
  }
}

export class Connection implements Transport {
  #socket: Socket;
  readonly #reader: CommandReader;
  readonly writer: ResponseWriter;
  readonly session: Session;
  readonly #options: ConnectionOptions;
  #queue: ReaderEvent[] = [];
  #running = false;
  /** Ends the foreground hold of the command being answered (ConnectionOptions.foreground). */
  #endForeground: (() => void) | null = null;
  #rawLineWaiter: ((line: string | null) => void) | null = null;
  #inflate: InflateRaw | null = null;
  #deflate: DeflateRaw | null = null;
  #ended = false;
  secure = false;
  compressed = false;
  readonly remoteAddress: string;
  readonly #onClosed: () => void;
  readonly #authTimer: NodeJS.Timeout;

  constructor(socket: Socket, config: SessionConfig, options: ConnectionOptions, onClosed: () => void) {
    this.#options = options;
    this.#onClosed = onClosed;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.#reader = new CommandReader(
      tighterLimits(options.wireLimits, PRE_AUTH_WIRE_LIMITS),
      options.literalBudget ? { budget: options.literalBudget } : undefined,
    );
    this.#authTimer = setTimeout(() => {
      if (this.session.state !== 'notAuthenticated') return;
      this.writer.line('* BYE Authentication timed out.');
      this.close();
    }, options.authDeadlineMs);
    this.#authTimer.unref();
    if (options.implicitTls && options.secureContext) {
      socket = new TLSSocket(socket, { isServer: true, secureContext: options.secureContext });
      this.secure = true;
    }
    this.#socket = socket;
    this.writer = new ResponseWriter(new SocketSink(socket));
    this.session = new Session(config, this.writer, this);
    this.#attach(socket);
    socket.setNoDelay(true);
    socket.setTimeout(options.preAuthTimeoutMs);
    this.session.greeting();
    this.writer.flush();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#inflate) this.#inflate.write(chunk);
    else this.#feed(chunk);
  };
  readonly #onTimeout = (): void => {
    this.writer.line('* BYE Disconnected for inactivity.');
    this.close();
  };
  readonly #onClose = (): void => this.#finish();
  readonly #onError = (): void => this.#finish();

  #attach(s: Socket): void {
    s.on('data', this.#onData);
    s.on('timeout', this.#onTimeout);
    s.on('close', this.#onClose);
    s.on('error', this.#onError);
  }

  #detach(s: Socket): void {
    s.off('data', this.#onData);
    s.off('timeout', this.#onTimeout);
    s.off('close', this.#onClose);
    s.off('error', this.#onError);
  }

  #feed(chunk: Buffer): void {
    if (this.#ended) return;
    this.#take(this.#reader.push(chunk));
  }

  #take(events: ReaderEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'line' && this.#rawLineWaiter) {
        const w = this.#rawLineWaiter;
        this.#rawLineWaiter = null;
        w(ev.line);
      } else this.#queue.push(ev);
    }
    if (this.#queue.length > 64) this.#socket.pause();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length && !this.#ended) {
        const ev = this.#queue.shift()!;
        if (ev.kind === 'command') {
          const wasAuthed = this.session.state !== 'notAuthenticated';
          if (ev.command.command !== 'IDLE') this.#endForeground = this.#options.foreground?.begin() ?? null;
          // most commands finish synchronously: their reply goes out without a trip through the
          // microtask queue
          const running = execute(this.session, ev.command);
          if (running) await running;
          if (!wasAuthed && this.session.state !== 'notAuthenticated' && !this.#ended) {
            this.#socket.setTimeout(this.#options.idleTimeoutMs);
            clearTimeout(this.#authTimer);
            this.#reader.setLimits(this.#options.wireLimits);
          }
          if (this.#ended) break;
          this.writer.flush();
          if (this.writer.needsDrain) await this.writer.drain();
          this.#foregroundDone();
          // Resume only once the command that paused the reader (the last one of its batch:
          // STARTTLS, IDLE, AUTHENTICATE, COMPRESS) has run; bytes pipelined after it must not be
          // parsed before, e.g. a plaintext LOGIN must never run after the TLS upgrade.
          if (this.#reader.paused && this.#queue.length === 0) {
            this.#take(this.#reader.resume());
          }
          // a pipelined command after a turn of the event loop (its reply is out): other
          // connections and background work go between, however many a client sends at once
          if (this.#queue.length && !this.#ended) await yieldLoop();
        } else if (ev.kind === 'continue') {
          this.writer.line('+ Ready for literal data');
          this.writer.flush();
        } else if (ev.kind === 'error') {
          if (ev.code === 'BUSY') this.writer.line(`${ev.tag ?? '*'} NO [LIMIT] ${ev.message}`);
          else {
            const code = ev.code === 'TOOBIG' ? '[TOOBIG] ' : '';
            this.writer.line(`${ev.tag ?? '*'} BAD ${code}${ev.message}`);
          }
          if (ev.fatal) {
            this.writer.line('* BYE Too many invalid IMAP commands.');
            this.close();
            break;
          }
          this.writer.flush();
        } else if (ev.kind === 'line') {
          // A raw line nobody waits for (should not happen): ignore and go on.
          if (this.#reader.paused && this.#queue.length === 0) this.#take(this.#reader.resume());
        }
      }
    } catch (err) {
      this.session.logger.error({ err }, 'IMAP connection failed');
      this.close();
    } finally {
      this.#foregroundDone();
      this.#running = false;
      this.writer.flush();
      if (this.#queue.length <= 64 && !this.#ended) this.#socket.resume();
    }
  }

  #timeoutNow(): number {
    return this.session.state === 'notAuthenticated'
      ? this.#options.preAuthTimeoutMs
      : this.#options.idleTimeoutMs;
  }

  readRawLine(): Promise<string | null> {
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#rawLineWaiter = resolve;
      this.#reader.expectRawLine();
      this.#take(this.#reader.resume());
    });
  }

  /** Abort a pending raw-line read (e.g. IDLE ended by the server). */
  cancelRawLine(): void {
    if (this.#rawLineWaiter) {
      const w = this.#rawLineWaiter;
      this.#rawLineWaiter = null;
      this.#reader.cancelRawLine();
      w(null);
    }
  }

  async startTls(): Promise<void> {
    const ctx = this.#options.secureContext;
    if (!ctx) throw new Error('no TLS context');
    this.writer.flush();
    this.#reader.discardBuffered();
    const plain = this.#socket;
    this.#detach(plain);
    const tlsSocket = new TLSSocket(plain, { isServer: true, secureContext: ctx });
    this.#socket = tlsSocket;
    this.secure = true;
    this.writer.setSink(new SocketSink(tlsSocket));
    this.#attach(tlsSocket);
    tlsSocket.setTimeout(this.#timeoutNow());
    plain.setTimeout(0);
  }

  startCompression(): void {
    this.writer.flush();
    const pendingCompressed = this.#reader.takeBuffered();
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw({ level: 6 });
    inflate.on('data', (d: Buffer) => this.#feed(d));
    inflate.on('error', () => this.close());
    deflate.on('data', (d: Buffer) => {
      if (!this.#socket.destroyed) this.#socket.write(d);
    });
    deflate.on('error', () => this.close());
    this.#inflate = inflate;
    this.#deflate = deflate;
    this.compressed = true;
    this.writer.setSink(new DeflateSink(deflate, this.#socket));
    if (pendingCompressed.length) inflate.write(pendingCompressed);
  }

  close(): void {
    if (this.#ended) return;
    this.writer.flush();
    this.#ended = true;
    this.cancelRawLine();
    const s = this.#socket;
    if (this.#deflate) {
      this.#deflate.end(() => s.end());
    } else s.end();
    setTimeout(() => s.destroy(), 2000).unref();
    this.#release();
    this.#onClosed();
  }

  #release(): void {
    clearTimeout(this.#authTimer);
    this.#reader.dispose();
    this.session.dispose();
  }

  get authenticated(): boolean {
    return this.session.state !== 'notAuthenticated';
  }

  #foregroundDone(): void {
    this.#endForeground?.();
    this.#endForeground = null;
  }

  #finish(): void {
    this.#foregroundDone();
    if (!this.#ended) {
      this.#ended = true;
      this.cancelRawLine();
      this.#release();
      this.#onClosed();
    }
    this.#socket.destroy();
  }

  /** Server shutdown (or eviction of an unauthenticated connection): say goodbye and close. */
  shutdown(reason = 'Server shutting down.'): void {
    if (this.#ended) return;
    this.writer.line(`* BYE ${reason}`);
    this.close();
  }
}
