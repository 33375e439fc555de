/**
 * IMAP benchmark: Dovecot (apt) vs Lockbridge with the same mailbox and the same raw-socket client,
 * printed as Lockbridge/Dovecot ratios (lower is better):
 *  (a) Thunderbird's header sync  UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (...)])
 *  (b) UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])
 *  (c) UID SEARCH TEXT <rare word>
 *  (d) APPEND of N messages, one command at a time (as Thunderbird does)
 *  (e) SELECT of a big mailbox (warm: second SELECT)
 *  (f) STATUS of the big mailbox
 *  (g) the header fetch of the big mailbox's newest 1,000 (what Thunderbird lists first)
 *  (h) UID FETCH 1:* (FLAGS) of the big mailbox (a client's flag resync)
 * Every scenario runs twice: in plaintext, and over STARTTLS — the path every real client uses —
 * with the same client and the same certificate for both servers (LB_BENCH_TLS=0 skips it).
 * plus the Lockbridge server process's peak RSS. Each scenario's figure is the median of several
 * runs that alternate between the two servers, so both see the same machine.
 *
 * Lockbridge side: the real encrypted store through the ImapBackend adapter (LB_BENCH_BACKEND=memory
 * uses the in-memory reference backend instead, to measure the IMAP engine alone). The
 * Lockbridge server runs in a child process (like Dovecot), so the client never shares its CPU.
 */
import { execFileSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Socket } from 'node:net';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../app/imap/server.ts';
import { MemoryImapBackend } from '../test/helpers/imap-memory-backend.ts';
import type { ImapBackend } from '../app/imap/backend.ts';
import { createImapBackend } from '../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../app/shared/logger.ts';
import { peakRssBytes } from './peak-rss.ts';
import { addLocalAccount, newStore, reopen } from '../test/unit/store/helpers.ts';
import { startDovecot } from '../test/helpers/imap-dovecot.ts';

interface Opts {
  smoke: boolean;
  log: (line: string) => void;
}

const USER = 'alice@example.test';
const PASS = 'secret';
const RARE = 'xylophonic';
export const TB_FIELDS =
  'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To';

