/**
 * Structured logs (pino) to stderr and to a size-rotated file in the data dir, plus an in-memory
 * ring of recent lines for the UI's log view. Secrets are redacted by key name as a second line of
 * defence; the first is that modules never log secrets or message content.
 */
import { closeSync, mkdirSync, openSync, renameSync, statSync, writeSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { Logger, LogLine } from '../shared/logger.ts';
import { logFields, PrettyStream } from './log-format.ts';

const REDACT = [
  'password',
  'passphrase',
  'token',
  'secret',
  'key',
  'dataKey',
  'armored',
  'raw',
  'body',
  '*.password',
  '*.passphrase',
  '*.token',
  '*.secret',
  '*.key',
  '*.raw',
  '*.body',
  // OAuth: tokens are never logged; these catch one passed by mistake.
  'accessToken',
  'refreshToken',
  'clientSecret',
  'oauth',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret',
  '*.oauth',
];

/** An append-only log file that rotates to `.1`, `.2`, ... when it passes `maxBytes`. */
export class RotatingFile {
  readonly path: string;
  readonly maxBytes: number;
  readonly keep: number;
  #fd: number;
  #size: number;
  /** Lines dropped because the disk was full (told in the log once writing works again). */
  #dropped = 0;

  constructor(path: string, maxBytes = 5 * 1024 * 1024, keep = 3) {
    this.path = path;
    this.maxBytes = maxBytes;
    this.keep = keep;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#fd = openSync(path, 'a', 0o600);
    chmodSync(path, 0o600);
    this.#size = statSync(path).size;
  }

  /**
   * Never throws: a line that cannot be written (disk full, I/O error) is dropped and counted, so a
   * full disk cannot take the bridge down through its log.
   */
  write(chunk: string): boolean {
    try {
      if (this.#dropped > 0) {
        const note = `{"level":40,"time":${Date.now()},"msg":"${this.#dropped} log lines were dropped: the disk was full"}\n`;
        this.#append(Buffer.from(`\n${note}`));
        this.#dropped = 0;
      }
      this.#append(Buffer.from(chunk));
    } catch {
      this.#dropped++;
    }
    return true;
  }

  #append(buf: Buffer): void {
    if (this.#size + buf.length > this.maxBytes && this.#size > 0) this.#rotate();
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.#fd, buf, off);
    } finally {
      this.#size += off;
    }
  }

  /** Renames generations first and swaps the descriptor last, so a failure leaves a usable file. */
  #rotate(): void {
    this.#size = 0; // a rotation that fails is retried only at the next size limit
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        /* missing generation */
      }
    }
    renameSync(this.path, `${this.path}.1`);
    const fd = openSync(this.path, 'a', 0o600);
    closeSync(this.#fd);
    this.#fd = fd;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

const LEVELS: Record<number, LogLine['level']> = {
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'error',
};

/** Keeps the last N log lines and tells listeners about each new one. */
export class LogRing {
  readonly #lines: LogLine[] = [];
  readonly #max: number;
  readonly #listeners = new Set<(line: LogLine) => void>();
  constructor(max = 500) {
    this.#max = max;
  }
  write(chunk: string): boolean {
    try {
      const rec = JSON.parse(chunk) as {
        time?: number;
        level?: number;
        msg?: string;
        module?: string;
      } & Record<string, unknown>;
      const { account, email, ...rest } = logFields(rec);
      const who =
        typeof rec.account === 'string' ? rec.account : typeof rec.email === 'string' ? rec.email : null;
      const fields =
        who === null ? { ...rest, ...(account ? { account } : {}), ...(email ? { email } : {}) } : rest;
      const line: LogLine = {
        time: new Date(rec.time ?? Date.now()).toISOString(),
        level: LEVELS[rec.level ?? 30] ?? 'info',
        msg: rec.msg ?? '',
        ...(rec.module ? { module: rec.module } : {}),
        ...(who !== null ? { account: who } : {}),
        ...(Object.keys(fields).length ? { fields } : {}),
      };
      this.#lines.push(line);
      if (this.#lines.length > this.#max) this.#lines.shift();
      for (const l of this.#listeners) l(line);
    } catch {
      /* not JSON: ignore */
    }
    return true;
  }
  recent(limit: number): LogLine[] {
    return this.#lines.slice(-Math.max(0, limit));
  }
  onLine(cb: (line: LogLine) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }
}

export interface LoggingOptions {
  /** Log file path; omitted = no file. */
  file?: string;
  level?: string;
  /** Also write to stderr (the CLI does; tests usually don't): JSON lines, or human lines ('pretty'). */
  stderr?: boolean | 'pretty';
}

export interface Logging {
  logger: Logger;
  ring: LogRing;
  close(): void;
}

export function createLogging(opts: LoggingOptions): Logging {
  const ring = new LogRing();
  const streams: pino.StreamEntry[] = [{ stream: ring, level: 'debug' }];
  let file: RotatingFile | null = null;
  if (opts.file) {
    file = new RotatingFile(opts.file);
    streams.push({ stream: file, level: 'debug' });
  }
  if (opts.stderr === 'pretty')
    streams.push({
      stream: new PrettyStream(process.stderr, process.stderr.hasColors?.() ?? false),
      level: 'debug',
    });
  else if (opts.stderr) streams.push({ stream: process.stderr, level: 'debug' });
  const level = opts.level ?? process.env.LOCKBRIDGE_LOG_LEVEL ?? 'info';
  const logger = pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.multistream(streams),
  ) as unknown as Logger;
  return { logger, ring, close: () => file?.close() };
}
