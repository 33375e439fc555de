/**
 * SMTP benchmark: submission-to-queued latency (client → local SMTP → keys → PGP/MIME → outbox
 * COMMIT → 250) and relay throughput (outbox → provider), for 20 KB and 1 MB messages to 1 and 10
 * recipients, plus the target case: 1 MB to 10 To/Cc + 3 Bcc (one encrypted message + 3 separate
 * Bcc copies) queued in ≤ 1 s.
 *
 * Reference measured in the same run: the same message submitted with the same client to a bare
 * smtp-server that only buffers it (no crypto, no store), and relayed with a bare nodemailer loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import * as openpgp from 'openpgp';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { newStore } from '../test/unit/store/helpers.ts';
import { Keyring } from '../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../test/helpers/memory-keyring-repo.ts';
import { DEFAULT_SETTINGS } from '../app/config/settings.ts';
import { silentLogger, type Logger } from '../app/shared/logger.ts';
import { startSmtpServer } from '../app/smtp/server.ts';
import { createOutgoingMail } from '../app/control/adapters/submission.ts';

const ALICE = 'alice@bench.test';

const debugLogger: Logger = {
  debug() {},
  info(o, m) {
    console.error(m, JSON.stringify(o));
  },
  warn(o, m) {
    console.error(m, JSON.stringify(o));
  },
  error(o, m) {
    console.error(m, JSON.stringify(o));
  },
  child() {
    return debugLogger;
  },
};
const PW = 'bench-local';

async function sinkServer(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 200 * 1024 * 1024,
    onAuth: (_a, _s, cb) => cb(null, { user: 'x' }),
    onData: (stream, _s, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        Buffer.concat(chunks);
        n++;
        cb(null, 'ok');
      });
    },
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.server.address() as AddressInfo).port,
    count: () => n,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

function body(bytes: number): string {
  const line = () => randomBytes(57).toString('base64');
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    const l = line();
    lines.push(l);
    n += l.length + 2;
  }
  return lines.join('\r\n') + '\r\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export async function run(opts: { smoke: boolean; log: (line: string) => void }): Promise<void> {
  const { smoke, log } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'lb-bench-smtp-'));
  const sink = await sinkServer();
  const ref = await sinkServer();
  const store = await newStore(dir);
  try {
    const accountId = store.accounts.create({
      email: ALICE,
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: sink.port },
      security: 'none',
      username: 'u',
      providerPassword: 'p',
    }).id;
    store.credentials.set(PW);
    const repo = new InMemoryKeyringRepo();
    const keyring = new Keyring({ repo });
    await keyring.own.generate(ALICE);
    const rcpts: string[] = [];
    for (let i = 0; i < 13; i++) {
      const email = `r${i}@bench.test`;
      const { publicKey } = await openpgp.generateKey({
        userIDs: [{ email }],
        type: 'ecc',
        curve: 'curve25519Legacy',
        format: 'armored',
      });
      await keyring.importKeys(publicKey, { source: 'manual' });
      rcpts.push(email);
    }
    // The product's assembly; the relay is not started: the bench drains it with runOnce() below.
    const outgoing = createOutgoingMail({
      store,
      keyring,
      keyringRepo: repo,
      settings: () => DEFAULT_SETTINGS,
      logger: process.env.LB_BENCH_DEBUG ? debugLogger : silentLogger,
      checkDomains: false, // bench.test is not in DNS
      relay: { pollMs: 1e9 },
    });
    const { worker } = outgoing;
    const smtp = await startSmtpServer({
      submission: outgoing.adapter,
      logger: silentLogger,
      port: 0,
      maxMessageSize: 50 * 1024 * 1024,
    });
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
      auth: { user: ALICE, pass: PW },
    });
    const refClient = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ref.port,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
    });

    const cases: { label: string; size: number; to: number; bcc: number }[] = smoke
      ? [
          { label: '20 KB → 1', size: 20_000, to: 1, bcc: 0 },
          { label: '20 KB → 10', size: 20_000, to: 10, bcc: 0 },
          { label: '1 MB → 10 + 3 Bcc', size: 1_000_000, to: 10, bcc: 3 },
        ]
      : [
          { label: '20 KB → 1', size: 20_000, to: 1, bcc: 0 },
          { label: '20 KB → 10', size: 20_000, to: 10, bcc: 0 },
          { label: '1 MB → 1', size: 1_000_000, to: 1, bcc: 0 },
          { label: '1 MB → 10', size: 1_000_000, to: 10, bcc: 0 },
          { label: '1 MB → 10 + 3 Bcc', size: 1_000_000, to: 10, bcc: 3 },
        ];
    const reps = (size: number) => (smoke ? 2 : size > 100_000 ? 8 : 40);

    // warm-up: connection setup (smtp-server's greeting delay), JIT, key caches
    const warm = await new MailComposer({ from: ALICE, to: rcpts[0], subject: 'warm-up', text: 'x' })
      .compile()
      .build();
    await client.sendMail({ envelope: { from: ALICE, to: [rcpts[0]!] }, raw: warm });
    await refClient.sendMail({ envelope: { from: ALICE, to: [rcpts[0]!] }, raw: warm });

    log('submission → queued (250 after outbox COMMIT), median per message');
    log(
      `${pad('case', 20)} ${pad('lockbridge ms', 14)} ${pad('bare smtp ms', 13)} ${pad('ratio', 7)} copies`,
    );
    let targetMs = 0;
    for (const c of cases) {
      const text = body(c.size);
      // the client's message is composed once, outside the timing (as a mail client has it ready)
      const to = rcpts.slice(0, Math.min(c.to, 5));
      const cc = rcpts.slice(5, c.to);
      const bcc = rcpts.slice(10, 10 + c.bcc);
      const raw = await new MailComposer({ from: ALICE, to, cc, subject: `bench ${c.label}`, text })
        .compile()
        .build();
      const mail = { envelope: { from: ALICE, to: [...to, ...cc, ...bcc] }, raw };
      const ours: number[] = [];
      const theirs: number[] = [];
      const before = store.outbox.list(accountId).length;
      for (let i = 0; i < reps(c.size); i++) {
        let t0 = performance.now();
        await client.sendMail(mail);
        ours.push(performance.now() - t0);
        t0 = performance.now();
        await refClient.sendMail(mail);
        theirs.push(performance.now() - t0);
      }
      const copies = (store.outbox.list(accountId).length - before) / reps(c.size);
      const m = median(ours);
      const r = median(theirs);
      if (c.bcc) targetMs = m;
      log(
        `${pad(c.label, 20)} ${pad(m.toFixed(1), 14)} ${pad(r.toFixed(1), 13)} ${pad((m / r).toFixed(1) + '×', 7)} ${copies}`,
      );
    }
    log(
      `target: 1 MB to 10 To/Cc + 3 Bcc queued in ≤ 1000 ms → ${targetMs.toFixed(0)} ms ${targetMs <= 1000 ? 'OK' : 'MISSED'}`,
    );

    // relay throughput: drain what was queued above, vs. the same bytes sent by bare nodemailer
    const queued = store.outbox.due(Date.now(), 100000);
    const bytes = queued.reduce((a, r) => a + r.size, 0);
    let t0 = performance.now();
    while ((await worker.runOnce()) > 0) {
      // drain
    }
    const relayMs = performance.now() - t0;
    const raws = queued.map((r) => ({ env: r.envelope, raw: store.outbox.raw(r.id)! }));
    t0 = performance.now();
    for (const r of raws)
      await refClient.sendMail({ envelope: { from: r.env.from, to: r.env.to }, raw: r.raw });
    const refMs = performance.now() - t0;
    log('');
    log('relay outbox → provider');
    log(
      `${queued.length} copies, ${(bytes / 1e6).toFixed(1)} MB: lockbridge ${(queued.length / (relayMs / 1000)).toFixed(1)} copies/s ` +
        `(${(bytes / 1e6 / (relayMs / 1000)).toFixed(1)} MB/s); bare nodemailer ${(queued.length / (refMs / 1000)).toFixed(1)} copies/s; ` +
        `ratio ${(relayMs / refMs).toFixed(2)}× time`,
    );
    if (sink.count() !== queued.length)
      throw new Error(`relay delivered ${sink.count()} of ${queued.length}`);
    client.close();
    refClient.close();
    await outgoing.stop();
    await smtp.close();
  } finally {
    store.close();
    await sink.close();
    await ref.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
