/**
 * Store benchmark: import of 20 KB messages through the real pipeline (mbox → CRLF → MIME analysis
 * → SQLCipher), insert rate SQLCipher vs plain SQLite (the reference, same schema and code),
 * full-text indexing, UID lookups, FETCH-style scans and header-index scans. Imports run in a child
 * process so peak RSS is the import's own, started the way bin/lockbridge starts the bridge
 * (scripts/lockbridge-node); the 100k import also runs in a plain `node` as the same-run reference.
 * `smoke` = tiny sizes.
 *
 * Also runnable alone: `scripts/node24 bench/store.ts [--smoke]`.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3-multiple-ciphers';
import { analyzeMessage } from '../app/mime/analyze.ts';
import { silentLogger } from '../app/shared/logger.ts';
import { peakRssBytes } from './peak-rss.ts';
import { ChangeFeed } from '../app/store/change-feed.ts';
import { importFiles } from '../app/store/import/importer.ts';
import { MIGRATIONS } from '../app/store/migrations/index.ts';
import { migrate } from '../app/store/migrations/runner.ts';
import { MessagesRepo, type NewMessage } from '../app/store/repos/messages.ts';
import { PendingChangesRepo } from '../app/store/repos/pending-changes.ts';
import { StoreDb } from '../app/store/sql.ts';
import { createStore, openStore, type Store } from '../app/store/store.ts';
import { createImapBackend } from '../app/control/adapters/imap-backend.ts';
import type { FetchWant } from '../app/imap/backend.ts';

const SELF = fileURLToPath(import.meta.url);
/** Node as bin/lockbridge runs the bridge (V8 and malloc settings, compile cache): the product's process. */
const LOCKBRIDGE_NODE = join(SELF, '..', '..', 'scripts', 'lockbridge-node');
const PASS = 'bench passphrase';
const KDF = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

// ------------------------------------------------------------------ data

const WORDS = (
  'the of and to in is that for it as with was on be by at this have from or an they which you one had ' +
  'not but what all were when we there can more if out so said about some would other into has time two ' +
  'meeting project report budget quarter release schedule review design customer invoice delivery server ' +
  'mailbox message encryption signature keyring thunderbird protocol network latency storage database index ' +
  'please thanks regards tomorrow yesterday monday friday attached document version update question answer'
).split(' ');

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** A ~`size`-byte text/plain message (CRLF), deterministic in i. */
export function benchMessage(i: number, size = 20_000): Buffer {
  const r = rng(i + 1);
  const w = () => WORDS[Math.floor(r() * WORDS.length)]!;
  const head =
    `From: Sender ${i % 50} <sender${i % 50}@example.org>\r\nTo: me@example.net\r\n` +
    `Subject: ${w()} ${w()} ${w()} #${i}\r\nDate: ${new Date(Date.UTC(2025, 0, 1) + i * 60_000).toUTCString()}\r\n` +
    `Message-ID: <bench-${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const lines: string[] = [];
  let n = head.length;
  while (n < size) {
    let line = '';
    while (line.length < 66) line += w() + ' ';
    lines.push(line);
    n += line.length + 2;
  }
  return Buffer.from(head + lines.join('\r\n') + '\r\n');
}

function writeMbox(path: string, count: number, size: number): number {
  const fd = openSync(path, 'w');
  let chunk: Buffer[] = [];
  let len = 0;
  for (let i = 0; i < count; i++) {
    chunk.push(
      Buffer.from('From bench@example.org Mon Nov 23 10:00:00 2026\n'),
      benchMessage(i, size),
      Buffer.from('\n'),
    );
    len += chunk[chunk.length - 2]!.length;
    if (chunk.length > 300) {
      writeSync(fd, Buffer.concat(chunk));
      chunk = [];
    }
  }
  writeSync(fd, Buffer.concat(chunk));
  closeSync(fd);
  return len;
}

// ------------------------------------------------------------------ child: import

interface ChildResult {
  imported: number;
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  fetch: FetchResult | null;
}

async function childImport(mbox: string, dir: string): Promise<void> {
  const store = await createStore({
    dir,
    passphrase: PASS,
    logger: silentLogger,
    kdf: KDF,
    ftsIndexing: 'manual',
    compressBodies: process.env.COMPRESS !== '0',
  });
  const acc = store.accounts.create({
    email: 'bench@example.org',
    imap: { host: 'h', port: 1 },
    smtp: { host: 'h', port: 2 },
    security: 'tls',
    providerPassword: 'x',
  });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = await importFiles({
    store,
    accountId: acc.id,
    files: [mbox],
    logger: silentLogger,
    batchSize: Number(process.env.BS ?? 500),
    threads: process.env.THREADS === undefined ? undefined : Number(process.env.THREADS),
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const fetch = process.env.FETCH ? await fetchThroughBackend(store) : null;
  store.close();
  const out = {
    imported: res.imported,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMB: peakRssBytes() / 1048576,
    fetch,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** IMAP FETCH through the ImapBackend adapter, in 256-UID batches as the IMAP server asks. */
async function fetchThroughBackend(store: Store): Promise<FetchResult> {
  store.credentials.set('bench-local');
  const backend = createImapBackend(store, { logger: silentLogger });
  const account = (await backend.authenticate('bench@example.org', 'bench-local'))!;
  const box = account.getMailbox('INBOX')!;
  const timed = (want: FetchWant) => {
    const t0 = performance.now();
    const uids = account.openMailbox(box.id).uids;
    let n = 0;
    for (let i = 0; i < uids.length; i += 256)
      n += account.fetch(box.id, uids.subarray(i, i + 256), want).length;
    return { n, ms: performance.now() - t0 };
  };
  const flags = timed({});
  const envelope = timed({ analysis: true });
  const header = timed({ header: true });
  backend.dispose();
  return { rows: flags.n, flagsMs: flags.ms, envelopeMs: envelope.ms, headerMs: header.ms };
}

interface FetchResult {
  rows: number;
  flagsMs: number;
  envelopeMs: number;
  headerMs: number;
}

function runImportChild(
  mbox: string,
  dir: string,
  threads?: number,
  fetch = false,
  launcher: 'lockbridge' | 'plain node' = 'lockbridge',
): ChildResult {
  const env = {
    ...process.env,
    ...(threads === undefined ? {} : { THREADS: String(threads) }),
    ...(fetch ? { FETCH: '1' } : {}),
  };
  const res = spawnSync(
    launcher === 'lockbridge' ? LOCKBRIDGE_NODE : process.execPath,
    [SELF, '--child-import', mbox, dir],
    { encoding: 'utf8', env },
  );
  if (res.status !== 0) throw new Error(`import child failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as ChildResult;
}

