import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceSet, SequenceSetError, STAR } from '../../../app/imap/wire/sequence-set.ts';

describe('sequence sets', () => {
  it('parses numbers, ranges in either order and *', () => {
    const s = SequenceSet.parse('1,3:5,7:*,9:8');
    assert.deepEqual(s.ranges, [
      [1, 1],
      [3, 5],
      [7, STAR],
      [9, 8],
    ]);
    assert.equal(s.hasStar, true);
    assert.equal(s.toString(), '1,3:5,7:*,9:8');
    assert.equal(s.maxExplicit, 9);
  });

  it('resolves * against a maximum given later, ordered, clipped and merged', () => {
    const s = SequenceSet.parse('1,3:5,7:*,9:8');
    assert.deepEqual(s.resolve(20).toRanges(), [
      [1, 1],
      [3, 5],
      [7, 20],
    ]);
    assert.deepEqual(s.resolve(6).toRanges(), [
      [1, 1],
      [3, 6],
    ]);
    assert.equal(s.resolve(20).size, 1 + 3 + 14);
  });

  it('UID 100:* with highest UID 90 includes 90 (RFC 3501 §6.4.8)', () => {
    const r = SequenceSet.parse('100:*').resolve(90);
    assert.deepEqual([...r], [90]);
    assert.ok(r.contains(90) && !r.contains(89) && !r.contains(100));
  });

  it('on an empty mailbox everything resolves to nothing', () => {
    assert.ok(SequenceSet.parse('1:*').resolve(0).isEmpty);
    assert.ok(SequenceSet.parse('*').resolve(0).isEmpty);
  });

  it('contains, iteration and filterSorted agree with a brute force check', () => {
    const s = SequenceSet.parse('2,4:6,10:8,15,15:16,30:*');
    const r = s.resolve(40);
    const uids = [1, 2, 3, 5, 7, 8, 9, 11, 15, 16, 17, 29, 30, 35, 40, 41];
    const brute = (n: number) =>
      n === 2 || (n >= 4 && n <= 6) || (n >= 8 && n <= 10) || n === 15 || n === 16 || (n >= 30 && n <= 40);
    for (let n = 0; n <= 45; n++) assert.equal(r.contains(n), brute(n), `n=${n}`);
    assert.deepEqual([...r], Array.from({ length: 45 }, (_v, i) => i + 1).filter(brute));
    assert.deepEqual(r.filterSorted(uids), uids.filter(brute));
    assert.equal(r.toString(), '2,4:6,8:10,15:16,30:40');
    assert.equal(r.min, 2);
    assert.equal(r.max, 40);
  });

  it('$ only when allowed (SEARCHRES)', () => {
    assert.throws(() => SequenceSet.parse('$'), SequenceSetError);
    const s = SequenceSet.parse('$', { allowSearchResult: true });
    assert.equal(s.isSearchResult, true);
    assert.throws(() => s.resolve(5), SequenceSetError);
    assert.throws(() => SequenceSet.parse('1,$', { allowSearchResult: true }), SequenceSetError);
  });

  for (const bad of [
    '',
    '0',
    '1:0',
    '0:*',
    '01',
    '1,',
    ',1',
    '1::2',
    '1:2:3',
    'a',
    '1 2',
    '-1',
    '*:',
    '4294967296',
    '1,,2',
    ' 1',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => SequenceSet.parse(bad), SequenceSetError);
      assert.equal(SequenceSet.tryParse(bad), null);
    });
  }

  it('accepts the largest 32-bit number', () => {
    assert.deepEqual(SequenceSet.parse('4294967295').ranges, [[4294967295, 4294967295]]);
  });

  it('fromNumbers compacts', () => {
    assert.equal(SequenceSet.fromNumbers([5, 1, 2, 3, 9, 10, 2]).toString(), '1:3,5,9:10');
  });

  it('is fast for a long Thunderbird-style set', () => {
    const text = Array.from({ length: 20000 }, (_v, i) => `${i * 10 + 1}:${i * 10 + 5}`).join(',');
    const t0 = performance.now();
    const r = SequenceSet.parse(text).resolve(300000);
    let hits = 0;
    for (let n = 1; n <= 200000; n++) if (r.contains(n)) hits++;
    assert.equal(hits, 100000);
    assert.ok(performance.now() - t0 < 2000);
  });
});
