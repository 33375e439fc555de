/**
 * Sync benchmark, side by side in one run against the same Dovecot:
 *  - initial sync of N plaintext messages: Lockbridge (SQLCipher store, engine in a child process
 *    so its peak RSS is its own) vs mbsync into a local maildir → ratio (target ≤ 1.5);
 *  - initial sync of N PGP/MIME 20 KB messages decrypted on the crypto worker pool (target ≥ 600/s, issue 20);
 *  - push latency: LMTP delivery → Lockbridge engine (IDLE at Dovecot) → store → Lockbridge's
 *    IMAP server → a client IDLE-ing on it, next to the same client IDLE-ing on Dovecot directly;
 *  - bodies on demand: FETCH BODY[] of an evicted 40 KB body through the bridge's IMAP server, next to
 *    the same FETCH straight from Dovecot (target ≤ 2x);
 *  - peak RSS of the syncing process (target ≤ 300 MB).
 * The latency rows run the bridge in a process of its own, as the product runs (bridgeRig), with
 * both clients in this one.
 * `smoke` = tiny sizes. Also runnable alone: `scripts/node24 bench/sync.ts [--smoke]`;
 * `LB_BENCH_SYNC_ROWS=on-demand` (a comma list of plain, pgp, push, on-demand) runs only those rows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImapFlow } from 'imapflow';
import { startProvider, type Provider } from '../test/helpers/provider.ts';
import { createStore, openStore, type Store } from '../app/store/store.ts';
import { silentLogger } from '../app/shared/logger.ts';
import { peakRssBytes } from './peak-rss.ts';
import { createSyncEngine } from '../app/sync/engine.ts';
import { connectProvider } from '../app/sync/remote/connect.ts';
import type { ProcessInbound } from '../app/sync/types.ts';
import { createWorkerPool } from '../app/crypto/worker-pool.ts';
import { buildServedMessage } from '../app/crypto/served-message.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(SELF, '..', '..');
/** Node as bin/lockbridge runs the bridge (V8 and malloc settings, compile cache): the product's process. */
export const LOCKBRIDGE_NODE = join(ROOT, 'scripts', 'lockbridge-node');
const KDF = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
const PASS = 'bench';
const FIX = join(ROOT, 'test', 'fixtures', 'pgp');

