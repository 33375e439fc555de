/**
 * IMAP memory under load (issue 15): the Lockbridge IMAP server over the real encrypted store,
 * assembled as `serve` assembles it (createImapBackend + startImapServer), in a child process of
 * its own started like bin/lockbridge starts the bridge (scripts/lockbridge-node's V8 and malloc
 * settings) plus --expose-gc, so the RSS measured is the server's alone. A 10,000-message INBOX;
 * 30 clients over STARTTLS (LB_BENCH_TLS=0: plaintext) run a seeded random mix of SELECT/EXAMINE,
 * FETCH (flags, envelopes, body ranges), SEARCH, STORE, IDLE, NOOP, APPEND, LIST/STATUS and
 * reconnects for 10 minutes; then they log out, the server collects garbage, and the same run
 * (same seed) goes again in the same server process. Before the runs, a warm-up (the same mix for
 * a tenth of a run, at most 60 s) fills what a serving bridge holds anyway (SQLite's page cache,
 * compiled code); the RSS after it is "before". The cold start's RSS is printed next to it.
 * The server hands free memory back to the OS once it goes quiet after work, as Bridge.serve
 * does (app/shared/idle-release.ts + native/malloc-trim.ts: ~10-15 s after the clients leave, so
 * within the 30 s idle); the table counts those releases. LB_BENCH_MEM_RELEASE=0 measures without.
 *
 * Targets: peak RSS ≤ 180 MB during each run; RSS after the clients left and a GC ≤ 1.10 × the RSS
 * before the first run; the second run's "after" ≤ 1.10 × the first's (no growth).
 *
 * Smoke: 500 messages, 5 clients, 2 s per run (1 s idle). LB_BENCH_MEM_SECONDS, LB_BENCH_MEM_WARMUP_SECONDS,
 * LB_BENCH_MEM_CLIENTS, LB_BENCH_MEM_N set the sizes; LB_BENCH_MEM_SEED replays a run.
 */
import { execFileSync, fork } from 'node:child_process';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flushCompileCache } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchOptions } from './index.ts';
import { startImapServer } from '../app/imap/server.ts';
import { createImapBackend } from '../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../app/shared/logger.ts';
import { startIdleRelease } from '../app/shared/idle-release.ts';
import { loadMallocTrim } from '../native/malloc-trim.ts';
import { addLocalAccount, newStore, reopen } from '../test/unit/store/helpers.ts';

const SELF = fileURLToPath(import.meta.url);
const USER = 'alice@example.test';
const PASS = 'secret';
const MB = 1024 * 1024;

/** Targets of issue 15. */
const PEAK_MB = 180;
const AFTER_RATIO = 1.1;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** What the server child reports about itself (bytes). */
interface MemReport {
  rss: number;
  /** RSS in anonymous memory (malloc, V8) vs mapped files (the code of node and its libraries) */
  anon: number;
  file: number;
  hwm: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  connections: number;
  /** times the server handed free memory back to the OS after going quiet (as serve does) */
  releases: number;
}

// ------------------------------------------------------------------ client

/**
 * A raw client reading each response up to its tagged line; IDLE waits for the continuation, then
 * DONE. Message bodies never contain a line starting with the client's tags (`Cnn `).
 */
class LoadClient {
  private socket!: Socket;
  private tail = '';
  private want: { marker: string; resolve: (s: string) => void } | null = null;
  private n = 0;
  bytesIn = 0;

  private readonly id: number;
  private readonly port: number;
  private readonly starttls: boolean;

  constructor(id: number, port: number, starttls: boolean) {
    this.id = id;
    this.port = port;
    this.starttls = starttls;
  }

