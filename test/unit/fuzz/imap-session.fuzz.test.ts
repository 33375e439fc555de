/**
 * Fuzz test of the IMAP command layer: generated command sequences (plausible commands, some
 * damaged) go through the CommandReader into a Session over the in-memory backend, the way
 * app/imap/connection.ts drives it. Asserts: no throw, no hang (each command within a time bound),
 * every command tag answered with OK/NO/BAD (or the session ended with BYE), never NO [SERVERBUG]
 * (an exception escaping a command handler), no heap growth.
 * Reproduce with LOCKBRIDGE_FUZZ_SEED=<seed>.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CommandReader } from '../../../app/imap/wire/command-reader.ts';
import type { ReaderEvent } from '../../../app/imap/wire/types.ts';
import { Session } from '../../../app/imap/session.ts';
import type { SessionConfig, Transport } from '../../../app/imap/session.ts';
import { execute } from '../../../app/imap/dispatcher.ts';
import { RecentClaims } from '../../../app/imap/recent.ts';
import { ResponseWriter } from '../../../app/imap/writer.ts';
import type { OutputSink } from '../../../app/imap/writer.ts';
import { LoginThrottle } from '../../../app/imap/throttle.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { MemoryImapBackend } from '../../helpers/imap-memory-backend.ts';
import { damage, genCommandBody, genHostileCommand, hostileHeaderMessage } from './imap-session-gen.ts';
import { Prng, fuzzSeed } from './prng.ts';
import { assertLoop, startLoopWatch } from '../../helpers/event-loop.ts';

const TOTAL = Number(process.env.LOCKBRIDGE_SESSION_FUZZ_COUNT ?? 100_000);
const COMMAND_TIMEOUT_MS = 5000;
/** Longest the event loop may be blocked by one command (issue 14): the fuzz fails beyond it. */

class MemorySink implements OutputSink {
  chunks: Buffer[] = [];
  write(chunk: Buffer | string): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  readonly needsDrain = false;
  waitDrain(): Promise<void> {
    return Promise.resolve();
  }
  get closed(): boolean {
    return false;
  }
  take(): string {
    const s = Buffer.concat(this.chunks).toString('latin1');
    this.chunks = [];
    return s;
  }
}

/** A connection without a socket: the reader's events drive the session as connection.ts does. */
class FuzzConnection implements Transport {
  readonly secure = false;
  readonly compressed = false;
  readonly remoteAddress = '127.0.0.1';
  readonly reader = new CommandReader();
  readonly sink = new MemorySink();
  readonly writer = new ResponseWriter(this.sink);
  readonly session: Session;
  queue: ReaderEvent[] = [];
  closed = false;

  constructor(config: SessionConfig) {
    this.session = new Session(config, this.writer, this);
  }
  startTls(): Promise<void> {
    return Promise.reject(new Error('no TLS in the fuzz test'));
  }
  startCompression(): void {
    throw new Error('no COMPRESS in the fuzz test');
  }
  readRawLine(): Promise<string | null> {
    this.reader.expectRawLine();
    const evs = this.reader.resume();
    const first = evs[0];
    if (first && first.kind === 'line') {
      this.queue.unshift(...evs.slice(1));
      return Promise.resolve(first.line);
    }
    this.reader.cancelRawLine();
    this.queue.unshift(...evs);
    return Promise.resolve(null);
  }
  close(): void {
    this.closed = true;
  }
}