function textMessage(i: number, size: number, to: string): Buffer {
  const head =
    `From: Sender ${i % 97} <sender${i % 97}@outside.test>\r\nTo: ${to}\r\nSubject: bench message ${i}\r\n` +
    `Date: ${new Date(Date.UTC(2025, 0, 1) + i * 60_000).toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: <bench${i}@outside.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const line = `Line of message ${i}: the quarterly report and the meeting schedule are attached.\r\n`;
  let body = '';
  while (head.length + body.length < size) body += line;
  return Buffer.from(head + body);
}

async function createHome(p: Provider, email: string): Promise<{ home: string; accountId: number }> {
  const home = mkdtempSync(join(tmpdir(), 'lb-bench-sync-'));
  const store = await createStore({
    dir: home,
    passphrase: PASS,
    logger: silentLogger,
    kdf: KDF,
    ftsIndexing: 'manual',
  });
  const acc = p.account(email);
  const a = store.accounts.create({
    email,
    imap: { host: acc.host, port: acc.port },
    smtp: { host: acc.host, port: 25 },
    security: 'starttls',
    providerPassword: acc.password,
    caPem: acc.ca,
  });
  store.close();
  return { home, accountId: a.id };
}

interface ChildResult {
  ms: number;
  messages: number;
  maxRssMb: number;
  /** CPU time of the whole process (every thread) and of its main thread, in ms */
  cpuMs: number;
  mainCpuMs: number;
}

function runChild(mode: 'plain' | 'pgp', home: string, accountId: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(LOCKBRIDGE_NODE, [SELF, '--child', mode, home, String(accountId)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sync child exited with ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string) as ChildResult);
    });
  });
}

async function childMain(mode: string, home: string, accountId: number): Promise<void> {
  const store = await openStore({ dir: home, passphrase: PASS, logger: silentLogger, ftsIndexing: 'manual' });
  let processInbound: ProcessInbound | undefined;
  const pool = mode === 'pgp' ? createWorkerPool() : null;
  if (pool) {
    const key = readFileSync(join(FIX, 'alice.sec.asc'), 'utf8');
    const bob = readFileSync(join(FIX, 'bob.pub.asc'), 'utf8');
    processInbound = async (raw) => {
      const r = await pool.decryptMessage(raw, { decryptionKeys: [key], verificationKeys: [bob] });
      return { served: buildServedMessage(raw, r) };
    };
  }
  const engine = createSyncEngine({
    store,
    accountId,
    logger: silentLogger,
    connect: connectProvider,
    idle: false,
    ...(process.env.LB_BENCH_SYNC_BATCH ? { batchMessages: Number(process.env.LB_BENCH_SYNC_BATCH) } : {}),
    ...(processInbound ? { processInbound } : {}),
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  const memTimer = process.env.LB_BENCH_SYNC_MEM
    ? setInterval(() => {
        const m = process.memoryUsage();
        process.stderr.write(
          `rss ${(m.rss / 1e6).toFixed(0)} heap ${(m.heapUsed / 1e6).toFixed(0)}/${(m.heapTotal / 1e6).toFixed(0)} ext ${(m.external / 1e6).toFixed(0)} ab ${(m.arrayBuffers / 1e6).toFixed(0)}\n`,
        );
      }, 1000)
    : null;
  engine.start();
  await engine.whenSynced(30 * 60_000);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const main = process.threadCpuUsage(main0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const mainCpuMs = (main.user + main.system) / 1000;
  if (memTimer) clearInterval(memTimer);
  await engine.stop();
  let messages = 0;
  for (const mb of store.mailboxes.list(accountId)) messages += store.mailboxes.status(mb.id).messages;
  store.close();
  await pool?.close();
  const maxRssMb = peakRssBytes() / 1048576; // this child's own (its parent holds the PGP corpus)
  process.stdout.write(JSON.stringify({ ms, messages, maxRssMb, cpuMs, mainCpuMs }) + '\n');
}

/**
 * mbsync pulling the account's folders into a fresh local maildir; its time in ms. `headersOnly`:
 * messages over 100 bytes (all of them) arrive as mbsync's placeholders, which carry the message's
 * header block and no body (isync's MaxSize on the near store): a header-only sync. `fsync: false`:
 * mbsync does not flush each message to disk (it does by default).
 */
export function mbsync(
  p: Provider,
  email: string,
  password: string,
  o: { patterns?: string; headersOnly?: boolean; fsync?: boolean } = {},
): number {
  const dir = mkdtempSync(join(tmpdir(), 'lb-bench-mbsync-'));
  try {
    mkdirSync(join(dir, 'maildir'));
    const rc = join(dir, 'mbsyncrc');
    writeFileSync(
      rc,
      (o.fsync === false ? 'FSync no\n\n' : '') +
        // no data timeout: Dovecot's answer to the listing of a million-message folder took longer
        // than mbsync's default 20 s on a loaded machine (the 1,000,000 run of bench/million.ts)
        `IMAPAccount prov\nHost localhost\nPort ${p.imapPort}\nUser ${email}\nPass ${password}\nSSLType STARTTLS\nTimeout 0\n` +
        `CertificateFile ${p.caFile}\n\nIMAPStore remote\nAccount prov\n\n` +
        `MaildirStore local\nPath ${dir}/maildir/\nInbox ${dir}/maildir/INBOX\nSubFolders Verbatim\n` +
        (o.headersOnly ? 'MaxSize 100b\n' : '') +
        `\nChannel ch\nFar :remote:\nNear :local:\nPatterns ${o.patterns ?? 'INBOX'}\nCreate Near\nSyncState *\nSync Pull\n`,
    );
    const t0 = performance.now();
    const r = spawnSync('mbsync', ['-c', rc, '-q', 'ch'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`mbsync failed: ${r.stderr}`);
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface BridgeRig {
  /** an IMAP client of the bridge's server and one of Dovecot, each with INBOX selected */
  lbClient: ImapFlow;
  dcClient: ImapFlow;
  /** Evicts every body from the bridge's body cache (BridgeOptions.evict: this many messages). */
  evict(): Promise<void>;
  close(): Promise<void>;
}

interface BridgeOptions {
  fullText: boolean;
  idle: boolean;
  onDemand: boolean;
  /** BridgeRig.evict evicts this many messages' bodies (every one) */
  evict?: number;
}

/**
 * The bridge for one provider account as the latency rows measure it, in a process of its own as
 * the product runs (bridgeMain: the account's store, its sync engine started and synced, the
 * bridge's IMAP server on that store), and a client of it beside a client of Dovecot, both in this
 * process: the bridge's work after an answer (a body written back) is not charged to the client
 * reading it, nor to the Dovecot client's next FETCH, as it would be were they in one process.
 */
async function bridgeRig(p: Provider, email: string, o: BridgeOptions): Promise<BridgeRig> {
  const { home, accountId } = await createHome(p, email);
  const child = spawn(LOCKBRIDGE_NODE, [SELF, '--bridge', JSON.stringify({ ...o, home, accountId })], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let lbClient: ImapFlow | undefined;
  let dcClient: ImapFlow | undefined;
  let evict = (): Promise<void> => Promise.reject(new Error('the bridge is not started'));
  const close = async () => {
    await lbClient?.logout().catch(() => {});
    await dcClient?.logout().catch(() => {});
    child.stdin.end(); // the bridge stops when its stdin closes
    const code = await exited;
    rmSync(home, { recursive: true, force: true });
    if (code !== 0) throw new Error(`the bridge process exited with ${code}`);
  };
  try {
    // the bridge's lines on stdout: {"port":N} once synced, then {"evicted":N} after each "evict"
    let out = '';
    const waiters: Array<(line: Record<string, number>) => void> = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('{')) waiters.shift()?.(JSON.parse(line) as Record<string, number>);
      }
    });
    const nextLine = () =>
      new Promise<Record<string, number>>((resolve, reject) => {
        waiters.push(resolve);
        void exited.then((code) => reject(new Error(`the bridge process exited with ${code}: ${out}`)));
      });
    evict = async () => {
      const answer = nextLine();
      child.stdin.write('evict\n');
      await answer;
    };
    const { port } = (await nextLine()) as { port: number };
    const { plainImapFlow } = await import('../test/helpers/imap-store-server.ts');
    const lb = plainImapFlow(port, email, 'local-pw');
    lbClient = lb;
    const dc = await p.imapClient(email);
    dcClient = dc;
    await lb.connect();
    await lb.mailboxOpen('INBOX');
    await dc.mailboxOpen('INBOX');
    return { lbClient: lb, dcClient: dc, evict: () => evict(), close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

/**
 * The bridge process of bridgeRig: prints {"port":N} once synced; evicts every body on each
 * "evict" line of stdin, then prints {"evicted":N}; stops when stdin closes.
 */
async function bridgeMain(o: BridgeOptions & { home: string; accountId: number }): Promise<void> {
  const store: Store = await openStore({
    dir: o.home,
    passphrase: PASS,
    logger: silentLogger,
    ...(o.fullText ? {} : { ftsIndexing: 'manual' as const }),
  });
  const { serveStore } = await import('../test/helpers/imap-store-server.ts');
  store.credentials.set('local-pw');
  const engine = createSyncEngine({
    store,
    accountId: o.accountId,
    logger: silentLogger,
    connect: connectProvider,
    ...(o.idle ? {} : { idle: false }),
  });
  const served = await serveStore(store, o.onDemand ? engine : undefined);
  engine.start();
  await engine.whenSynced(60_000);
  const evict = async (n: number): Promise<void> => {
    // every body evicted (budget 0), then a budget no fetched body is evicted under again
    store.messages.bodyCache.setBudget(0);
    for (const deadline = Date.now() + 60_000; store.messages.bodyCache.status().evicted < n;) {
      if (Date.now() > deadline) throw new Error('the bodies were not evicted');
      store.messages.bodyCache.evictStep(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    store.messages.bodyCache.setBudget(null);
    process.stdout.write(JSON.stringify({ evicted: store.messages.bodyCache.status().evicted }) + '\n');
  };
  process.stdout.write(JSON.stringify({ port: served.server.port }) + '\n');
  let input = '';
  let evicting = Promise.resolve();
  process.stdin.on('data', (d: Buffer) => {
    input += d.toString();
    for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
      if (input.slice(0, nl) === 'evict') evicting = evicting.then(() => evict(o.evict ?? 0));
      input = input.slice(nl + 1);
    }
  });
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await evicting;
  await engine.stop();
  await served.close();
  store.close();
}

async function pushLatency(
  p: Provider,
  rounds: number,
): Promise<{ lockbridge: number[]; dovecot: number[] }> {
  const email = 'push@example.test';
  await p.addUser(email, 'pw');
  const { lbClient, dcClient, close } = await bridgeRig(p, email, {
    fullText: false,
    idle: true,
    onDemand: false,
  });
  // Both clients IDLE for the whole measurement (EXISTS arrives during IDLE).
  void lbClient.idle().catch(() => {});
  void dcClient.idle().catch(() => {});
  const out = { lockbridge: [] as number[], dovecot: [] as number[] };
  try {
    for (let i = 0; i < rounds; i++) {
      let t0 = 0;
      const got = (client: ImapFlow, into: number[]) =>
        new Promise<void>((resolve) => {
          const h = () => {
            into.push(performance.now() - t0);
            client.off('exists', h);
            resolve();
          };
          client.on('exists', h);
        });
      const a = got(lbClient, out.lockbridge);
      const b = got(dcClient, out.dovecot);
      // imapflow IDLEs by itself when nothing else is running
      await new Promise((r) => setTimeout(r, 300));
      t0 = performance.now();
      await p.deliver(textMessage(100000 + i, 2000, email), { to: [email], via: 'lmtp' });
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.all([a, b]),
          new Promise((_, rej) => {
            timer = setTimeout(() => rej(new Error('push timeout')), 30_000);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    await close();
  }
  return out;
}

/**
 * Bodies on demand (issue 20): FETCH BODY[] of a body evicted from the bridge's body cache (the
 * bridge fetches it from the provider on its warm on-demand connection, checks it, serves it and
 * stores it back), next to the same FETCH straight from Dovecot, alternating, one message each time
 * (40 KB plaintext). Target: the bridge within 2x of Dovecot (median).
 * The bridge is measured as it runs once it has served a client a while, not as a process that
 * has just started: the client reads the folder through it WARM_PASSES times before the bodies
 * are evicted (a bridge answers thousands of FETCHes a day; a fresh process's first ones run
 * unoptimised JavaScript: a local FETCH of 40 KB took 0.6-0.9 ms of the bridge's time in the
 * first 200, 0.2-0.3 ms after 1,000 — a cost of its start, not of bodies on demand).
 */
const WARM_PASSES = 20;

async function onDemandLatency(
  p: Provider,
  rounds: number,
): Promise<{ lockbridge: number[]; dovecot: number[] }> {
  const email = 'ondemand@example.test';
  await p.addUser(email, 'pw');
  const n = rounds + 1;
  await p.bulkLoad(
    email,
    'INBOX',
    (function* () {
      for (let i = 0; i < n; i++) yield textMessage(i, 40_000, email);
    })(),
  );
  // the full-text index runs (a body is evicted only once indexed); no IDLE, bodies come on demand
  const { lbClient, dcClient, evict, close } = await bridgeRig(p, email, {
    fullText: true,
    idle: false,
    onDemand: true,
    evict: n,
  });
  const out = { lockbridge: [] as number[], dovecot: [] as number[] };
  try {
    const timed = async (c: ImapFlow, uid: number, into: number[] | null) => {
      const t0 = performance.now();
      const m = await c.fetchOne(String(uid), { source: true }, { uid: true });
      if (!m || !m.source || m.source.length < 40_000) throw new Error(`no body for UID ${uid}`);
      into?.push(performance.now() - t0);
    };
    for (let pass = 0; pass < WARM_PASSES; pass++)
      for (let uid = 1; uid <= n; uid++) {
        await timed(lbClient, uid, null);
        await timed(dcClient, uid, null);
      }
    await evict();
    // the first on-demand fetch opens the provider connection: measured apart, not in the median
    await timed(lbClient, 1, null);
    await timed(dcClient, 1, null);
    // a pause before each: the bridge's work after an answer (the body stored back) is over
    // before the next FETCH is timed, so it is charged to neither (2 cores)
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
    for (let uid = 2; uid <= n; uid++) {
      await settle();
      await timed(lbClient, uid, out.lockbridge);
      await settle();
      await timed(dcClient, uid, out.dovecot);
    }
  } finally {
    await close();
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const ROWS = ['plain', 'pgp', 'push', 'on-demand'] as const;

export async function run(opts: { smoke: boolean; log: (line: string) => void }): Promise<void> {
  const N = Number(process.env.LB_BENCH_SYNC_N ?? (opts.smoke ? 200 : 10_000));
  const NP = Number(process.env.LB_BENCH_SYNC_NP ?? (opts.smoke ? 60 : 10_000));
  const rounds = opts.smoke ? 3 : 10;
  const only = process.env.LB_BENCH_SYNC_ROWS?.split(',').map((r) => r.trim());
  const unknown = only?.filter((r) => !(ROWS as readonly string[]).includes(r));
  if (unknown?.length)
    throw new Error(`LB_BENCH_SYNC_ROWS: unknown row ${unknown.join(', ')} (rows: ${ROWS.join(', ')})`);
  const wants = (row: (typeof ROWS)[number]) => !only || only.includes(row);
  const p = await startProvider({ postfix: false });
  const homes: string[] = [];
  try {
    let lb: ChildResult | null = null;
    let mbMs = 0;
    if (wants('plain')) {
      // Plaintext: Lockbridge vs mbsync.
      const plainUser = 'plain@example.test';
      await p.addUser(plainUser, 'pw');
      await p.bulkLoad(
        plainUser,
        'INBOX',
        (function* () {
          for (let i = 0; i < N; i++) yield textMessage(i, 4000, plainUser);
        })(),
      );
      mbMs = mbsync(p, plainUser, 'pw');
      const plainHome = await createHome(p, plainUser);
      homes.push(plainHome.home);
      lb = await runChild('plain', plainHome.home, plainHome.accountId);
      if (lb.messages !== N) throw new Error(`Lockbridge synced ${lb.messages} of ${N} messages`);
    }

    let pg: ChildResult | null = null;
    if (wants('pgp')) {
      // PGP/MIME 20 KB.
      const pgpUser = 'pgp@example.test';
      await p.addUser(pgpUser, 'pw');
      const pool = createWorkerPool({ size: availableParallelism() }); // setup only: as fast as it goes
      const alicePub = readFileSync(join(FIX, 'alice.pub.asc'), 'utf8');
      const bobSec = readFileSync(join(FIX, 'bob.sec.asc'), 'utf8');
      const enc: Buffer[] = [];
      try {
        const jobs: Array<Promise<Buffer>> = [];
        for (let i = 0; i < NP; i++)
          jobs.push(
            pool.encryptMessage(textMessage(i, 20_000, pgpUser), {
              encryptionKeys: [alicePub],
              signingKeys: [bobSec],
            }),
          );
        enc.push(...(await Promise.all(jobs)));
      } finally {
        await pool.close();
      }
      await p.bulkLoad(pgpUser, 'INBOX', enc);
      enc.length = 0;
      const pgpHome = await createHome(p, pgpUser);
      homes.push(pgpHome.home);
      pg = await runChild('pgp', pgpHome.home, pgpHome.accountId);
      if (pg.messages !== NP) throw new Error(`Lockbridge synced ${pg.messages} of ${NP} PGP messages`);
    }

    const push = wants('push') ? await pushLatency(p, rounds) : null;
    const onDemand = wants('on-demand') ? await onDemandLatency(p, opts.smoke ? 10 : 40) : null;

    opts.log('| measure | Lockbridge | reference | ratio / target |');
    opts.log('| --- | --- | --- | --- |');
    if (lb) {
      const ratio = lb.ms / mbMs;
      opts.log(
        `| initial sync, ${N} plaintext msgs (4 KB) | ${(lb.ms / 1000).toFixed(2)} s | mbsync ${(mbMs / 1000).toFixed(2)} s | ${ratio.toFixed(2)} (target ≤ 1.5) ${ratio <= 1.5 ? 'OK' : 'MISSED'} |`,
      );
    }
    if (pg) {
      const pgpRate = NP / (pg.ms / 1000);
      opts.log(
        `| initial sync, ${NP} PGP/MIME msgs (20 KB) | ${pgpRate.toFixed(0)} msgs/s (${(pg.ms / 1000).toFixed(2)} s; CPU ${(pg.cpuMs / NP).toFixed(2)} ms/msg, main thread ${(pg.mainCpuMs / NP).toFixed(2)}) | — | target ≥ 600/s ${opts.smoke ? '(smoke size: worker start-up dominates)' : pgpRate >= 600 ? 'OK' : 'MISSED'} |`,
      );
    }
    if (push)
      opts.log(
        `| push latency, provider → IDLE client (median / max of ${rounds}) | ${median(push.lockbridge).toFixed(0)} / ${Math.max(...push.lockbridge).toFixed(0)} ms | Dovecot IDLE ${median(push.dovecot).toFixed(0)} / ${Math.max(...push.dovecot).toFixed(0)} ms | target ≤ 2000 ms ${Math.max(...push.lockbridge) <= 2000 ? 'OK' : 'MISSED'} |`,
      );
    if (onDemand) {
      const odRatio = median(onDemand.lockbridge) / median(onDemand.dovecot);
      opts.log(
        `| evicted 40 KB body fetched on demand, FETCH BODY[] (median / max of ${onDemand.lockbridge.length}) | ${median(onDemand.lockbridge).toFixed(1)} / ${Math.max(...onDemand.lockbridge).toFixed(1)} ms | Dovecot ${median(onDemand.dovecot).toFixed(1)} / ${Math.max(...onDemand.dovecot).toFixed(1)} ms | ${odRatio.toFixed(2)} (target ≤ 2) ${odRatio <= 2 ? 'OK' : 'MISSED'} |`,
      );
    }
    if (lb || pg) {
      const rss = Math.max(lb?.maxRssMb ?? 0, pg?.maxRssMb ?? 0);
      const of = [
        lb ? `plain ${lb.maxRssMb.toFixed(0)} MB` : '',
        pg ? `pgp ${pg.maxRssMb.toFixed(0)} MB` : '',
      ]
        .filter(Boolean)
        .join(', ');
      opts.log(
        `| peak RSS of the syncing process | ${of} | — | target ≤ 300 MB ${rss <= 300 ? 'OK' : 'MISSED'} |`,
      );
    }
  } finally {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await p.close();
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') {
    await childMain(process.argv[3] as string, process.argv[4] as string, Number(process.argv[5]));
  } else if (process.argv[2] === '--bridge') {
    await bridgeMain(
      JSON.parse(process.argv[3] as string) as BridgeOptions & { home: string; accountId: number },
    );
  } else {
    await run({ smoke: process.argv.includes('--smoke'), log: (l) => console.log(l) });
  }
}
