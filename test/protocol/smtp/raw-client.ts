/** A raw SMTP test client: exact reply lines, optional pipelining, STARTTLS upgrade. */
import net from 'node:net';
import tls from 'node:tls';

export class RawSmtpClient {
  #sock: net.Socket | tls.TLSSocket;
  #buf = '';
  #lines: string[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(sock: net.Socket | tls.TLSSocket) {
    this.#sock = sock;
    this.#attach(sock);
  }

  static async connect(port: number, opts: { tls?: { ca: string } } = {}): Promise<RawSmtpClient> {
    const sock = opts.tls
      ? tls.connect({ host: '127.0.0.1', port, ca: opts.tls.ca })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      sock.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', reject);
    });
    return new RawSmtpClient(sock);
  }

  #attach(sock: net.Socket | tls.TLSSocket): void {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      let i;
      while ((i = this.#buf.indexOf('\r\n')) >= 0) {
        this.#lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 2);
      }
      this.#wake();
    });
    sock.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    sock.on('error', () => {});
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  async #line(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#lines.length) {
      if (this.#closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout waiting for a reply');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.#lines.shift()!;
  }

  /** Reads one complete (possibly multi-line) reply; returns its lines. */
  async reply(timeoutMs = 10_000): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.#line(timeoutMs);
      out.push(l);
      if (/^\d{3} /.test(l) || /^\d{3}$/.test(l)) return out;
    }
  }

  write(data: string | Buffer): void {
    this.#sock.write(data);
  }

  /** Sends one command line and returns the reply lines. */
  async cmd(line: string, timeoutMs?: number): Promise<string[]> {
    this.write(line + '\r\n');
    return this.reply(timeoutMs);
  }

  /** Sends one command and returns just the last reply line. */
  async cmd1(line: string, timeoutMs?: number): Promise<string> {
    const r = await this.cmd(line, timeoutMs);
    return r[r.length - 1]!;
  }

  async startTls(ca: string): Promise<void> {
    const plain = this.#sock as net.Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#sock = secure;
    this.#attach(secure);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#sock.destroy();
  }
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
