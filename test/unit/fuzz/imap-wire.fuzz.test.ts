/**
 * Fuzz test of the IMAP wire reader: >= 100,000 generated inputs per run — valid commands (checked
 * to round-trip to the AST they were generated from), grammar-aware mutations of them, and random
 * bytes — each fed at random split points, with pauses resumed and raw lines requested at random.
 * Asserts: no throw, bounded time per input and in total, the reader's buffered bytes within its
 * limits after every push, and no heap growth. Reproduce with LOCKBRIDGE_FUZZ_SEED=<seed>.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CommandReader } from '../../../app/imap/wire/command-reader.ts';
import type { WireLimits } from '../../../app/imap/wire/limits.ts';
import type { ReaderEvent } from '../../../app/imap/wire/types.ts';
import { plainEvent, serializeCommand } from '../imap-wire/wire-helpers.ts';
import { countLiterals, genCommand, mutate, randomInput } from './imap-gen.ts';
import { Prng, fuzzSeed } from './prng.ts';

const TOTAL = Number(process.env.LOCKBRIDGE_FUZZ_COUNT ?? 100_000);
const SMALL_LIMITS: Partial<WireLimits> = {
  maxLineLength: 512,
  maxLiteralSize: 256,
  maxCommandSize: 2048,
  maxDepth: 8,
  maxConsecutiveErrors: 6,
  maxLiteralSkip: 4096,
  maxPausedBuffer: 1024,
};

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function bound(l: Readonly<WireLimits>): number {
  return l.maxLineLength + l.maxCommandSize + l.maxLiteralSize + l.maxPausedBuffer;
}

function cutPoints(r: Prng, len: number): number[] {
  if (len > 1 && r.chance(0.02)) return Array.from({ length: len }, (_v, i) => i + 1);
  const n = r.int(5);
  const pts: number[] = [];
  for (let i = 0; i < n; i++) pts.push(1 + r.int(Math.max(1, len)));
  pts.push(len);
  return [...new Set(pts)].sort((a, b) => a - b);
}

function checkEvent(e: ReaderEvent): void {
  switch (e.kind) {
    case 'command':
      assert.equal(typeof e.command.tag, 'string');
      assert.ok(e.command.tag.length > 0);
      assert.match(e.command.command, /^[A-Z0-9_.-]+$/);
      assert.ok(Array.isArray(e.command.args));
      break;
    case 'error':
      assert.ok(e.tag === null || typeof e.tag === 'string');
      assert.equal(typeof e.message, 'string');
      assert.equal(typeof e.fatal, 'boolean');
      break;
    case 'continue':
      break;
    case 'line':
      assert.equal(typeof e.line, 'string');
      break;
    default:
      assert.fail(`unknown event ${JSON.stringify(e)}`);
  }
}

/** Feeds with random cuts, random raw-line requests; checks invariants after every push. */
function drive(r: Prng, reader: CommandReader, input: Buffer, randomRaw: boolean): ReaderEvent[] {
  const out: ReaderEvent[] = [];
  const limit = bound(reader.limits);
  const take = (evs: ReaderEvent[]): void => {
    for (const e of evs) {
      checkEvent(e);
      out.push(e);
    }
    assert.ok(reader.bufferedBytes <= limit, `buffered ${reader.bufferedBytes} > ${limit}`);
  };
  let prev = 0;
  for (const p of cutPoints(r, input.length)) {
    take(reader.push(input.subarray(prev, p)));
    prev = p;
    let guard = 0;
    while (reader.paused) {
      if (randomRaw && r.chance(0.5)) reader.expectRawLine();
      if (r.chance(0.1)) reader.discardBuffered();
      take(reader.resume());
      assert.ok(++guard < 10_000, 'resume loop does not end');
    }
  }
  return out;
}

