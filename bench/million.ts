/**
 * A mailbox of a million messages at the provider (issue 20). N ~1 KB messages
 * (LB_BENCH_MILLION_N: 1,000,000 at full size, 2,000 at `smoke`) in the provider's INBOX, plus two
 * small folders (N/100 in Archive, 50 in Sent), written straight into Dovecot's maildir. Measured in
 * one run against the same Dovecot:
 *  - time until every folder lists: the bridge as `serve` runs it (createBridge + serve, in a child
 *    process started like bin/lockbridge, a 2 GB body budget) syncing the newly added account, next
 *    to mbsync pulling the same folders headers only (its placeholders: header block, no body);
 *  - then Lockbridge's IMAP server against Dovecot's, STARTTLS, the same raw client: the first
 *    SELECT of the big folder, Thunderbird's header fetch of the newest 1,000, UID FETCH 1:* (FLAGS);
 *  - the bridge process's peak RSS throughout (sync and serving) and the store's size on disk.
 * Targets (issue 20): SELECT ≤ 100 ms, the header fetch ≤ Dovecot's, peak RSS ≤ 200 MB, store ≤
 * 2.5 GB. The sync row has no target: the bridge downloads every body (app/sync/README.md "Why
 * body-first"), mbsync only the headers; the ratio says what that costs.
 *
 * Also runnable alone: `scripts/node24 bench/million.ts [--smoke]`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { initHome } from '../app/index.ts';
import { silentLogger } from '../app/shared/logger.ts';
import { startProvider, type Provider } from '../test/helpers/provider.ts';
import { rawDb } from '../test/helpers/store-db.ts';
import { RawClient, TB_FIELDS } from './imap.ts';
import { CHILD, PASSPHRASE, openBridge, type ChildLine } from './million-child.ts';
import { message } from './search.ts';
import { LOCKBRIDGE_NODE, mbsync } from './sync.ts';

const USER = 'million@example.test';
const PROVIDER_PW = 'pw';
const LOCAL_PW = 'million-local';
const BODY_BUDGET_MB = 2048;

interface Opts {
  smoke: boolean;
  log: (line: string) => void;
}

function debug(line: string): void {
  if (process.env.LB_BENCH_DEBUG)
    process.stderr.write(`${(performance.now() / 1000).toFixed(1)} s: ${line}\n`);
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** Where the store's bytes are (LB_BENCH_DEBUG): free pages, the WAL, the biggest tables. */
async function storeBreakdown(home: string): Promise<void> {
  const bridge = await openBridge(home);
  try {
    const db = rawDb(bridge.store);
    const pragma = (n: string) => db.pragma(n, { simple: true }) as number;
    const mb = (pages: number) => ((pages * pragma('page_size')) / 1048576).toFixed(0);
    debug(
      `store: ${mb(pragma('page_count'))} MB in pages, ${mb(pragma('freelist_count'))} MB of them free; files: ${readdirSync(
        home,
      )
        .map((f) => `${f} ${(statSync(join(home, f)).size / 1048576).toFixed(0)} MB`)
        .join(', ')}`,
    );
    const tables = db
      .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 12')
      .all() as Array<{ name: string; bytes: number }>;
    debug('store tables: ' + tables.map((t) => `${t.name} ${(t.bytes / 1048576).toFixed(0)} MB`).join(', '));
  } finally {
    await bridge.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

class Child {
  readonly #proc: ChildProcess;
  readonly #lines: ChildLine[] = [];
  #wake: (() => void) | null = null;
  #exited: string | null = null;

  constructor(home: string, total: number) {
    this.#proc = spawn(LOCKBRIDGE_NODE, [CHILD, home, String(total)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.#proc.stdout! }).on('line', (l) => {
      this.#lines.push(JSON.parse(l) as ChildLine);
      this.#wake?.();
    });
    this.#proc.on('exit', (code, signal) => {
      this.#exited = `the bridge process exited (${code ?? signal})`;
      this.#wake?.();
    });
  }

  async next(event: ChildLine['event']): Promise<ChildLine> {
    for (;;) {
      const at = this.#lines.findIndex((l) => l.event === event);
      if (at >= 0) return this.#lines.splice(at, 1)[0]!;
      if (this.#exited) throw new Error(this.#exited);
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  send(line: string): void {
    this.#proc.stdin!.write(line + '\n');
  }

  /** Asks the bridge to close and waits for it to exit; `kill`: SIGKILL it instead (a failed run). */
  async exit(kill = false): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise((r) => this.#proc.once('exit', r));
    if (kill) this.#proc.kill('SIGKILL');
    else {
      this.send('exit');
      this.#proc.stdin!.end(); // the bridge's stdin ends: nothing keeps it alive once closed
    }
    await gone;
  }
}

/** Starts and stops the bridge process once on a home without an account (million-child.ts). */
async function warmUp(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'lb-bench-million-warm-'));
  try {
    await initHome({ home, passphrase: PASSPHRASE, localPassword: LOCAL_PW, logger: silentLogger });
    const r = spawnSync(LOCKBRIDGE_NODE, [CHILD, '--warm', home], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`the warm-up start failed (${r.status ?? r.signal})`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function setUpHome(p: Provider): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'lb-bench-million-'));
  await initHome({ home, passphrase: PASSPHRASE, localPassword: LOCAL_PW, logger: silentLogger });
  const bridge = await openBridge(home);
  try {
    const acc = p.account(USER);
    bridge.store.accounts.create({
      email: USER,
      imap: { host: acc.host, port: acc.port },
      smtp: { host: acc.host, port: 25 },
      security: 'starttls',
      providerPassword: acc.password,
      caPem: acc.ca,
    });
    await bridge.api.updateSettings({ bodyCacheMB: BODY_BUDGET_MB });
  } finally {
    await bridge.close();
  }
  return home;
}