/** Full GC after an event-loop turn (garbage of a long microtask chain is only freed after one). */
async function gc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    collect();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_res, rej) => {
        timer = setTimeout(() => rej(new Error(`hang: ${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A backend whose INBOX holds a few messages (plain, multipart, message/rfc822, odd headers). */
async function seededBackend(r: Prng): Promise<MemoryImapBackend> {
  const backend = new MemoryImapBackend({ users: { 'alice@example.test': 'secret' } });
  const account = backend.account('alice@example.test');
  const inbox = account.getMailbox('INBOX');
  assert.ok(inbox);
  const raws = [
    'From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: hello\r\nDate: Mon, 23 Nov 2026 09:36:13 +0000\r\nMessage-ID: <m1@example.test>\r\n\r\nHello Alice\r\n',
    'From: =?UTF-8?B?R3LDvMOfZQ==?= <g@example.test>\r\nTo: a@b, c@d\r\nSubject: multi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npart one\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b1--\r\n',
    'Subject: no from\r\n\r\nbody only\r\n',
    'X-Odd: \xff\xfe\r\n\r\n',
    '',
  ];
  for (let i = 0; i < 5 + r.int(5); i++) {
    const raw = Buffer.from(raws[i % raws.length] as string, 'latin1');
    await account.append(inbox.id, [{ raw, flags: i % 2 ? ['\\Seen'] : [], internalDate: null }]);
  }
  await account.append(inbox.id, [{ raw: hostileHeaderMessage(r), flags: [], internalDate: null }]);
  for (const name of ['a', 'a/qq', 'a/b/c/d/e/f', 'x'.repeat(200), 'q'.repeat(500) + '/q'])
    if (!account.getMailbox(name)) account.createMailbox(name);
  return backend;
}

/** A session script: login first most of the time, SELECT next, then a run of commands. */
function genScript(r: Prng, session: number): string {
  const lines: string[] = [];
  const n = 3 + r.int(25);
  for (let k = 0; k < n; k++) {
    const tag = `Z${session}q${k}`;
    let body =
      k === 0 && r.chance(0.9)
        ? 'LOGIN alice@example.test secret'
        : k === 1 && r.chance(0.85)
          ? r.pick(['SELECT INBOX', 'EXAMINE INBOX', 'SELECT INBOX (CONDSTORE)'])
          : r.chance(0.03)
            ? genHostileCommand(r)
            : genCommandBody(r, true);
    if (r.chance(0.15)) body = damage(r, body);
    let line = `${tag} ${body}\r\n`;
    if (body.startsWith('IDLE')) line += r.chance(0.9) ? 'DONE\r\n' : 'NOT DONE\r\n';
    if (body === 'AUTHENTICATE PLAIN') {
      line += r.chance(0.7)
        ? `${Buffer.from('\0alice@example.test\0secret').toString('base64')}\r\n`
        : '*\r\n';
    }
    lines.push(line);
  }
  return lines.join('');
}

const seen = { untaggedExpunge: 0, untaggedExists: 0 };

type StepResult = { reply: 'OK' | 'NO' | 'BAD' | 'BYE'; ms: number } | 'end' | null;

/** Handles one reader event of a connection the way connection.ts does; checks a command's reply. */
async function step(conn: FuzzConnection): Promise<StepResult> {
  const ev = conn.queue.shift() as ReaderEvent;
  if (ev.kind === 'continue') {
    conn.writer.line('+ Ready for literal data');
    return null;
  }
  if (ev.kind === 'error') {
    conn.writer.line(`${ev.tag ?? '*'} BAD ${ev.message}`);
    return ev.fatal ? 'end' : null;
  }
  if (ev.kind === 'line') {
    if (conn.reader.paused && conn.queue.length === 0) conn.queue.push(...conn.reader.resume());
    return null;
  }
  const { tag, command, args } = ev.command;
  const t = performance.now();
  await withTimeout(
    Promise.resolve(execute(conn.session, ev.command)),
    COMMAND_TIMEOUT_MS,
    `${tag} ${command}`,
  );
  const ms = performance.now() - t;
  conn.writer.flush();
  const out = conn.sink.take();
  const m = new RegExp(`(?:^|\\r\\n)${escapeRe(tag)} (OK|NO|BAD)(?: |\\r\\n)`).exec(out);
  let reply: 'OK' | 'NO' | 'BAD' | 'BYE';
  if (m) {
    reply = m[1] as 'OK' | 'NO' | 'BAD';
    const tagged = out.slice(m.index, m.index + 200);
    // an exception escaping a handler is answered NO [SERVERBUG]: that is a crash here
    assert.ok(!/ \[SERVERBUG\]/.test(tagged), `internal error for ${tag} ${command}: ${tagged}`);
    if (process.env.LOCKBRIDGE_FUZZ_TRACE && reply !== 'OK') {
      const line = out.slice(m.index).split('\r\n')[0];
      console.log(`TRACE ${command} ${JSON.stringify(args).slice(0, 150)} => ${line}`);
    }
  } else if (/(?:^|\r\n)\* BYE /.test(out) || conn.closed || conn.session.state === 'logout') reply = 'BYE';
  else assert.fail(`no tagged reply for ${tag} ${command}; output:\n${out.slice(-500)}`);
  if (/(?:^|\r\n)\* \d+ EXPUNGE\r\n/.test(out)) seen.untaggedExpunge++;
  if (/(?:^|\r\n)\* \d+ EXISTS\r\n/.test(out)) seen.untaggedExists++;
  // RFC 3501 §7.4.1: no untagged EXPUNGE while answering FETCH, STORE or SEARCH (non-UID forms)
  if (command === 'FETCH' || command === 'STORE' || command === 'SEARCH') {
    assert.ok(
      !/(?:^|\r\n)\* \d+ EXPUNGE\r\n/.test(out),
      `EXPUNGE sent during ${tag} ${command}:\n${out.slice(0, 500)}`,
    );
  }
  if (conn.session.state === 'logout') return 'end';
  // resume only once the pausing command (always the last event of a batch) is handled
  if (conn.reader.paused && conn.queue.length === 0) conn.queue.push(...conn.reader.resume());
  return { reply, ms };
}

describe('fuzz: IMAP session', () => {
  it(`${TOTAL} generated commands: no crash, no hang, every tag answered`, async () => {
    const seed = fuzzSeed();
    console.log(`imap-session fuzz seed: ${seed} (LOCKBRIDGE_FUZZ_SEED=${seed} to reproduce)`);
    const r = new Prng(seed);
    const throttle = new LoginThrottle({ baseDelayMs: 0, maxDelayMs: 0 });
    await gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const watch = startLoopWatch();
    const t0 = performance.now();
    let executed = 0;
    let sessions = 0;
    let rounds = 0;
    let slowest = 0;
    const replies = { OK: 0, NO: 0, BAD: 0, BYE: 0 };
    let backend = await seededBackend(r);
    while (executed < TOTAL) {
      if (++rounds % 150 === 0) {
        backend = await seededBackend(r);
        await new Promise((resolve) => setImmediate(resolve)); // a server yields to the event loop too
      }
      const config: SessionConfig = {
        backend,
        logger: silentLogger,
        allowPlaintextLogin: true,
        tlsAvailable: false,
        offerCompress: false,
        throttle,
        maxMessageSize: 1 << 20,
        recent: new RecentClaims(),
      };
      // one connection, or two interleaved on the same account (changes cross between them)
      const conns: Array<{ conn: FuzzConnection; script: string; done?: boolean }> = [];
      const count = r.chance(0.3) ? 2 : 1;
      for (let c = 0; c < count; c++) {
        sessions++;
        const conn = new FuzzConnection(config);
        conn.session.greeting();
        const script = genScript(r, sessions);
        conn.queue.push(...conn.reader.push(Buffer.from(script, 'latin1')));
        conns.push({ conn, script });
      }
      try {
        while (true) {
          const live = conns.filter((c) => c.conn.queue.length > 0 && !c.conn.closed && !c.done);
          if (live.length === 0) break;
          const c = r.pick(live);
          const res = await step(c.conn);
          // a turn of the event loop after each command: the delay monitor sees each one's block
          await new Promise((resolve) => setImmediate(resolve));
          if (res === 'end') c.done = true;
          else if (res) {
            executed++;
            replies[res.reply]++;
            if (res.ms > slowest) slowest = res.ms;
          }
        }
      } catch (err) {
        console.log(
          `imap-session fuzz failed (sessions ${sessions}, seed ${seed}); scripts:\n` +
            conns.map((c) => c.script.slice(0, 3000)).join('\n-----\n'),
        );
        throw err;
      } finally {
        for (const c of conns) c.conn.session.dispose();
      }
    }
    const total = performance.now() - t0;
    const loop = await watch.stop();
    await gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `imap-session fuzz: ${executed} commands in ${sessions} sessions, ${(total / 1000).toFixed(1)} s, slowest ${slowest.toFixed(1)} ms, ` +
        `replies ${JSON.stringify(replies)}, untagged ${JSON.stringify(seen)}, heap +${(heapGrowth / 1048576).toFixed(1)} MiB, ` +
        `event loop max ${loop.maxMs.toFixed(0)} ms (longest turn ${loop.cpuMs.toFixed(0)} ms of CPU)`,
    );
    assertLoop(loop, `imap-session fuzz, seed ${seed}`);
    assert.ok(
      replies.OK > 0 && replies.NO > 0 && replies.BAD > 0,
      'the generator reaches success and failure paths',
    );
    assert.ok(heapGrowth < 64 * 1048576, `heap grew by ${heapGrowth} bytes`);
  });
});
