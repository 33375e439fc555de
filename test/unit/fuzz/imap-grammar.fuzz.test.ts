/**
 * Property fuzz of the small IMAP grammar pieces: modified UTF-7 (strictness means decode is
 * canonical: encode(decode(s)) === s for every accepted s), and the parsers the commands use:
 * sequence sets (imap/sequence.ts: resolution by UID and by number agrees with brute force) and
 * dates (imap/dates.ts: only typed errors; agrees with V8's parser and the INTERNALDATE form).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMUtf7, encodeMUtf7, MUtf7Error } from '../../../app/imap/wire/mutf7.ts';
import {
  clampRanges,
  compressUids,
  isSequenceSet,
  parseSequenceSet,
  resolveSequenceSet,
  type SeqRange,
} from '../../../app/imap/sequence.ts';
import { dayOf, parseDate, parseDateTime } from '../../../app/imap/dates.ts';
import { ImapBadError } from '../../../app/imap/errors.ts';
import { internalDate } from '../../../app/imap/format.ts';
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

  it(`sequence sets: ${N} random inputs against the live parser and resolver`, () => {
    const r = new Prng(seed ^ 0x5eed);
    const why = (s: string): string => `seed ${seed}, input ${JSON.stringify(s)}`;
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const s = r.chance(0.05) ? String(r.u32() * 2) : randomFrom(r, '0123456789:,*$ x', 12);
      let ranges: SeqRange[];
      try {
        ranges = parseSequenceSet(s);
      } catch (err) {
        assert.ok(err instanceof ImapBadError, `unexpected error: ${String(err)} (${why(s)})`);
        continue;
      }
      accepted++;
      assert.ok(isSequenceSet(s), `parsed but not recognised as a sequence set (${why(s)})`);
      if (s === '$') continue; // SEARCHRES's saved result: no ranges of its own (tested in searchres-within)
      for (const [a, b] of ranges)
        for (const v of [a, b]) assert.ok(v === -1 || (v >= 1 && v <= 0xffffffff), why(s));

      // a random ascending view of UIDs
      const uids: number[] = [];
      let u = 0;
      for (let k = r.int(30); k > 0; k--) uids.push((u += 1 + r.int(3)));
      const n = uids.length;

      // by UID: every UID of the view inside a range (`*` = the largest UID), ascending
      const max = n ? uids[n - 1]! : 0;
      const within = (v: number, [a0, b0]: SeqRange, star: number): boolean => {
        const a = a0 === -1 ? star : a0;
        const b = b0 === -1 ? star : b0;
        return v >= Math.min(a, b) && v <= Math.max(a, b);
      };
      const byUid = n ? uids.filter((v) => ranges.some((rg) => within(v, rg, max))) : [];
      assert.deepEqual(resolveSequenceSet(ranges, uids, true), byUid, `by UID, view ${uids} (${why(s)})`);
      // what the server sends back as a set selects the same UIDs again
      if (byUid.length)
        assert.deepEqual(
          resolveSequenceSet(parseSequenceSet(compressUids(byUid)), uids, true),
          byUid,
          why(s),
        );

      // by message number: a number beyond the view is an error, else the UIDs at those positions
      const beyond = ranges.some(([a, b]) => (a === -1 ? n : a) > n || (b === -1 ? n : b) > n);
      const emptyNonStar = n === 0 && ranges.some(([a, b]) => a !== -1 || b !== -1);
      if (beyond || emptyNonStar) {
        assert.throws(() => resolveSequenceSet(ranges, uids, false), ImapBadError, why(s));
      } else {
        const want = uids.filter((_, k) => ranges.some((rg) => within(k + 1, rg, n)));
        assert.deepEqual(
          resolveSequenceSet(ranges, uids, false),
          want,
          `by number, view ${uids} (${why(s)})`,
        );
      }
      // SEARCH clamps instead: the clamped ranges cover exactly the numbers 1..n inside the set
      const clamped = clampRanges(ranges, n);
      for (let k = 1; k <= n + 2; k++)
        assert.equal(
          clamped.some(([a, b]) => k >= a && k <= b),
          k <= n && ranges.some((rg) => within(k, rg, n)),
          `clamp ${k} of ${n} (${why(s)})`,
        );
    }
    assert.ok(accepted > N / 50);
  });

  it(`dates: ${N} random inputs give a value or ImapBadError, and agree with an independent parse`, () => {
    const r = new Prng(seed ^ 0xda7e);
    const valid = '17-Jul-1996 02:44:25 -0700';
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      let s = valid;
      const edits = 1 + r.int(3);
      for (let k = 0; k < edits; k++) {
        const p = r.int(s.length + 1);
        s = s.slice(0, p) + randomFrom(r, '0123456789-+: JulFebx', 1) + s.slice(p + r.int(2));
      }
      const why = `seed ${seed}, input ${JSON.stringify(s)}`;
      let t: number;
      try {
        t = parseDateTime(s);
      } catch (err) {
        assert.ok(err instanceof ImapBadError, `unexpected error: ${String(err)} (${why})`);
        continue;
      }
      accepted++;
      assert.ok(Number.isFinite(t), why);
      // the server's INTERNALDATE form of the value reads back to the same instant (4-digit years)
      const year = new Date(t).getUTCFullYear();
      if (year >= 1000 && year <= 9999) assert.equal(parseDateTime(internalDate(t).slice(1, -1)), t, why);
      // V8's date parser agrees where both read the same calendar (no leap second, a 4-digit year)
      const m = /^ ?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4})$/.exec(s)!;
      if (m[6] !== '60' && Number(m[3]) >= 1000)
        assert.equal(t, Date.parse(`${m[1]} ${m[2]} ${m[3]} ${m[4]}:${m[5]}:${m[6]} ${m[7]}`), why);
      try {
        const d = parseDate(s.trim().slice(0, 11));
        assert.equal(d, dayOf(d), why);
      } catch (err) {
        assert.ok(err instanceof ImapBadError, why);
      }
    }
    assert.ok(accepted > 0);
  });
});
