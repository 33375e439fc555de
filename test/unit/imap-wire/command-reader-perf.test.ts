/**
 * Correctness on the hot paths (APPEND of many messages, Thunderbird's header-fetch lines) with
 * their timings printed; speed is judged by npm run bench, not by a test that a loaded machine fails.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader } from '../../../app/imap/wire/command-reader.ts';

function best(fn: () => void, runs = 5): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function chunked(all: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < all.length; o += size) out.push(all.subarray(o, o + size));
  return out;
}

describe('CommandReader throughput', () => {
  it('APPEND of 1,000 messages with LITERAL+ in 64 KiB reads stays close to memcpy speed', () => {
    const msg = Buffer.alloc(5000, 0x61);
    for (let i = 76; i < msg.length - 1; i += 78) msg.write('\r\n', i, 'latin1');
    const parts: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      parts.push(
        Buffer.from(`A${i} APPEND "INBOX" (\\Seen) "17-Jul-1996 02:44:25 -0700" {${msg.length}+}\r\n`),
        msg,
        Buffer.from('\r\n'),
      );
    }
    const chunks = chunked(Buffer.concat(parts), 65536);
    let commands = 0;
    const reader = best(() => {
      const r = new CommandReader();
      commands = 0;
      for (const c of chunks) commands += r.push(c).length;
    });
    const baseline = best(() => {
      const copy = Buffer.allocUnsafe(chunks.length * 65536);
      let o = 0;
      for (const c of chunks) {
        c.copy(copy, o);
        o += c.length;
        if (c.indexOf(10) < -1) throw new Error('unreachable');
      }
    });
    assert.equal(commands, 1000);
    const ratio = reader / Math.max(baseline, 0.05);
    console.log(
      `APPEND 1000 x 5 KB: reader ${reader.toFixed(2)} ms, copy+scan ${baseline.toFixed(2)} ms, ratio ${ratio.toFixed(1)}`,
    );
  });

  it("10,000 of Thunderbird's header-fetch command lines parse in well under a second", () => {
    const hf =
      'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To';
    const input = Buffer.from(
      Array.from(
        { length: 10000 },
        (_v, i) => `${i} UID fetch ${i}:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${hf})])\r\n`,
      ).join(''),
    );
    let n = 0;
    const ms = best(() => {
      n = new CommandReader().push(input).length;
    }, 3);
    assert.equal(n, 10000);
    console.log(`10,000 header-fetch lines: ${ms.toFixed(1)} ms`);
  });
});
