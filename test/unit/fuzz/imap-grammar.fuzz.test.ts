/**
 * Property fuzz of the small IMAP grammar pieces: modified UTF-7 (strictness means decode is
 * canonical: encode(decode(s)) === s for every accepted s), sequence sets (accepted text prints
 * back unchanged; membership agrees with brute force) and dates (only typed errors; round trips).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMUtf7, encodeMUtf7, MUtf7Error } from '../../../app/imap/wire/mutf7.ts';
import { SequenceSet, SequenceSetError, STAR } from '../../../app/imap/wire/sequence-set.ts';
import {
  formatImapDateTime,
  ImapDateError,
  parseImapDate,
  parseImapDateTime,
} from '../../../app/imap/wire/datetime.ts';
import { Prng, fuzzSeed } from './prng.ts';

const N = 50_000;

function randomFrom(r: Prng, alphabet: string, maxLen: number): string {
  let s = '';
  const n = r.int(maxLen + 1);
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

describe('fuzz: IMAP grammar helpers', () => {
  const seed = fuzzSeed();

  it(`modified UTF-7: ${N} random inputs, decode is strict and canonical`, () => {
    console.log(`imap-grammar fuzz seed: ${seed}`);
    const r = new Prng(seed);
    const alphabet = '&-AQgw,+/=zZ09 a\u00fc';
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      // mostly near-valid: mutate a valid encoding; sometimes fully random
      let s: string;
      if (r.chance(0.5)) {
        let name = '';
        const n = r.int(6);
        for (let k = 0; k < n; k++)
          name += r.chance(0.5)
            ? String.fromCharCode(0x20 + r.int(0x5f))
            : String.fromCodePoint(0x80 + r.int(0x10ff00 - 0x80));
        name = name.replace(/[\ud800-\udfff]/g, 'x');
        s = encodeMUtf7(name);
        if (s.length && r.chance(0.7)) {
          const p = r.int(s.length);
          s = s.slice(0, p) + alphabet[r.int(alphabet.length)] + s.slice(p + (r.chance(0.5) ? 1 : 0));
        }
      } else s = randomFrom(r, alphabet, 12);
      let decoded: string;
      try {
        decoded = decodeMUtf7(s);
      } catch (err) {
        assert.ok(err instanceof MUtf7Error, `unexpected error for ${JSON.stringify(s)}: ${String(err)}`);
        continue;
      }
      accepted++;
      assert.equal(encodeMUtf7(decoded), s, `non-canonical form accepted: ${JSON.stringify(s)}`);
    }
    assert.ok(accepted > N / 10);
  });

  it(`sequence sets: ${N} random inputs`, () => {
    const r = new Prng(seed ^ 0x5eed);
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const s = randomFrom(r, '0123456789:,*$ x', 12);
      let set: SequenceSet;
      try {
        set = SequenceSet.parse(s, { allowSearchResult: true });
      } catch (err) {
        assert.ok(
          err instanceof SequenceSetError,
          `unexpected error for ${JSON.stringify(s)}: ${String(err)}`,
        );
        continue;
      }
      accepted++;
      const again = SequenceSet.parse(set.toString(), { allowSearchResult: true });
      assert.deepEqual(
        again.ranges.map(([a, b]) => [a, b]),
        set.ranges.map(([a, b]) => [a, b]),
      );
      if (set.isSearchResult) continue;
      const max = r.int(40);
      const res = set.resolve(max);
      const inSet = (n: number): boolean =>
        set.ranges.some(([a0, b0]) => {
          const a = a0 === STAR ? max : a0;
          const b = b0 === STAR ? max : b0;
          return n >= Math.min(a, b) && n <= Math.max(a, b);
        });
      for (let n = 0; n <= 45; n++)
        assert.equal(res.contains(n), n >= 1 && n <= max && inSet(n), `${s} max ${max} n ${n}`);
    }
    assert.ok(accepted > N / 50);
  });

  it(`dates: ${N} random inputs give a value or a typed error`, () => {
    const r = new Prng(seed ^ 0xda7e);
    const valid = '17-Jul-1996 02:44:25 -0700';
    for (let i = 0; i < N; i++) {
      let s = valid;
      const edits = 1 + r.int(3);
      for (let k = 0; k < edits; k++) {
        const p = r.int(s.length + 1);
        s = s.slice(0, p) + randomFrom(r, '0123456789-+: JulFebx', 1) + s.slice(p + r.int(2));
      }
      try {
        const d = parseImapDateTime(s);
        const again = parseImapDateTime(formatImapDateTime(d.time, d.offsetMinutes));
        assert.deepEqual(again, d);
      } catch (err) {
        assert.ok(err instanceof ImapDateError, `unexpected error for ${JSON.stringify(s)}: ${String(err)}`);
      }
      try {
        parseImapDate(s.slice(0, 11));
      } catch (err) {
        assert.ok(err instanceof ImapDateError);
      }
    }
  });
});