  async open(): Promise<void> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const so = connect({ port: this.port, host: '127.0.0.1' }, () => resolve(so));
      so.once('error', reject);
    });
    s.setNoDelay(true);
    this.attach(s);
    await this.wait('* OK');
    if (this.starttls) {
      await this.cmd('STARTTLS');
      s.removeAllListeners('data');
      const t = await new Promise<Socket>((resolve, reject) => {
        const so = tlsConnect({ socket: s, rejectUnauthorized: false }, () => resolve(so));
        so.once('error', reject);
      });
      this.attach(t);
    }
    await this.cmd(`LOGIN ${USER} ${PASS}`);
  }

  private attach(s: Socket): void {
    this.socket = s;
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', () => {});
  }

  private onData(d: Buffer): void {
    this.bytesIn += d.length;
    const w = this.want;
    if (!w) {
      this.tail = (this.tail + d.toString('latin1', Math.max(0, d.length - 1024))).slice(-1200);
      return;
    }
    // the awaited line is the last one for a tagged reply, but IDLE's continuation may come with
    // other sessions' updates after it: the whole chunk is searched
    const text = this.tail + d.toString('latin1');
    const idx = text.lastIndexOf(w.marker);
    const eol = idx < 0 ? -1 : text.indexOf('\r\n', idx + w.marker.length);
    if (eol < 0) {
      this.tail = text.slice(-Math.max(1200, idx < 0 ? 0 : text.length - idx));
      return;
    }
    this.want = null;
    this.tail = text.slice(eol + 2).slice(-1200);
    w.resolve(text.slice(idx, eol + 2));
  }

  private wait(marker: string): Promise<string> {
    return new Promise((resolve) => {
      this.want = { marker, resolve };
    });
  }

  async cmd(line: string, literal?: Buffer): Promise<string> {
    const tag = `C${this.id}x${++this.n}`;
    this.tail = '\r\n';
    const p = this.wait(`\r\n${tag} `);
    if (literal)
      this.socket.write(
        Buffer.concat([Buffer.from(`${tag} ${line} {${literal.length}+}\r\n`), literal, Buffer.from('\r\n')]),
      );
    else this.socket.write(`${tag} ${line}\r\n`);
    const r = await p;
    if (!r.startsWith(`\r\n${tag} OK`))
      throw new Error(`client ${this.id}: ${line.slice(0, 60)} failed: ${r.slice(0, 200)}`);
    return r;
  }

  async idle(ms: number): Promise<void> {
    const tag = `C${this.id}x${++this.n}`;
    this.tail = '\r\n';
    const cont = this.wait('\r\n+ ');
    this.socket.write(`${tag} IDLE\r\n`);
    await cont;
    await sleep(ms);
    this.tail = '\r\n';
    const done = this.wait(`\r\n${tag} `);
    this.socket.write('DONE\r\n');
    const r = await done;
    if (!r.startsWith(`\r\n${tag} OK`)) throw new Error(`client ${this.id}: IDLE failed: ${r.slice(0, 200)}`);
  }

  async logout(): Promise<void> {
    const tag = `C${this.id}x${++this.n}`;
    this.tail = '\r\n';
    const p = this.wait(`\r\n${tag} `);
    this.socket.write(`${tag} LOGOUT\r\n`);
    await Promise.race([p, new Promise((r) => this.socket.once('close', r))]);
    this.socket.destroy();
  }
}

// ------------------------------------------------------------------ load

interface RunFigures {
  commands: number;
  appends: number;
  reconnects: number;
  bytesIn: number;
}

/**
 * One client's session: a seeded random walk over the commands real clients send. The mailbox
 * stays the same size over a run: APPENDs go to Scratch, which is emptied after the run.
 */
async function clientLoop(
  id: number,
  port: number,
  starttls: boolean,
  seed: number,
  until: number,
  sizes: { inbox: number; archive: number },
  figures: RunFigures,
): Promise<void> {
  const { makeMessage } = await import('./imap.ts');
  const r = rng(seed * 7919 + id);
  const pick = (n: number): number => Math.floor(r() * n);
  let c = new LoadClient(id, port, starttls);
  await c.open();
  let box: { name: string; size: number } | null = null;
  const range = (max: number): string => {
    const size = box!.size;
    const from = 1 + pick(size);
    return `${from}:${Math.min(size, from + pick(max))}`;
  };
  while (Date.now() < until) {
    const x = r();
    figures.commands++;
    if (!box || x < 0.06) {
      // mostly INBOX; sometimes the archive, read-only
      const inbox = r() < 0.8;
      const verb = r() < 0.7 ? 'SELECT' : 'EXAMINE';
      box = inbox ? { name: 'INBOX', size: sizes.inbox } : { name: 'Archive', size: sizes.archive };
      await c.cmd(`${verb} ${box.name}`);
    } else if (x < 0.22) await c.cmd(`FETCH ${range(500)} (UID FLAGS)`);
    else if (x < 0.34) await c.cmd(`UID FETCH ${range(200)} (UID RFC822.SIZE FLAGS ENVELOPE)`);
    else if (x < 0.4) await c.cmd(`FETCH ${range(100)} (BODYSTRUCTURE INTERNALDATE)`);
    else if (x < 0.5) await c.cmd(`FETCH ${range(20)} BODY.PEEK[]`);
    else if (x < 0.54)
      await c.cmd(`FETCH ${range(50)} (BODY.PEEK[HEADER.FIELDS (From Subject Date)] BODY.PEEK[1]<0.512>)`);
    else if (x < 0.6) {
      const crit = [
        'UNSEEN',
        'FLAGGED',
        `FROM sender${pick(50)}`,
        `SUBJECT "number ${pick(box.size)}"`,
        `SINCE ${new Date(Date.UTC(2026, 0, 1) + pick(box.size) * 60_000).toUTCString().slice(5, 16).replaceAll(' ', '-')}`,
        'TEXT xylophonic',
      ][pick(6)]!;
      await c.cmd(`UID SEARCH ${crit}`);
    } else if (x < 0.7) {
      if (box.name === 'Archive') await c.cmd(`FETCH ${range(10)} (FLAGS)`);
      else
        await c.cmd(
          `STORE ${range(10)} ${r() < 0.5 ? '+' : '-'}FLAGS${r() < 0.5 ? '.SILENT' : ''} (${r() < 0.7 ? '\\Seen' : '\\Flagged'})`,
        );
    } else if (x < 0.75) await c.idle(100 + pick(1500));
    else if (x < 0.83) await c.cmd('NOOP');
    else if (x < 0.85) {
      figures.appends++;
      await c.cmd(`APPEND Scratch (\\Seen)`, makeMessage(pick(100_000)));
    } else if (x < 0.9) await c.cmd('LIST "" "*"');
    else if (x < 0.98)
      await c.cmd(`STATUS ${r() < 0.5 ? 'INBOX' : 'Archive'} (MESSAGES UNSEEN UIDNEXT RECENT)`);
    else {
      // a client dropping its connection and coming back (laptop lid, network change)
      figures.reconnects++;
      figures.bytesIn += c.bytesIn;
      if (r() < 0.5) await c.logout();
      else await c.cmd('NOOP').then(() => c.logout());
      c = new LoadClient(id, port, starttls);
      await c.open();
      box = null;
    }
  }
  figures.bytesIn += c.bytesIn;
  await c.logout();
}

