/** A provider stand-in: smtp-server that records each transaction and can be told to refuse. */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface SinkTransaction {
  from: string;
  to: string[];
  raw: Buffer;
  user: string;
}

export class SinkServer {
  readonly received: SinkTransaction[] = [];
  /** Next DATA replies (an Error with responseCode), consumed in order. */
  readonly dataReplies: { code: number; message: string }[] = [];
  /** Recipients refused at RCPT TO with 550. */
  readonly refuse = new Set<string>();
  #srv: SMTPServer | null = null;
  port = 0;

  async start(): Promise<void> {
    this.#srv = new SMTPServer({
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      authMethods: ['PLAIN', 'LOGIN'],
      disableReverseLookup: true,
      logger: false,
      onAuth: (auth, _s, cb) =>
        auth.username === 'provider-user' && auth.password === 'provider-pass'
          ? cb(null, { user: auth.username })
          : cb(Object.assign(new Error('bad provider login'), { responseCode: 535 })),
      onRcptTo: (addr, _s, cb) =>
        this.refuse.has(addr.address)
          ? cb(
              Object.assign(new Error(`<${addr.address}>: Recipient address rejected: User unknown`), {
                responseCode: 550,
              }),
            )
          : cb(),
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const reply = this.dataReplies.shift();
          if (reply) return cb(Object.assign(new Error(reply.message), { responseCode: reply.code }));
          this.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            user: String(session.user),
          });
          cb(null, 'ok');
        });
      },
    });
    await new Promise<void>((r) => this.#srv!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.#srv.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.#srv) await new Promise<void>((r) => this.#srv!.close(() => r()));
  }
}
