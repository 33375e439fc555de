/** HEADER.FIELDS filtering and sequence-set resolution (the FETCH/SEARCH building blocks). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filterHeader, headerEnd } from '../../../app/imap/fetch/section.ts';
import {
  clampRanges,
  compressUids,
  parseSequenceSet,
  resolveSequenceSet,
} from '../../../app/imap/sequence.ts';
import { ImapBadError } from '../../../app/imap/errors.ts';

const H = Buffer.from(
  'Received: from a\r\n\tby b\r\nSubject: Hi\r\n there\r\nFROM : x@y\r\nX-Empty:\r\nbogus line\r\nTo: z@w\r\n\r\nbody\r\n',
);

describe('filterHeader', () => {
  it('keeps named fields with their folded lines, case-insensitively, ending with a blank line', () => {
    assert.equal(
      filterHeader(H, ['subject', 'From'], false).toString(),
      'Subject: Hi\r\n there\r\nFROM : x@y\r\n\r\n',
    );
    assert.equal(
      filterHeader(H, ['RECEIVED', 'x-empty'], false).toString(),
      'Received: from a\r\n\tby b\r\nX-Empty:\r\n\r\n',
    );
    assert.equal(filterHeader(H, ['nope'], false).toString(), '\r\n');
  });
  it('.NOT drops the named fields and lines that are not fields', () => {
    assert.equal(
      filterHeader(H, ['Received', 'Subject', 'X-Empty'], true).toString(),
      'FROM : x@y\r\nTo: z@w\r\n\r\n',
    );
  });
  it('finds the end of a header block (CRLF, LF, empty header)', () => {
    assert.equal(headerEnd(H, 0, H.length), H.indexOf('body'));
    const lf = Buffer.from('A: b\n\nbody');
    assert.equal(headerEnd(lf, 0, lf.length), 6);
    const empty = Buffer.from('\r\nbody');
    assert.equal(headerEnd(empty, 0, empty.length), 2);
  });
});

describe('sequence sets', () => {
  const view = [3, 5, 9, 10, 42];
  it('resolves message numbers, UIDs, * and reversed ranges', () => {
    assert.deepEqual(resolveSequenceSet(parseSequenceSet('2:3'), view, false), [5, 9]);
    assert.deepEqual(resolveSequenceSet(parseSequenceSet('*'), view, false), [42]);
    assert.deepEqual(resolveSequenceSet(parseSequenceSet('4:2,1'), view, false), [3, 5, 9, 10]);
    assert.deepEqual(resolveSequenceSet(parseSequenceSet('100:*'), view, true), [42]);
    assert.deepEqual(resolveSequenceSet(parseSequenceSet('6:9,41:50'), view, true), [9, 42]);
    assert.deepEqual(resolveSequenceSet(parseSequenceSet('11:40'), view, true), []);
  });
  it('rejects bad sets and message numbers beyond the mailbox', () => {
    for (const bad of ['', '0', '1:0', 'a', '1,,2', '1:2:3', '4294967296']) {
      assert.throws(() => parseSequenceSet(bad), ImapBadError, bad);
    }
    assert.throws(() => resolveSequenceSet(parseSequenceSet('6'), view, false), ImapBadError);
    assert.deepEqual(clampRanges(parseSequenceSet('4:9'), 5), [[4, 5]]);
    assert.deepEqual(clampRanges(parseSequenceSet('1:*'), 0), []);
  });
  it('compresses UID lists', () => {
    assert.equal(compressUids([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
    assert.equal(compressUids([]), '');
  });
});