export async function run(opts: Opts): Promise<void> {
  const N = Number(process.env.LB_BENCH_MILLION_N ?? (opts.smoke ? 2_000 : 1_000_000));
  const folders: Array<[string, number]> = [
    ['INBOX', N],
    ['Archive', Math.max(1, Math.floor(N / 100))],
    ['Sent', 50],
  ];
  const total = folders.reduce((a, [, n]) => a + n, 0);
  const p = await startProvider({ postfix: false });
  let home: string | null = null;
  let child: Child | null = null;
  try {
    await p.addUser(USER, PROVIDER_PW);
    const t = performance.now();
    let at = 0;
    for (const [box, n] of folders) {
      const from = at;
      await p.bulkLoad(
        USER,
        box,
        (function* () {
          for (let i = 0; i < n; i++) yield message(from + i);
        })(),
      );
      at += n;
    }
    opts.log(
      `(${total} messages written and indexed at the provider in ${((performance.now() - t) / 1000).toFixed(0)} s)`,
    );

    // mbsync flushes each message to disk by default (a million fsyncs); the bridge's store commits
    // in batches: mbsync without it is the faster reference
    const mbMs = mbsync(p, USER, PROVIDER_PW, { patterns: '*', headersOnly: true, fsync: false });

    await warmUp();
    home = await setUpHome(p);
    child = new Child(home, total);
    const { imap } = await child.next('serving');
    const synced = (await child.next('synced')).ms!;
    debug(`synced in ${synced.toFixed(0)} ms`);

    // The first SELECT of the big folder on each server, then the repeated commands alternating.
    const lb = await RawClient.open(imap!, true, { user: USER, pass: LOCAL_PW });
    const dc = await RawClient.open(p.imapPort, true, { user: USER, pass: PROVIDER_PW });
    const lbSelect = await timed(() => lb.cmd('SELECT INBOX'));
    const dcSelect = await timed(() => dc.cmd('SELECT INBOX'));
    // the 1,000 highest UIDs (the bridge numbers its backfill newest first, Dovecot by arrival:
    // the same amount of work, not the same messages)
    const newest = async (c: ImapFlow) => {
      if (!c.usable) await c.connect();
      const st = await c.status('INBOX', { uidNext: true });
      const uidNext = st ? st.uidNext : undefined;
      if (!uidNext) throw new Error('no UIDNEXT for INBOX');
      await c.logout();
      return `UID FETCH ${Math.max(1, uidNext - 1000)}:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${TB_FIELDS})])`;
    };
    const lbHeaders = await newest(
      new ImapFlow({
        host: '127.0.0.1',
        port: imap!,
        secure: false,
        doSTARTTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: USER, pass: LOCAL_PW },
        logger: false,
      }),
    );
    const dcHeaders = await newest(await p.imapClient(USER));
    const rows = {
      lbHead: [] as number[],
      dcHead: [] as number[],
      lbFlags: [] as number[],
      dcFlags: [] as number[],
    };
    const rounds = opts.smoke ? 2 : 5;
    if (process.env.LB_BENCH_DEBUG) {
      child.send('backlog');
      debug(`backlog before rounds: ${(await child.next('backlog')).n}`);
    }
    for (let r = 0; r < rounds; r++) {
      rows.lbHead.push(await timed(() => lb.cmd(lbHeaders)));
      rows.dcHead.push(await timed(() => dc.cmd(dcHeaders)));
      rows.lbFlags.push(await timed(() => lb.cmd('UID FETCH 1:* (FLAGS)')));
      rows.dcFlags.push(await timed(() => dc.cmd('UID FETCH 1:* (FLAGS)')));
    }
    if (process.env.LB_BENCH_DEBUG) {
      child.send('backlog');
      debug(`backlog after rounds: ${(await child.next('backlog')).n}`);
      for (;;) {
        child.send('backlog');
        if ((await child.next('backlog')).n === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      for (let r = 0; r < 3; r++)
        debug(
          `idle FLAGS: ${(await timed(() => lb.cmd('UID FETCH 1:* (FLAGS)'))).toFixed(0)} ms, dovecot ${(await timed(() => dc.cmd('UID FETCH 1:* (FLAGS)'))).toFixed(0)} ms`,
        );
    }
    lb.close();
    dc.close();
    child.send('rss');
    const { peakRssMb: rss, unlockRssMb } = (await child.next('rss')) as Required<ChildLine>;
    await child.exit();
    child = null;
    const storeGb = dirBytes(home) / 2 ** 30;
    if (process.env.LB_BENCH_DEBUG) await storeBreakdown(home);

    const ratio = synced / mbMs;
    const head = median(rows.lbHead) / median(rows.dcHead);
    opts.log('| measure | Lockbridge | reference | ratio / target |');
    opts.log('| --- | --- | --- | --- |');
    opts.log(
      `| every folder listed, ${total} msgs (~1 KB) in 3 folders | ${(synced / 1000).toFixed(1)} s (${(total / (synced / 1000)).toFixed(0)} msgs/s, bodies included) | mbsync headers only ${(mbMs / 1000).toFixed(1)} s | ${ratio.toFixed(2)} (no target: the bridge downloads every body) |`,
    );
    opts.log(
      `| first SELECT of the ${N}-message folder | ${lbSelect.toFixed(1)} ms | Dovecot ${dcSelect.toFixed(1)} ms | target ≤ 100 ms ${lbSelect <= 100 ? 'OK' : 'MISSED'} |`,
    );
    opts.log(
      `| Thunderbird's header fetch of the newest 1,000 (median of ${rounds}) | ${median(rows.lbHead).toFixed(1)} ms | Dovecot ${median(rows.dcHead).toFixed(1)} ms | ${head.toFixed(2)} (target ≤ 1) ${head <= 1 ? 'OK' : 'MISSED'} |`,
    );
    opts.log(
      `| UID FETCH 1:* (FLAGS) (median of ${rounds}) | ${median(rows.lbFlags).toFixed(0)} ms | Dovecot ${median(rows.dcFlags).toFixed(0)} ms | ${(median(rows.lbFlags) / median(rows.dcFlags)).toFixed(2)} |`,
    );
    opts.log(
      `| bridge peak RSS (sync, then serving; unlocking the store before: ${unlockRssMb.toFixed(0)} MB) | ${rss.toFixed(0)} MB | — | target ≤ 200 MB ${rss <= 200 ? 'OK' : 'MISSED'} |`,
    );
    opts.log(
      `| store on disk, ${BODY_BUDGET_MB / 1024} GB body budget | ${storeGb.toFixed(2)} GB | — | target ≤ 2.5 GB ${storeGb <= 2.5 ? 'OK' : 'MISSED'} |`,
    );
  } finally {
    await child?.exit(true);
    if (home) rmSync(home, { recursive: true, force: true });
    await p.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  await run({ smoke: process.argv.includes('--smoke'), log: (l) => console.log(l) });