export function makeMessage(i: number): Buffer {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const body: string[] = [];
  const lines = 20 + (i % 40);
  for (let l = 0; l < lines; l++) {
    let line = '';
    for (let w = 0; w < 10; w++) line += words[(i * 7 + l * 3 + w) % words.length] + ' ';
    body.push(line.trimEnd());
  }
  if (i % 997 === 0) body.push(`a ${RARE} word`);
  const d = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString().replace('GMT', '+0000');
  const head = [
    `Return-Path: <sender${i % 50}@example.test>`,
    `Received: from mx.example.test (mx.example.test [192.0.2.1]) by mail.example.test with ESMTPS id ${i}; ${d}`,
    `From: Sender ${i % 50} <sender${i % 50}@example.test>`,
    `To: Alice <alice@example.test>`,
    i % 3 === 0 ? `Cc: Team <team@example.test>` : null,
    `Subject: Message number ${i} about ${words[i % words.length]}`,
    `Date: ${d}`,
    `Message-ID: <msg${i}@example.test>`,
    i % 2 ? `In-Reply-To: <msg${i - 1}@example.test>` : null,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: 7bit`,
  ].filter((x): x is string => x !== null);
  return Buffer.from(head.join('\r\n') + '\r\n\r\n' + body.join('\r\n') + '\r\n');
}

/** Minimal raw client: send a command, read until the tagged reply, count bytes. */
export class RawClient {
  private socket: Socket;
  private chunks: Buffer[] = [];
  private waiting: { tag: string; resolve: (s: string) => void; bytes: number } | null = null;
  private tail = '';

  private constructor(s: Socket) {
    this.socket = s;
    s.on('data', (d: Buffer) => this.onData(d));
  }

  static async open(port: number, starttls = false, login = { user: USER, pass: PASS }): Promise<RawClient> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const so = connect({ port, host: '127.0.0.1' }, () => resolve(so));
      so.once('error', reject);
    });
    s.setNoDelay(true);
    const c = new RawClient(s);
    await c.waitFor('*');
    if (starttls) {
      await c.cmd('STARTTLS');
      s.removeAllListeners('data');
      c.socket = await new Promise<Socket>((resolve, reject) => {
        const t = tlsConnect({ socket: s, rejectUnauthorized: false }, () => resolve(t));
        t.once('error', reject);
      });
      c.socket.on('data', (d: Buffer) => c.onData(d));
    }
    await c.cmd(`LOGIN ${login.user} ${login.pass}`);
    return c;
  }

  private onData(d: Buffer): void {
    if (!this.waiting) {
      this.chunks.push(d);
      return;
    }
    this.waiting.bytes += d.length;
    const text = this.tail + d.toString('latin1', Math.max(0, d.length - 512));
    const marker = this.waiting.tag === '*' ? '* OK' : `\r\n${this.waiting.tag} `;
    const idx = this.waiting.tag === '*' ? text.indexOf(marker) : ('\r\n' + text).lastIndexOf(marker);
    if (idx >= 0 && text.endsWith('\r\n')) {
      const w = this.waiting;
      this.waiting = null;
      this.tail = '';
      w.resolve(text.slice(Math.max(0, idx - 2)));
      return;
    }
    this.tail = text.slice(-600);
  }

  private waitFor(tag: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = { tag, resolve, bytes: 0 };
      const pending = Buffer.concat(this.chunks);
      this.chunks = [];
      if (pending.length) this.onData(pending);
    });
  }

  private n = 0;
  async cmd(line: string, literal?: Buffer): Promise<string> {
    const tag = `T${++this.n}`;
    const p = this.waitFor(tag);
    if (literal) {
      this.socket.write(`${tag} ${line} {${literal.length}+}\r\n`);
      this.socket.write(literal);
      this.socket.write('\r\n');
    } else this.socket.write(`${tag} ${line}\r\n`);
    const r = await p;
    if (!new RegExp(`${tag} OK`).test(r)) throw new Error(`${line.slice(0, 60)} failed: ${r.slice(-200)}`);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Untimed rounds before a sub-millisecond scenario, for both servers alike: a long-running server
 * has compiled its hot paths (V8 optimises a function after some hundreds of calls) and has its
 * files in the page cache; the first rounds after start measure neither server's steady state.
 */
async function warmUp(rounds: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rounds; i++) await fn();
}

/** SELECT and UNSELECT of the big mailbox: scenario (e). */
function selectPair(c: RawClient): Promise<unknown> {
  return c.cmd('SELECT Big').then(() => c.cmd('UNSELECT'));
}

/** Milliseconds with three significant digits below 10 (sub-millisecond scenarios). */
function ms(x: number): string {
  return x.toFixed(x < 10 ? 3 : 1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function time(fn: () => Promise<unknown>, repeat = 1): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

/** Write messages straight into Dovecot's maildir (fast), owned by the mail user. */
function fillMaildir(home: string, box: string, msgs: Buffer[], owner: { uid: number; gid: number }): void {
  const base = box === 'INBOX' ? join(home, 'Maildir') : join(home, 'Maildir', '.' + box);
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(base, d), { recursive: true });
  msgs.forEach((m, i) => {
    // names shaped like Dovecot's own (time.MusecPpid.host,S=,W=): a sequential pattern makes
    // Dovecot's filename hash collide, and every uidlist read of the 100k mailbox costs it ~1 s
    const name = `${1700000000 + (i >> 3)}.M${(i * 7919) % 1000000}P${1000 + (i % 50)}.lbbench`;
    const f = join(base, 'cur', `${name},S=${m.length},W=${m.length}:2,`);
    writeFileSync(f, m);
    chownSync(f, owner.uid, owner.gid);
  });
  for (const d of [
    join(home),
    join(home, 'Maildir'),
    base,
    join(base, 'cur'),
    join(base, 'new'),
    join(base, 'tmp'),
  ]) {
    chownSync(d, owner.uid, owner.gid);
  }
  // as if the mail server had delivered them a while ago: Dovecot does not trust a maildir whose
  // cur/ changed within the current second and would scan it again later
  const past = new Date(Date.now() - 3_600_000);
  for (const d of ['cur', 'new', 'tmp']) utimesSync(join(base, d), past, past);
}

export async function run(opts: Opts): Promise<void> {
  const { log } = opts;
  const N = Number(process.env.LB_BENCH_N ?? (opts.smoke ? 200 : 10_000));
  const BIG = Number(process.env.LB_BENCH_BIG ?? (opts.smoke ? 1000 : 100_000));
  const APPENDS = opts.smoke ? 50 : 1000;
  // Repeat counts of the timed scenarios: at smoke size each runs a few times (the code paths, not
  // the figures, are what CI keeps working); the sub-millisecond ones repeat thousands of times.
  const reps = (n: number): number => (opts.smoke ? Math.min(n, 3) : n);
  const msgs = Array.from({ length: N }, (_, i) => makeMessage(i));
  const bigMsgs = Array.from({ length: BIG }, (_, i) => (i < N ? msgs[i]! : makeMessage(i)));

  // --- one self-signed certificate for both servers' STARTTLS
  const tlsDir = mkdtempSync(join(tmpdir(), 'lb-imap-bench-tls-'));
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
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(tlsDir, 'key.pem'),
      '-out',
      join(tlsDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const tls = {
    cert: readFileSync(join(tlsDir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(tlsDir, 'key.pem'), 'utf8'),
  };
  process.env.LB_BENCH_TLS_DIR = tlsDir;
  const overTls = process.env.LB_BENCH_TLS !== '0';

  // --- Dovecot
  const dv = await startDovecot({ user: USER, password: PASS, tls });
  const mailRoot = join(dv.dir, 'mail');
  const owner = statSync(mailRoot);
  const home = join(mailRoot, 'example.test', 'alice');
  mkdirSync(home, { recursive: true });
  chownSync(join(mailRoot, 'example.test'), owner.uid, owner.gid);
  fillMaildir(home, 'INBOX', msgs, owner);
  fillMaildir(home, 'Big', bigMsgs, owner);
  // Dovecot indexes the new maildirs in a connection of its own first, as it would have long before
  // a client selects them: the imap process that did a mailbox's first sync keeps re-reading its
  // 5 MB uidlist on every later SELECT (~60 ms), while a fresh one just opens the index (~0.3 ms);
  // each scenario below uses fresh connections
  const warm = await RawClient.open(dv.port);
  for (const box of ['INBOX', 'Big']) await warm.cmd(`SELECT ${box}`).then(() => warm.cmd('UNSELECT'));
  warm.close();

  // --- Lockbridge (memory backend, child process)
  const storeDir = mkdtempSync(join(tmpdir(), 'lb-imap-bench-'));
  const child = await startChild(N, BIG, join(storeDir, 'home'));
  const lb = { port: child.port };
  const pin = (on: boolean): string | null =>
    pinProcesses(on, child.proc.pid!, join(dv.dir, 'run', 'master.pid'));
  const results: Array<{ name: string; dovecot: number; lockbridge: number; target: number; rss: number }> =
    [];
  const peakRss = async (): Promise<number> => {
    child.proc.send('rss');
    return new Promise<number>((resolve) => child.proc.once('message', (m) => resolve(Number(m) / 1024)));
  };
  log(
    `Lockbridge server peak RSS after opening the store (${N + BIG} messages): ${(await peakRss()).toFixed(0)} MB`,
  );
  try {
    const scenarios: Array<{
      name: string;
      target: number;
      run: (c: RawClient) => Promise<unknown>;
      prep?: (c: RawClient) => Promise<unknown>;
      /** timed runs per server (default 5) */
      rounds?: number;
      /** runs in a row on one server before the other server's turn (default 1) */
      block?: number;
      /** a sub-millisecond round trip: client and servers on CPUs of their own (pinProcesses) */
      pin?: boolean;
    }> = [
      {
        name: `(a) header fetch ${N}`,
        target: 1.0,
        prep: (c) => c.cmd('SELECT INBOX'),
        run: (c) => c.cmd(`UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${TB_FIELDS})])`),
      },
      {
        // the memory target: the 100k store open and a client fetching all its headers
        name: `(a) header fetch ${BIG} (memory target ≤ 150 MB)`,
        target: 1.0,
        prep: (c) => c.cmd('SELECT Big'),
        run: (c) => c.cmd(`UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${TB_FIELDS})])`),
      },
      {
        name: `(b) BODY.PEEK[] ${N}`,
        target: 1.0,
        prep: (c) => c.cmd('SELECT INBOX'),
        run: (c) => c.cmd('UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])'),
      },
      {
        name: `(c) SEARCH TEXT rare word`,
        target: 0.1,
        prep: (c) => c.cmd('SELECT INBOX'),
        run: (c) => c.cmd(`UID SEARCH TEXT ${RARE}`),
      },
      {
        // SELECT + UNSELECT of the 100k mailbox, 1,000 times per server in blocks of 50 (a client
        // switching folders talks to one server), the blocks alternating between the servers
        name: `(e) SELECT ${BIG} (warm)`,
        target: 1.0,
        prep: (c) => warmUp(reps(500), () => selectPair(c)),
        run: selectPair,
        rounds: reps(20),
        block: reps(50),
        pin: true,
      },
      {
        // the same, alternating after every pair: each server finds its caches filled with the
        // other's data every time (a trivial Node server takes ~0.1 ms per pair in blocks and
        // ~0.24 ms alternating; Dovecot ~0.3 ms both ways)
        name: `(e) SELECT ${BIG}, servers alternating every pair`,
        target: 1.0,
        prep: (c) => warmUp(reps(500), () => selectPair(c)),
        run: selectPair,
        rounds: reps(1001),
        pin: true,
      },
      {
        // issue 20: what Thunderbird fetches first in a big folder, the newest 1,000 messages' headers
        name: `(g) header fetch of the newest 1,000 of ${BIG}`,
        target: 1.0,
        prep: (c) => c.cmd('SELECT Big'),
        run: (c) =>
          c.cmd(
            `UID FETCH ${Math.max(1, BIG - 999)}:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${TB_FIELDS})])`,
          ),
        rounds: reps(15),
      },
      {
        // issue 20: a client's flag resync of a big folder (≤ 1 s at 1,000,000 messages)
        name: `(h) UID FETCH 1:* (FLAGS) of ${BIG}`,
        target: 1.0,
        prep: (c) => c.cmd('SELECT Big'),
        run: (c) => c.cmd('UID FETCH 1:* (FLAGS)'),
      },
      {
        // not one of the targets: what clients send for every folder every few minutes
        name: `(f) STATUS ${BIG} (beyond the issue)`,
        target: 1.0,
        prep: (c) => warmUp(reps(500), () => c.cmd('STATUS Big (MESSAGES UNSEEN UIDNEXT)')),
        run: (c) => c.cmd('STATUS Big (MESSAGES UNSEEN UIDNEXT)'),
        rounds: reps(1001),
        pin: true,
      },
    ];
    // LB_BENCH_ONLY=e,a runs only the scenarios with those letters (for profiling one of them).
    const only = process.env.LB_BENCH_ONLY?.split(',').map((l) => `(${l.trim()})`);
    const chosen = (name: string): boolean => !only || only.some((o) => name.startsWith(o));
    const modes = overTls ? [false, true] : [false];
    for (const [sc, starttls] of scenarios
      .filter((s) => chosen(s.name))
      .flatMap((s) => modes.map((m) => [s, m] as const))) {
      // Both servers' clients are open and prepared, then runs alternate between them (the order
      // flips each round), so both see the same machine; the figure is the median run.
      const pinned = sc.pin ? pin(true) : null;
      const clients: RawClient[] = [];
      for (const port of [dv.port, lb.port]) {
        const c = await RawClient.open(port, starttls);
        if (sc.prep) await sc.prep(c);
        clients.push(c);
      }
      const runs: number[][] = [[], []];
      for (let i = 0; i < (sc.rounds ?? reps(5)); i++) {
        for (const k of i % 2 ? [1, 0] : [0, 1])
          for (let b = 0; b < (sc.block ?? 1); b++) runs[k]!.push(await time(() => sc.run(clients[k]!)));
      }
      for (const c of clients) c.close();
      if (sc.pin) pin(false);
      const label = starttls ? `${sc.name} over STARTTLS` : sc.name;
      results.push({
        name: pinned ? `${label} [${pinned}]` : label,
        dovecot: median(runs[0]!),
        lockbridge: median(runs[1]!),
        target: sc.target,
        rss: await peakRss(),
      });
    }
    // (d) APPEND, one at a time.
    for (const starttls of chosen('(d)') ? modes : []) {
      const t: number[] = [];
      for (const port of [dv.port, lb.port]) {
        const c = await RawClient.open(port, starttls);
        if (port === dv.port && !starttls) await c.cmd('CREATE Target');
        t.push(
          await time(async () => {
            for (let i = 0; i < APPENDS; i++) await c.cmd('APPEND Target (\\Seen)', msgs[i % msgs.length]!);
          }),
        );
        c.close();
      }
      results.push({
        name: `(d) APPEND ${APPENDS}${starttls ? ' over STARTTLS' : ''}`,
        dovecot: t[0]!,
        lockbridge: t[1]!,
        target: 1.5,
        rss: await peakRss(),
      });
    }
  } finally {
    child.proc.send('rss');
    const rss = await new Promise<number>((resolve) => child.proc.once('message', (m) => resolve(Number(m))));
    child.proc.kill('SIGTERM');
    await new Promise((r) => child.proc.once('exit', r));
    rmSync(storeDir, { recursive: true, force: true });
    rmSync(tlsDir, { recursive: true, force: true });
    await dv.stop();
    log(
      `Lockbridge server peak RSS (${process.env.LB_BENCH_BACKEND === 'memory' ? 'in-memory backend' : 'encrypted store'}, ${N + BIG} messages, after all scenarios): ${(rss / 1024).toFixed(0)} MB`,
    );
  }
  log('| scenario | Dovecot ms | Lockbridge ms | ratio | target | server peak RSS so far |');
  log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const ratio = r.lockbridge / r.dovecot;
    log(
      `| ${r.name} | ${ms(r.dovecot)} | ${ms(r.lockbridge)} | ${ratio.toFixed(2)} | ≤ ${r.target}${ratio <= r.target ? '' : ' (missed)'} | ${r.rss.toFixed(0)} MB |`,
    );
  }
}

/** The CPUs this process may use before any pinning (availableParallelism follows the affinity). */
const CPUS = availableParallelism();

/**
 * For the sub-millisecond scenarios, with two CPUs or more and taskset (util-linux) at hand: the
 * client (this process) on CPU 0, both servers on CPU 1 — Dovecot's master, so the imap processes
 * it starts for the logins that follow, and every thread of the Lockbridge server. Left to the
 * scheduler, where each server happens to land relative to the client moves a 0.3 ms round trip by
 * tens of percent from run to run (measured within one hour: SELECT ratios between 0.62 and 1.50
 * unpinned, between 0.82 and 0.88 pinned). `on = false` lets every process use every CPU again.
 */
function pinProcesses(on: boolean, lockbridgePid: number, dovecotPidFile: string): string | null {
  if (CPUS < 2 || process.env.LB_BENCH_NO_PIN) return null;
  const all = `0-${CPUS - 1}`;
  try {
    const master = readFileSync(dovecotPidFile, 'latin1').trim();
    execFileSync('taskset', ['-a', '-p', '-c', on ? '0' : all, String(process.pid)], { stdio: 'ignore' });
    for (const pid of [master, String(lockbridgePid)])
      execFileSync('taskset', ['-a', '-p', '-c', on ? '1' : all, pid], { stdio: 'ignore' });
    return on ? 'client on CPU 0, both servers on CPU 1' : null;
  } catch (err) {
    return `not pinned to CPUs (${(err as Error).message.split('\n')[0]})`;
  }
}

async function startChild(
  n: number,
  big: number,
  dir: string,
): Promise<{ port: number; proc: ChildProcess }> {
  const args = ['--imap-bench-child', String(n), String(big), dir];
  if (process.env.LB_BENCH_BACKEND !== 'memory') {
    const loader = fork(fileURLToPath(import.meta.url), [...args, 'load'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const code = await new Promise<number | null>((resolve) => loader.once('exit', resolve));
    if (code !== 0) throw new Error(`bench store loader exited ${code}`);
  }
  // the server runs with the settings scripts/lockbridge-node gives `lockbridge serve`
  const proc = fork(fileURLToPath(import.meta.url), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [
      '--max-semi-space-size=8',
      '--max-old-space-size=1024',
      ...(process.env.LB_BENCH_CHILD_ARGS ? process.env.LB_BENCH_CHILD_ARGS.split(' ') : []),
    ],
    env: {
      ...process.env,
      NODE_COMPILE_CACHE:
        process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../.tools/compile-cache', import.meta.url)),
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1',
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m) => resolve(Number(m)));
    proc.once('exit', (code) => reject(new Error(`bench child exited ${code}`)));
  });
  return { port, proc };
}

async function child(n: number, big: number): Promise<void> {
  const useStore = process.env.LB_BENCH_BACKEND !== 'memory';
  let backend: ImapBackend;
  let cleanup = (): void => {};
  if (useStore) {
    const dir = process.argv[5]!;
    if (process.argv[6] === 'load') {
      // Phase 1 (own process): fill the store, then exit, so the server's RSS is its own.
      const store = await newStore(dir);
      addLocalAccount(store, USER, PASS);
      const sb = createImapBackend(store, { logger: silentLogger });
      const acc = (await sb.authenticate(USER, PASS))!;
      const load = async (box: string, count: number): Promise<void> => {
        const id = (acc.getMailbox(box) ?? acc.createMailbox(box)).id;
        for (let i = 0; i < count; i += 1000) {
          const batch = [];
          for (let j = i; j < Math.min(count, i + 1000); j++)
            batch.push({ raw: makeMessage(j), flags: [], internalDate: null });
          await acc.append(id, batch);
        }
      };
      await load('INBOX', n);
      await load('Big', big);
      acc.createMailbox('Target');
      store.flushIndex();
      sb.dispose();
      store.close();
      process.exit(0);
    }
    const store = await reopen(dir);
    const sb = createImapBackend(store, { logger: silentLogger });
    backend = sb;
    cleanup = () => {
      sb.dispose();
      store.close();
    };
  } else {
    const mem = new MemoryImapBackend({ users: { [USER]: PASS } });
    const account = mem.account(USER);
    for (let i = 0; i < n; i++) account.deliver('INBOX', makeMessage(i));
    account.createMailbox('Big');
    for (let i = 0; i < big; i++) account.deliver('Big', makeMessage(i));
    account.createMailbox('Target');
    backend = mem;
  }
  const tlsDir = process.env.LB_BENCH_TLS_DIR;
  const tls = tlsDir
    ? {
        cert: readFileSync(join(tlsDir, 'cert.pem'), 'utf8'),
        key: readFileSync(join(tlsDir, 'key.pem'), 'utf8'),
      }
    : undefined;
  const server = await startImapServer({
    backend,
    port: 0,
    allowPlaintextLogin: true,
    ...(tls ? { tls } : {}),
  });
  // this process's own peak, not the bench process's holding every generated message
  const peakKiB = (): number => peakRssBytes() / 1024;
  process.on('message', (m) => {
    if (m === 'rss') process.send?.(peakKiB());
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send?.((u.user + u.system) / 1000);
    }
  });
  process.on(
    'SIGTERM',
    () =>
      void server.close().then(() => {
        cleanup();
        process.exit(0);
      }),
  );
  process.send?.(server.port);
}

if (process.argv[2] === '--imap-bench-child') {
  await child(Number(process.argv[3]), Number(process.argv[4]));
}
