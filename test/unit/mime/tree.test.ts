// Byte offsets of the MIME tree (RFC 2046 §5.1.1) and IMAP part numbering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMimeTree } from '../../../app/mime/tree.ts';
import { analyzeMessage, listParts } from '../../../app/mime/analyze.ts';
import { crlf, fixture } from './helpers.ts';

const slice = (raw: Buffer, a: number, b: number): string => raw.subarray(a, b).toString('latin1');

test('the CRLF before a boundary belongs to the delimiter', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=b\n\npre\n--b\nX: 1\n\none\n\n--b\n\ntwo\n--b--\nepi\n',
  );
  const root = parseMimeTree(raw);
  assert.equal(root.children.length, 2);
  const [a, b] = root.children;
  assert.ok(a && b);
  assert.equal(slice(raw, a.headerStart, a.bodyStart), 'X: 1\r\n\r\n');
  // "one\r\n\r\n--b": the body keeps one CRLF (content), the last CRLF belongs to the delimiter
  assert.equal(slice(raw, a.bodyStart, a.bodyEnd), 'one\r\n');
  assert.equal(slice(raw, b.headerStart, b.bodyStart), '\r\n');
  assert.equal(slice(raw, b.bodyStart, b.bodyEnd), 'two');
});

test('bare LF input gets the same structure with LF-sized offsets', () => {
  const raw = fixture('bare-lf.eml');
  assert.equal(raw.includes('\r'), false);
  const a = analyzeMessage(raw);
  const p1 = a.parts.find((p) => p.section === '1');
  const p2 = a.parts.find((p) => p.section === '2');
  assert.ok(p1 && p2);
  assert.equal(slice(raw, p1.bodyStart, p1.bodyEnd), 'part one');
  assert.equal(slice(raw, p2.bodyStart, p2.bodyEnd), 'part two\n');
  assert.equal(a.size, raw.length);
});

test('message/rfc822 parts are numbered under the part (2 → 2.1, 2.2)', () => {
  const raw = fixture('rfc822-nested.eml');
  const a = analyzeMessage(raw);
  assert.deepEqual(
    a.parts.map((p) => [p.section, p.contentType]),
    [
      ['', 'multipart/mixed'],
      ['1', 'text/plain'],
      ['2', 'message/rfc822'],
      ['2.1', 'text/plain'],
      ['2.2', 'text/html'],
    ],
  );
  const p21 = a.parts.find((p) => p.section === '2.1');
  assert.ok(p21);
  assert.equal(slice(raw, p21.bodyStart, p21.bodyEnd), 'inner plain');
  assert.equal(p21.charset, 'us-ascii');
});

test('a non-multipart encapsulated message has its body as n.1', () => {
  const raw = fixture('rfc822-simple.eml');
  const a = analyzeMessage(raw);
  const p2 = a.parts.find((p) => p.section === '2');
  const p21 = a.parts.find((p) => p.section === '2.1');
  assert.ok(p2 && p21);
  assert.equal(slice(raw, p21.bodyStart, p21.bodyEnd), 'line one\r\nline two');
  assert.equal(
    slice(raw, p21.headerStart, p21.bodyStart),
    'From: c@example.com\r\nSubject: inner simple\r\n\r\n',
  );
  assert.equal(p2.bodyStart, p21.headerStart);
});

test('a single-part message has part 1 = its body; whole message is section ""', () => {
  const raw = fixture('simple.eml');
  const a = analyzeMessage(raw);
  assert.deepEqual(
    a.parts.map((p) => p.section),
    ['', '1'],
  );
  const [whole, one] = a.parts;
  assert.ok(whole && one);
  assert.equal(whole.headerStart, 0);
  assert.equal(whole.bodyEnd, raw.length);
  assert.equal(one.bodyStart, whole.bodyStart);
  assert.ok(slice(raw, one.bodyStart, one.bodyEnd).startsWith('Hi Bob,'));
  assert.equal(one.charset, 'utf-8');
  assert.equal(one.encoding, '7bit');
});

test('deeply nested multiparts and message/rfc822 inside message/rfc822', () => {
  const a = analyzeMessage(fixture('deep-nesting.eml'));
  const secs = a.parts.map((p) => p.section);
  assert.ok(secs.includes('1'));
  assert.ok(
    secs.some((s) => s.split('.').length >= 3),
    secs.join(' '),
  );
});

test('broken MIME: no close delimiter, multipart without boundary, empty charset', () => {
  const raw = fixture('broken-mime.eml');
  const a = analyzeMessage(raw);
  const last = a.parts.find((p) => p.section === '2');
  assert.ok(last);
  assert.equal(last.bodyEnd, raw.length); // unterminated: runs to the end
  assert.equal(a.parts.find((p) => p.section === '1')?.contentType, 'multipart/alternative');
});

test('JSON round trip of parts', () => {
  const a = analyzeMessage(fixture('alternative-attachments.eml'));
  assert.deepEqual(JSON.parse(JSON.stringify(a.parts)), a.parts);
  assert.deepEqual(listParts(parseMimeTree(fixture('alternative-attachments.eml')), a.size), a.parts);
});

test('pathological input does not crash: 200 nested multiparts, garbage, empty', () => {
  let s = 'Content-Type: multipart/mixed; boundary=b0\n\n';
  for (let i = 1; i < 200; i++) s += `--b${i - 1}\nContent-Type: multipart/mixed; boundary=b${i}\n\n`;
  s += 'deep\n';
  const a = analyzeMessage(crlf(s));
  assert.ok(a.parts.length > 50);
  assert.ok(a.bodyStructure.startsWith('('));
  const empty = analyzeMessage(Buffer.alloc(0));
  assert.equal(empty.size, 0);
  assert.equal(empty.envelope, '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  const junk = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));
  assert.equal(analyzeMessage(junk).size, 5000);
});
