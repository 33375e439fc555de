/**
 * Transcript DSL for IMAP protocol tests: a raw socket client that sends command lines and compares
 * the server's lines (exact strings or RegExps) up to and including the tagged reply.
 *
 *   const c = await ImapTestClient.connect(port);
 *   await c.expect('a1 LOGIN alice@example.test secret', [/^a1 OK \[CAPABILITY .*\] Logged in$/]);
 *
 * A response line that announces a literal (`{n}`) is returned with the literal bytes and the rest
 * of the line appended, e.g. `* 1 FETCH (BODY[] {5}\r\nhello)`.
 */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ImapServerHandle, ImapServerOptions } from '../../app/imap/server.ts';
import { startImapServer } from '../../app/imap/server.ts';
import { MemoryImapBackend } from './imap-memory-backend.ts';
import type { MemoryAccount, MemoryBackendOptions } from './imap-memory-backend.ts';

export type Expect = string | RegExp;

export class ImapTestClient {
  private socket: Socket;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closed = false;
  /** Every line received (for debugging failures). */
  readonly log: string[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(s: Socket): void {
    s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    s.on('close', () => {
      this.closed = true;
      this.wake();
    });
    s.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(
    port: number,
    options: { tls?: boolean; greeting?: boolean } = {},
  ): Promise<ImapTestClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = options.tls
        ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s))
        : netConnect({ port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new ImapTestClient(socket);
    if (options.greeting !== false) await c.readLine();
    return c;
  }

  /** Upgrade this connection to TLS (after a STARTTLS OK). */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.buf = Buffer.alloc(0);
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.attach(this.socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Stop reading from the socket (the server's writes back up), and start again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private async waitData(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; last lines:\n${this.log.slice(-10).join('\n')}`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        reject(
          new Error(
            `timeout waiting for server; buffered: ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}; last lines:\n${this.log.slice(-10).join('\n')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Next response line (CRLF stripped), with any literals inlined. */
  async readLine(timeoutMs = 5000): Promise<string> {
    let out = '';
    let from = 0;
    while (true) {
      const i = this.buf.indexOf('\r\n', from);
      if (i < 0) {
        from = Math.max(0, this.buf.length - 1);
        await this.waitData(timeoutMs);
        continue;
      }
      const line = this.buf.toString('utf8', 0, i);
      const m = /~?\{(\d+)\}$/.exec(line);
      if (m) {
        const n = Number(m[1]);
        while (this.buf.length < i + 2 + n) await this.waitData(timeoutMs);
        out += line + '\r\n' + this.buf.toString('utf8', i + 2, i + 2 + n);
        this.buf = this.buf.subarray(i + 2 + n);
        from = 0;
        continue;
      }
      out += line;
      this.buf = this.buf.subarray(i + 2);
      this.log.push(out);
      return out;
    }
  }

  /** Read lines until the tagged reply for `tag` (included). */
  async until(tag: string, timeoutMs = 5000): Promise<string[]> {
    const lines: string[] = [];
    while (true) {
      const l = await this.readLine(timeoutMs);
      lines.push(l);
      if (l.startsWith(tag + ' ')) return lines;
    }
  }

  /** Send a command line (the tag is its first word) and return every line up to its tagged reply. */
  async cmd(line: string, timeoutMs = 5000): Promise<string[]> {
    this.write(line + '\r\n');
    return this.until(line.split(' ')[0]!, timeoutMs);
  }

  /** Send a command and assert the exact sequence of response lines. */
  async expect(line: string, expected: Expect[]): Promise<string[]> {
    const got = await this.cmd(line);
    assertLines(got, expected, line);
    return got;
  }

  /** Assert the next lines (without sending anything). */
  async expectLines(expected: Expect[]): Promise<string[]> {
    const got: string[] = [];
    for (let i = 0; i < expected.length; i++) got.push(await this.readLine());
    assertLines(got, expected, '(unsolicited)');
    return got;
  }

  /** True if nothing arrives within `ms`. */
  async silent(ms = 100): Promise<boolean> {
    if (this.buf.length) return false;
    await new Promise((r) => setTimeout(r, ms));
    return this.buf.length === 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(this.closed, 'expected the server to close the connection');
  }

  close(): void {
    this.socket.destroy();
  }
}

export function assertLines(got: string[], expected: Expect[], context: string): void {
  const ok =
    got.length === expected.length &&
    expected.every((e, i) => (typeof e === 'string' ? got[i] === e : e.test(got[i]!)));
  if (!ok) {
    assert.fail(
      `response to ${JSON.stringify(context)} differs\n--- expected\n${expected.map(String).join('\n')}\n--- got\n${got.join('\n')}`,
    );
  }
}

export interface TestServer {
  port: number;
  backend: MemoryImapBackend;
  /** alice's account (created with INBOX, Drafts, Sent, Trash, Junk; uidValidity 1000..1004). */
  account: MemoryAccount;
  server: ImapServerHandle;
  close(): Promise<void>;
  /** Connect and log in as alice. */
  login(): Promise<ImapTestClient>;
}

export const USER = 'alice@example.test';
export const PASS = 'secret';

export async function startTestServer(
  options: Partial<ImapServerOptions> = {},
  backendOptions: MemoryBackendOptions = {},
): Promise<TestServer> {
  const backend = new MemoryImapBackend({ users: { [USER]: PASS }, ...backendOptions });
  const account = backend.account(USER);
  const server = await startImapServer({
    backend,
    port: 0,
    allowPlaintextLogin: true,
    throttle: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  return {
    port: server.port,
    backend,
    account,
    server,
    close: () => server.close(),
    async login() {
      const c = await ImapTestClient.connect(server.port);
      const r = await c.cmd(`L1 LOGIN ${USER} ${PASS}`);
      assert.match(r[r.length - 1]!, /^L1 OK /);
      return c;
    },
  };
}

/** A small RFC 5322 message with CRLF line endings. */
export function message(opts: {
  subject?: string;
  from?: string;
  to?: string;
  date?: string;
  messageId?: string;
  headers?: string[];
  body?: string;
}): string {
  const lines = [
    `From: ${opts.from ?? 'Bob <bob@example.test>'}`,
    `To: ${opts.to ?? 'alice@example.test'}`,
    `Subject: ${opts.subject ?? 'hello'}`,
    `Date: ${opts.date ?? 'Mon, 23 Nov 2026 09:36:13 +0000'}`,
    `Message-ID: ${opts.messageId ?? '<m1@example.test>'}`,
    ...(opts.headers ?? []),
    '',
    opts.body ?? 'Hello Alice',
    '',
  ];
  return lines.join('\r\n');
}