// ------------------------------------------------------------------ in-process measurements

function insertRate(db: InstanceType<typeof Database>, msgs: NewMessage[]): number {
  migrate(db, MIGRATIONS, silentLogger);
  const sdb = new StoreDb(db, new ChangeFeed(silentLogger));
  const repo = new MessagesRepo(sdb, new PendingChangesRepo(sdb));
  db.prepare(
    "INSERT INTO accounts (email, imap_host, imap_port, smtp_host, smtp_port, security, username, provider_password, created_at) VALUES ('b@x', 'h', 1, 'h', 2, 'tls', 'b', 'p', 0)",
  ).run();
  db.prepare(
    "INSERT INTO mailboxes (account_id, name, uidvalidity, created_at) VALUES (1, 'INBOX', 1, 0)",
  ).run();
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i += 500) repo.insertBatch(1, msgs.slice(i, i + 500), 'sync');
  return (msgs.length / (performance.now() - t0)) * 1000;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export async function run(opts: { smoke: boolean; log: (line: string) => void }): Promise<void> {
  const { log } = opts;
  const N = opts.smoke ? 300 : 10_000;
  const BIG = opts.smoke ? 300 : 100_000;
  const SIZE = 20_000;
  const work = mkdtempSync(join(tmpdir(), 'lb-bench-store-'));
  try {
    const rows: Array<[string, string, string]> = [];

    // 1. import N messages through the whole pipeline (child process)
    const mbox = join(work, 'in.mbox');
    writeMbox(mbox, N, SIZE);
    const inline = runImportChild(mbox, join(work, 'inline'), 0);
    rmSync(join(work, 'inline'), { recursive: true, force: true });
    const imp = runImportChild(mbox, join(work, 'store'));
    const mb = statSync(mbox).size / 1e6;
    for (const [label, r] of [
      ['default: 1 analysis worker', imp],
      ['threads: 0 (all on one thread)', inline],
    ] as const)
      rows.push([
        `import ${fmt(N)} × 20 KB, ${label}`,
        `${fmt((r.imported / r.ms) * 1000)} msg/s`,
        `${fmt(mb / (r.ms / 1000), 1)} MB/s; ${fmt((r.imported / r.cpuMs) * 1000)} msg per CPU-s; peak RSS ${fmt(r.maxRssMB)} MB (target ≥ 2,000 msg/s)`,
      ]);

    // 2. insert-only: SQLCipher vs plain SQLite (the reference), same pre-analysed messages
    const sample = Math.min(N, 3000);
    const msgs: NewMessage[] = [];
    for (let i = 0; i < sample; i++) {
      const raw = benchMessage(i, SIZE);
      msgs.push({ raw, analysis: analyzeMessage(raw), internalDate: i });
    }
    const tA = performance.now();
    for (let i = 0; i < sample; i++) analyzeMessage(msgs[i]!.raw);
    const analyzeRate = (sample / (performance.now() - tA)) * 1000;
    const plain = new Database(join(work, 'plain.db'));
    plain.pragma('journal_mode = WAL');
    plain.pragma('synchronous = NORMAL');
    plain.pragma('foreign_keys = ON');
    const plainRate = insertRate(plain, msgs);
    plain.close();
    const { openEncryptedDatabase } = await import('../native/sqlcipher.ts');
    const enc = openEncryptedDatabase(join(work, 'enc.db'), Buffer.alloc(32, 9), silentLogger, {
      mustExist: false,
    });
    const encRate = insertRate(enc, msgs);
    enc.close();
    rows.push([
      'MIME analysis only',
      `${fmt(analyzeRate)} msg/s`,
      '(app/mime analyzeMessage, 20 KB text/plain)',
    ]);
    rows.push(['insert only, plain SQLite (reference)', `${fmt(plainRate)} msg/s`, '1.00×']);
    rows.push([
      'insert only, SQLCipher',
      `${fmt(encRate)} msg/s`,
      `${(encRate / plainRate).toFixed(2)}× of plain`,
    ]);

    // 3. reads over the imported store
    const store = await openStore({
      dir: join(work, 'store'),
      passphrase: PASS,
      logger: silentLogger,
      ftsIndexing: 'manual',
    });
    const box = store.mailboxes.getByName(store.accounts.list()[0]!.id, 'INBOX')!;
    let t0 = performance.now();
    const indexed = store.flushIndex();
    rows.push([
      'full-text (trigram) indexing',
      `${fmt((indexed / (performance.now() - t0)) * 1000)} msg/s`,
      'deferred, runs in the background',
    ]);
    const uids = store.messages.uids(box.id);
    const r = rng(7);
    const LOOKUPS = opts.smoke ? 2000 : 100_000;
    t0 = performance.now();
    for (let i = 0; i < LOOKUPS; i++) store.messages.get(box.id, uids[Math.floor(r() * uids.length)]!);
    rows.push([
      'UID lookup (random, flags+meta)',
      `${fmt((LOOKUPS / (performance.now() - t0)) * 1000)} /s`,
      `${fmt(LOOKUPS)} lookups`,
    ]);
    t0 = performance.now();
    let n = 0;
    for (let i = 0; i < uids.length; i += 1000)
      for (const d of store.messages.fetchRows(box.id, uids.slice(i, i + 1000), { analysis: true }))
        n += d.envelope!.length > 0 ? 1 : 0;
    rows.push([
      'FETCH scan (ENVELOPE+BODYSTRUCTURE)',
      `${fmt((n / (performance.now() - t0)) * 1000)} msg/s`,
      `${fmt(n)} rows`,
    ]);
    t0 = performance.now();
    let bytes = 0;
    for (const uid of uids.slice(0, Math.min(uids.length, 5000)))
      bytes += store.messages.raw(store.messages.get(box.id, uid)!.blobId).length;
    const rawMs = performance.now() - t0;
    rows.push([
      'raw body reads',
      `${fmt(bytes / 1e6 / (rawMs / 1000), 1)} MB/s`,
      `${fmt(Math.min(uids.length, 5000))} messages`,
    ]);
    t0 = performance.now();
    let h = 0;
    for (let i = 0; i < uids.length; i += 1000)
      for (const row of store.messages.fetchRows(box.id, uids.slice(i, i + 1000), { headers: true }))
        if (row.headers!.subject.includes('budget')) h++;
    rows.push([
      'header-index scan (SUBJECT)',
      `${fmt((uids.length / (performance.now() - t0)) * 1000)} msg/s`,
      `${fmt(h)} hits`,
    ]);
    t0 = performance.now();
    const hits = store.messages.searchText(box.id, `#${Math.floor(N / 2)}`, 'text');
    rows.push([
      'SEARCH TEXT (trigram + exact check)',
      `${fmt(performance.now() - t0, 1)} ms`,
      `${fmt(hits.length)} hits`,
    ]);
    t0 = performance.now();
    const common = store.messages.searchText(box.id, 'budget', 'body');
    rows.push([
      'SEARCH BODY common word (worst case)',
      `${fmt(performance.now() - t0, 1)} ms`,
      `${fmt(common.length)} hits: each candidate re-checked against its decoded text`,
    ]);
    t0 = performance.now();
    const rare = store.messages.searchText(box.id, 'zzz-no-such-word', 'body');
    rows.push(['SEARCH BODY, no hit', `${fmt(performance.now() - t0, 1)} ms`, `${rare.length} hits`]);
    store.close();
    rows.push([
      'store size on disk',
      `${fmt(statSync(join(work, 'store', 'store.db')).size / 1e6)} MB`,
      `input ${fmt(statSync(mbox).size / 1e6)} MB`,
    ]);
    rmSync(join(work, 'store'), { recursive: true, force: true });
    rmSync(mbox, { force: true });

    // 4. peak RSS while importing BIG messages (child process)
    const bigMbox = join(work, 'big.mbox');
    writeMbox(bigMbox, BIG, SIZE);
    const big = runImportChild(bigMbox, join(work, 'big'), undefined, true);
    const f = big.fetch!;
    const rate = (ms: number) => `${fmt((f.rows / ms) * 1000)} msg/s`;
    rows.push([
      `IMAP FETCH 1:* (FLAGS) via ImapBackend, ${fmt(f.rows)} msgs`,
      rate(f.flagsMs),
      `${fmt(f.flagsMs)} ms`,
    ]);
    rows.push([
      `IMAP FETCH 1:* (ENVELOPE BODYSTRUCTURE), ${fmt(f.rows)} msgs`,
      rate(f.envelopeMs),
      `${fmt(f.envelopeMs)} ms`,
    ]);
    rows.push([
      `IMAP FETCH 1:* (BODY.PEEK[HEADER]), ${fmt(f.rows)} msgs`,
      rate(f.headerMs),
      `${fmt(f.headerMs)} ms`,
    ]);
    rows.push([
      `import ${fmt(BIG)} × 20 KB, peak RSS (default)`,
      `${fmt(big.maxRssMB)} MB`,
      `${fmt((big.imported / big.ms) * 1000)} msg/s (target RSS < 200 MB)`,
    ]);
    rmSync(join(work, 'big'), { recursive: true, force: true });
    // the same-run reference: the same import in a plain `node` (no bin/lockbridge runtime settings)
    const bigPlain = runImportChild(bigMbox, join(work, 'big'), undefined, false, 'plain node');
    rmSync(join(work, 'big'), { recursive: true, force: true });
    rows.push([
      `import ${fmt(BIG)} × 20 KB, peak RSS (reference: plain node, no runtime settings)`,
      `${fmt(bigPlain.maxRssMB)} MB`,
      `${fmt((bigPlain.imported / bigPlain.ms) * 1000)} msg/s`,
    ]);
    const bare = spawnSync(
      process.execPath,
      ['-e', 'process.stdout.write(String(process.memoryUsage().rss / 1048576))'],
      {
        encoding: 'utf8',
      },
    );
    rows.push([
      '(reference) bare Node process RSS',
      `${fmt(Number(bare.stdout))} MB`,
      `load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    ]);

    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => x[1].length));
    log(`| ${'measure'.padEnd(w0)} | ${'result'.padStart(w1)} | notes`);
    log(`| ${'-'.repeat(w0)} | ${'-'.repeat(w1)} | -----`);
    for (const [a, b, c] of rows) log(`| ${a.padEnd(w0)} | ${b.padStart(w1)} | ${c}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  if (process.argv[2] === '--child-import') await childImport(process.argv[3]!, process.argv[4]!);
  else await run({ smoke: process.argv.includes('--smoke'), log: (l) => console.log(l) });
}