async function loadRun(
  port: number,
  starttls: boolean,
  clients: number,
  seconds: number,
  seed: number,
  sizes: { inbox: number; archive: number },
  sample: () => void,
): Promise<RunFigures> {
  const figures: RunFigures = { commands: 0, appends: 0, reconnects: 0, bytesIn: 0 };
  const sampler = setInterval(sample, 100);
  try {
    const until = Date.now() + seconds * 1000;
    const loops: Promise<void>[] = [];
    // one at a time: the server closes the oldest of more than 20 connections not yet logged in
    for (let i = 0; i < clients; i++) {
      loops.push(clientLoop(i, port, starttls, seed, until, sizes, figures));
      await sleep(20);
    }
    await Promise.all(loops);
  } finally {
    clearInterval(sampler);
  }
  // empty Scratch, so both runs start from the same mailboxes
  const c = new LoadClient(999, port, starttls);
  await c.open();
  await c.cmd('SELECT Scratch');
  await c.cmd('STORE 1:* +FLAGS.SILENT (\\Deleted)').catch(() => {});
  await c.cmd('EXPUNGE');
  await c.logout();
  sample();
  return figures;
}

// ------------------------------------------------------------------ parent

export async function run(o: BenchOptions): Promise<void> {
  const N = Number(process.env.LB_BENCH_MEM_N ?? (o.smoke ? 500 : 10_000));
  const ARCHIVE = Math.max(10, Math.round(N / 10));
  const CLIENTS = Number(process.env.LB_BENCH_MEM_CLIENTS ?? (o.smoke ? 5 : 30));
  const SECONDS = Number(process.env.LB_BENCH_MEM_SECONDS ?? (o.smoke ? 2 : 600));
  const SETTLE = Number(process.env.LB_BENCH_MEM_SETTLE_SECONDS ?? (o.smoke ? 1 : 30));
  const WARMUP = Number(process.env.LB_BENCH_MEM_WARMUP_SECONDS ?? Math.min(60, Math.max(2, SECONDS / 10)));
  const seed = Number(process.env.LB_BENCH_MEM_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const starttls = process.env.LB_BENCH_TLS !== '0';

  const dir = mkdtempSync(join(tmpdir(), 'lb-imap-mem-'));
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir);
  const key = join(tlsDir, 'key.pem');
  const cert = join(tlsDir, 'cert.pem');
  const subject = ['-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      ...subject,
    ],
    {
      stdio: 'ignore',
    },
  );
  const storeDir = join(dir, 'home');
  const childEnv = {
    ...process.env,
    NODE_COMPILE_CACHE:
      process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../.tools/compile-cache', import.meta.url)),
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1',
  };
  // the loader runs this file first with the server's compile cache, so the server finds it
  // type-stripped (a miss loads Node's TypeScript stripper: ~15 MB more before the runs)
  // scripts/lockbridge-node's settings (the bridge process), plus a GC the bench can ask for
  const childArgs = [
    '--max-semi-space-size=8',
    '--max-old-space-size=1024',
    '--expose-gc',
    ...(process.env.LB_BENCH_CHILD_ARGS ? process.env.LB_BENCH_CHILD_ARGS.split(' ') : []),
  ];
  const loader = fork(SELF, ['--imap-memory-child', 'load', storeDir, String(N), String(ARCHIVE)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: childArgs, // the compile cache is per V8 flags
    env: childEnv,
  });
  const code = await new Promise<number | null>((resolve) => loader.once('exit', resolve));
  if (code !== 0) throw new Error(`memory bench store loader exited ${code}`);

  const proc = fork(SELF, ['--imap-memory-child', 'serve', storeDir, tlsDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: childArgs,
    env: childEnv,
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m) => resolve(Number(m)));
    proc.once('exit', (c) => reject(new Error(`memory bench server exited ${c}`)));
  });
  const ask = (what: 'mem' | 'gc' | 'reset-peak'): Promise<MemReport> => {
    proc.send(what);
    return new Promise((resolve) => proc.once('message', (m) => resolve(m as MemReport)));
  };
  // the parent samples the child's RSS from /proc (VmHWM also catches what falls between samples)
  let peak = 0;
  const sample = (): void => {
    try {
      const kb = Number(/^VmRSS:\s*(\d+) kB/m.exec(readFileSync(`/proc/${proc.pid}/status`, 'latin1'))?.[1]);
      if (kb * 1024 > peak) peak = kb * 1024;
    } catch {
      /* the child is gone: the run fails elsewhere */
    }
  };
  const mb = (b: number): string => (b / MB).toFixed(0);
  const breakdown = (m: MemReport): string =>
    `anon ${mb(m.anon)}, file ${mb(m.file)}; heap ${mb(m.heapUsed)}/${mb(m.heapTotal)}, external ${mb(m.external)} (ArrayBuffers ${mb(m.arrayBuffers)}); ${m.releases} releases`;

  o.log(
    `seed ${seed} (LB_BENCH_MEM_SEED replays it); ${CLIENTS} clients ${starttls ? 'over STARTTLS' : 'in plaintext'}, ` +
      `${WARMUP} s warm-up, ${SECONDS} s per run; INBOX ${N} messages, Archive ${ARCHIVE}`,
  );
  const rows: string[] = [];
  try {
    const cold = await ask('gc');
    rows.push(`| cold: store open, no client yet (after GC) | ${mb(cold.rss)} | | | ${breakdown(cold)} |`);
    /** The clients run for `seconds`, log out; the server collects garbage. */
    const phase = async (label: string, seconds: number): Promise<{ peak: number; after: MemReport }> => {
      await ask('reset-peak');
      peak = 0;
      const t0 = Date.now();
      const f = await loadRun(port, starttls, CLIENTS, seconds, seed, { inbox: N, archive: ARCHIVE }, sample);
      const secs = (Date.now() - t0) / 1000;
      const during = await ask('mem');
      // the server notices the closed connections on its own; wait until it has let go of them
      for (let i = 0; i < 100 && (await ask('mem')).connections > 0; i++) await sleep(50);
      const atOnce = await ask('gc');
      // then as a bridge left alone: V8's memory reducer and malloc hand back what they no longer use
      await sleep(SETTLE * 1000);
      const after = await ask('gc');
      const phasePeak = Math.max(peak, during.hwm);
      rows.push(
        `| ${label}: ${f.commands} commands (${f.appends} APPEND, ${f.reconnects} reconnects), ` +
          `${(f.bytesIn / MB).toFixed(0)} MB sent, ${secs.toFixed(0)} s | | ${mb(phasePeak)} | | at the end: ${breakdown(during)} |`,
      );
      rows.push(`| ${label}: clients gone, GC at once | ${mb(atOnce.rss)} | | | ${breakdown(atOnce)} |`);
      rows.push(
        `| ${label}: clients gone, ${SETTLE} s idle, GC | ${mb(after.rss)} | | ${mb(after.rss)} | ${breakdown(after)} |`,
      );
      return { peak: phasePeak, after };
    };
    // "Before" is the server once it has served: its SQLite page cache filled to its set size
    // (16 MiB), its code loaded and compiled, malloc's arenas grown — what a bridge that has synced
    // and served a client holds. The cold figure above is printed for comparison.
    const warm = await phase('warm-up', WARMUP);
    const before = warm.after;
    const runs = [await phase('run 1', SECONDS), await phase('run 2', SECONDS)];
    const peaks = [warm.peak, ...runs.map((r) => r.peak)];
    const afters = runs.map((r) => r.after.rss);
    o.log('| moment | RSS MB | peak RSS MB | after MB | V8 / native MB |');
    o.log('| --- | ---: | ---: | ---: | --- |');
    for (const row of rows) o.log(row);
    const t = (name: string, value: string, target: string, ok: boolean): void =>
      o.log(`| ${name} | ${value} | ${target}${ok ? '' : ' (missed)'} |`);
    o.log('');
    o.log('| target | measured | target |');
    o.log('| --- | ---: | ---: |');
    const maxPeak = Math.max(...peaks);
    t('peak RSS (warm-up and both runs)', `${mb(maxPeak)} MB`, `≤ ${PEAK_MB} MB`, maxPeak <= PEAK_MB * MB);
    const r1 = afters[0]! / before.rss;
    t('run 1: after ÷ before (after the warm-up)', r1.toFixed(2), `≤ ${AFTER_RATIO}`, r1 <= AFTER_RATIO);
    o.log(`| (run 1: after ÷ cold start, not a target) | ${(afters[0]! / cold.rss).toFixed(2)} | |`);
    const r2 = afters[1]! / afters[0]!;
    t("run 2's after ÷ run 1's after (growth)", r2.toFixed(2), `≤ ${AFTER_RATIO}`, r2 <= AFTER_RATIO);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ child

async function child(): Promise<void> {
  const [, , , mode, storeDir] = process.argv;
  if (mode === 'load') {
    // own process: filling the store leaves nothing in the server's memory
    const n = Number(process.argv[5]);
    const archive = Number(process.argv[6]);
    // not imported at the top: the server process loads only what the bridge loads
    const { makeMessage } = await import('./imap.ts');
    const store = await newStore(storeDir!);
    addLocalAccount(store, USER, PASS);
    const sb = createImapBackend(store, { logger: silentLogger });
    const acc = (await sb.authenticate(USER, PASS))!;
    const load = async (box: string, count: number, offset: number): Promise<void> => {
      const id = (acc.getMailbox(box) ?? acc.createMailbox(box)).id;
      for (let i = 0; i < count; i += 1000) {
        const batch = [];
        for (let j = i; j < Math.min(count, i + 1000); j++)
          batch.push({ raw: makeMessage(offset + j), flags: [], internalDate: null });
        await acc.append(id, batch);
      }
    };
    await load('INBOX', n, 0);
    await load('Archive', archive, n);
    acc.createMailbox('Scratch');
    store.flushIndex();
    sb.dispose();
    store.close();
    flushCompileCache(); // for the server process that starts next
    process.exit(0);
  }
  const tlsDir = process.argv[5]!;
  const store = await reopen(storeDir!);
  const backend = createImapBackend(store, { logger: silentLogger });
  const server = await startImapServer({
    backend,
    port: 0,
    allowPlaintextLogin: true,
    tls: {
      cert: readFileSync(join(tlsDir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(tlsDir, 'key.pem'), 'utf8'),
    },
  });
  // as Bridge.serve does (app/index.ts); LB_BENCH_MEM_RELEASE=0 measures without it
  let releases = 0;
  const trim = process.env.LB_BENCH_MEM_RELEASE === '0' ? null : await loadMallocTrim();
  if (trim)
    startIdleRelease({
      release: () => {
        releases++;
        trim();
      },
    });
  const status = (field: string): number =>
    Number(
      new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'latin1'))?.[1],
    ) * 1024;
  const report = (): MemReport => {
    const m = process.memoryUsage();
    return {
      rss: status('VmRSS'),
      anon: status('RssAnon'),
      file: status('RssFile'),
      hwm: status('VmHWM'),
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      connections: server.connections,
      releases,
    };
  };
  const gc = (globalThis as { gc?: () => void }).gc!;
  process.on('message', (m) => {
    if (m === 'mem') process.send?.(report());
    else if (m === 'reset-peak') {
      // Linux: writing 5 to clear_refs resets VmHWM to the current RSS
      writeFileSync('/proc/self/clear_refs', '5');
      process.send?.(report());
    } else if (m === 'gc') {
      void (async () => {
        // full collections with the event loop turning in between (finalizers, freed buffers)
        for (let i = 0; i < 3; i++) {
          gc();
          await sleep(50);
        }
        process.send?.(report());
      })();
    }
  });
  process.on(
    'SIGTERM',
    () =>
      void server.close().then(() => {
        backend.dispose();
        store.close();
        process.exit(0);
      }),
  );
  process.send?.(server.port);
}

if (process.argv[2] === '--imap-memory-child') await child();