describe('fuzz: IMAP wire reader', () => {
  it(`${TOTAL} generated inputs: no throw, no hang, bounded memory, valid commands round-trip`, () => {
    const seed = fuzzSeed();
    console.log(`imap-wire fuzz seed: ${seed} (LOCKBRIDGE_FUZZ_SEED=${seed} to reproduce)`);
    const r = new Prng(seed);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    let slowest = 0;
    let roundTrips = 0;
    let commands = 0;
    let errors = 0;
    let splitChecks = 0;
    // one long-lived reader too: state must stay sane across many inputs on one connection
    let shared = new CommandReader(SMALL_LIMITS);
    for (let i = 0; i < TOTAL; i++) {
      const t = performance.now();
      const cpu0 = process.threadCpuUsage();
      const kind = i % 10;
      try {
        if (kind < 3) {
          // valid command: must parse back to exactly the generated AST
          const cmd = genCommand(r);
          const nonSync = r.chance(0.5);
          const bytes = serializeCommand(cmd, { nonSync });
          const evs = drive(r, new CommandReader({}, { pauseAfter: [] }), bytes, false);
          const expected = [
            ...Array.from({ length: nonSync ? 0 : countLiterals(cmd.args) }, () => 'continue'),
            plainEvent({ kind: 'command', command: cmd }),
          ];
          assert.deepEqual(
            evs.map((e) => plainEvent(e, true)),
            expected,
            `round trip of ${JSON.stringify(bytes.toString('latin1'))}`,
          );
          roundTrips++;
        } else if (kind < 7) {
          const bytes = mutate(r, serializeCommand(genCommand(r), { nonSync: r.chance(0.5) }));
          const input = Buffer.concat([bytes, r.chance(0.5) ? Buffer.from('\r\n') : Buffer.alloc(0)]);
          let evs: ReaderEvent[];
          if (r.chance(0.5)) {
            // split invariance: any cut points give the same events as one chunk
            const opts = { pauseAfter: [] };
            const whole = new CommandReader(SMALL_LIMITS, opts).push(input).map((e) => plainEvent(e, true));
            evs = drive(r, new CommandReader(SMALL_LIMITS, opts), input, false);
            assert.deepEqual(
              evs.map((e) => plainEvent(e, true)),
              whole,
              `split invariance, input ${JSON.stringify(input.toString('latin1'))}`,
            );
            splitChecks++;
          } else {
            evs = drive(r, shared, input, true);
          }
          for (const e of evs)
            if (e.kind === 'command') commands++;
            else if (e.kind === 'error') errors++;
        } else {
          const reader = r.chance(0.5) ? new CommandReader(SMALL_LIMITS) : shared;
          const evs = drive(r, reader, randomInput(r), true);
          for (const e of evs) if (e.kind === 'error') errors++;
        }
        if (shared.closed) shared = new CommandReader(SMALL_LIMITS);
      } catch (err) {
        console.log(`imap-wire fuzz failed at input ${i}, seed ${seed}`);
        throw err;
      }
      // this thread's CPU time for the input (a pathological parse), not wall time: another job on
      // the machine must not make it fail
      const cpu = process.threadCpuUsage(cpu0);
      slowest = Math.max(slowest, (cpu.user + cpu.system) / 1000);
      const dt = performance.now() - t;
      if (process.env.LOCKBRIDGE_FUZZ_TRACE && dt > 30)
        console.log(`slow input ${i} kind ${kind}: ${dt.toFixed(1)} ms`);
    }
    const total = performance.now() - t0;
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `imap-wire fuzz: ${TOTAL} inputs in ${(total / 1000).toFixed(1)} s, slowest ${slowest.toFixed(1)} ms of CPU, ` +
        `${roundTrips} round trips, ${splitChecks} split-invariance checks, ${commands} commands from mutants, ${errors} errors, heap +${(heapGrowth / 1048576).toFixed(1)} MiB`,
    );

    assert.ok(slowest < 2000, `the slowest input took ${slowest} ms of CPU (seed ${seed})`);
    assert.ok(heapGrowth < 32 * 1048576, `heap grew by ${heapGrowth} bytes`);
    assert.ok(roundTrips >= TOTAL * 0.3 - 1 && errors > 0 && commands > 0);
  });

  it('big inputs stay within limits: a 64 MiB-limit reader under a flood of junk and huge literals', () => {
    const r = new Prng(fuzzSeed());
    const reader = new CommandReader();
    const limit = bound(reader.limits);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const junk = Buffer.alloc(1 << 20, 0x61); // 1 MiB without LF
    for (let i = 0; i < 64; i++) {
      reader.push(junk);
      assert.ok(reader.bufferedBytes <= limit);
    }
    // announce a LITERAL+ literal over the limit and stream it: skipped, not buffered
    const evs = reader.push(Buffer.from('\r\nx APPEND INBOX {104857600+}\r\n'));
    assert.ok(evs.some((e) => e.kind === 'error' && e.code === 'TOOBIG'));
    const block = r.bytes(1 << 20);
    for (let i = 0; i < 100; i++) reader.push(block);
    assert.ok(reader.bufferedBytes < 1024);
    const after = reader.push(Buffer.from('\r\ny NOOP\r\n'));
    assert.deepEqual(
      after.map((e) => plainEvent(e)),
      [{ cmd: ['y', 'NOOP'] }],
    );
    gc();
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 16 * 1048576);
  });

  it('big adversarial lines (repeated grammar fragments up to the line limit) parse in bounded time', () => {
    const seed = fuzzSeed();
    const r = new Prng(seed ^ 0xb16);
    const fragments = [
      '[',
      ']',
      '(',
      ')',
      '"',
      '\\',
      '{',
      '}',
      '~',
      '<',
      '>',
      ' ',
      'BODY[',
      ']<0.1>',
      '{5+}\r\nhello',
      'a',
      'NIL ',
      '\r',
      '1:*,',
      '"\\"',
      'BODY.PEEK[HEADER.FIELDS (A B)] ',
      '~{0+}\r\n',
      '\xff',
      '*',
    ];
    let slowest = 0;
    for (let i = 0; i < 300; i++) {
      // one or two fragments repeated: the shapes that trigger quadratic behaviour
      const pattern = r.pick(fragments) + (r.chance(0.5) ? r.pick(fragments) : '');
      const reps = Math.ceil((40_000 + r.int(40_000)) / pattern.length);
      const input = Buffer.from(`t${i} X ${pattern.repeat(reps)}\r\nz NOOP\r\n`, 'latin1');
      const reader = new CommandReader({}, { pauseAfter: [] });
      const t0 = performance.now();
      const evs = r.chance(0.2) ? drive(r, reader, input, false) : reader.push(input);
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      for (const e of evs) checkEvent(e);
    }
    console.log(`imap-wire big-line fuzz: slowest ${slowest.toFixed(1)} ms`);
  });
});
