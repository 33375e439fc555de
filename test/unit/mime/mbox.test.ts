// mbox splitting (chunked, mboxrd unquoting, CRLF/LF) and CRLF normalization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MboxSplitter, splitMbox, MboxTooLargeError, mboxrdEntry } from '../../../app/mime/mbox.ts';
import { normalizeCrlf, hasBareLf } from '../../../app/mime/crlf.ts';

const MBOX =
  'From alice@example.com Mon Nov 23 10:00:00 2026\n' +
  'From: alice@example.com\nSubject: one\n\nHello\n>From the start\n>>From deeper\n\n' +
  'From bob@example.com Tue Nov 24 11:00:00 2026\n' +
  'Subject: two\n\nsecond body\nFrom here is not a separator\n\n';

test('splits messages, drops separators and the blank line before them, unquotes >From', () => {
  const msgs = splitMbox(Buffer.from(MBOX));
  assert.equal(msgs.length, 2);
  assert.equal(msgs[0]?.separator, 'From alice@example.com Mon Nov 23 10:00:00 2026');
  assert.equal(
    msgs[0]?.raw.toString(),
    'From: alice@example.com\nSubject: one\n\nHello\nFrom the start\n>From deeper\n',
  );
  assert.equal(msgs[1]?.raw.toString(), 'Subject: two\n\nsecond body\nFrom here is not a separator\n');
});

test('the same result for every chunking, LF or CRLF', () => {
  for (const data of [Buffer.from(MBOX), Buffer.from(MBOX.replace(/\n/g, '\r\n'))]) {
    const whole = splitMbox(data).map((m) => m.raw.toString('latin1'));
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const s = new MboxSplitter();
      const got: string[] = [];
      for (let i = 0; i < data.length; i += size)
        for (const m of s.push(data.subarray(i, i + size))) got.push(m.raw.toString('latin1'));
      for (const m of s.end()) got.push(m.raw.toString('latin1'));
      assert.deepEqual(got, whole, `chunk ${size}`);
    }
  }
});

test('a message larger than the limit is refused', () => {
  const s = new MboxSplitter({ maxMessageBytes: 100 });
  assert.throws(
    () => s.push(Buffer.from('From a@b Mon Nov 23 10:00:00 2026\n' + 'x'.repeat(200) + '\n')),
    MboxTooLargeError,
  );
});

test('no trailing newline at EOF and no mbox at all', () => {
  const m = splitMbox(Buffer.from('From a@b Mon Nov 23 10:00:00 2026\nSubject: x\n\nbody'));
  assert.equal(m.length, 1);
  assert.equal(m[0]?.raw.toString(), 'Subject: x\n\nbody');
  assert.equal(splitMbox(Buffer.from('')).length, 0);
});

test('normalizeCrlf turns bare LF into CRLF and keeps CRLF', () => {
  assert.equal(normalizeCrlf(Buffer.from('a\nb\r\nc\n')).toString(), 'a\r\nb\r\nc\r\n');
  const already = Buffer.from('a\r\nb\r\n');
  assert.equal(normalizeCrlf(already), already); // unchanged, same buffer
  assert.equal(normalizeCrlf(Buffer.from('\n\n')).toString(), '\r\n\r\n');
  assert.equal(hasBareLf(Buffer.from('a\r\nb')), false);
  assert.equal(hasBareLf(Buffer.from('a\nb')), true);
});

test('mboxrdEntry: what it writes splits back into exactly the same messages (quoting, no final line break)', () => {
  const messages = [
    'Subject: a\r\n\r\nFrom the start\r\n>From quoted\r\n>>From deeper\r\nFrom \r\n',
    'Subject: no line break at the end\r\n\r\nlast line',
    'From: x@example.test\r\nSubject: ends with an empty line\r\n\r\nbody\r\n\r\n',
    'Subject: bare CR\r\n\r\nkeeps \r a bare CR\r\n',
  ].map((s) => Buffer.from(s, 'latin1'));
  const date = Date.UTC(2026, 11, 5, 9, 3, 7);
  const file = Buffer.concat(
    messages.flatMap((m, i) => mboxrdEntry(m, i ? 'x@example.test' : 'bad sender', date)),
  );
  const text = file.toString('latin1');
  assert.match(text, /^From MAILER-DAEMON Sat Dec {2}5 09:03:07 2026\r\n/);
  assert.match(text, /\r\nFrom x@example\.test Sat Dec {2}5 09:03:07 2026\r\n/);
  assert.match(text, /\r\n>From the start\r\n>>From quoted\r\n>>>From deeper\r\n>From \r\n/);
  for (const size of [1, 5, 1000, file.length]) {
    const s = new MboxSplitter();
    const got: Buffer[] = [];
    for (let i = 0; i < file.length; i += size)
      for (const m of s.push(file.subarray(i, i + size))) got.push(m.raw);
    for (const m of s.end()) got.push(m.raw);
    assert.deepEqual(
      got.map((b) => b.toString('latin1')),
      messages.map((b) => b.toString('latin1')),
      `chunk ${size}`,
    );
  }
  assert.equal(splitMbox(file)[1]?.separator, 'From x@example.test Sat Dec  5 09:03:07 2026');
});
