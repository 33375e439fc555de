// Section specifiers and the bytes they resolve to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseSection,
  resolveSection,
  resolveBinary,
  filterHeaderFields,
} from '../../../app/mime/sections.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { crlf, fixture } from './helpers.ts';

test('parseSection accepts every RFC 3501 form', () => {
  assert.deepEqual(parseSection(''), { part: '', text: '', fields: [] });
  assert.deepEqual(parseSection('1.2'), { part: '1.2', text: '', fields: [] });
  assert.deepEqual(parseSection('header'), { part: '', text: 'HEADER', fields: [] });
  assert.deepEqual(parseSection('TEXT'), { part: '', text: 'TEXT', fields: [] });
  assert.deepEqual(parseSection('1.MIME'), { part: '1', text: 'MIME', fields: [] });
  assert.deepEqual(parseSection('2.HEADER'), { part: '2', text: 'HEADER', fields: [] });
  assert.deepEqual(parseSection('HEADER.FIELDS (From "To" x-a)'), {
    part: '',
    text: 'HEADER.FIELDS',
    fields: ['From', 'To', 'x-a'],
  });
  assert.deepEqual(parseSection('3.1.HEADER.FIELDS.NOT (Subject)'), {
    part: '3.1',
    text: 'HEADER.FIELDS.NOT',
    fields: ['Subject'],
  });
});

test('parseSection rejects bad syntax', () => {
  for (const s of [
    'MIME',
    '0',
    '1.0',
    '1.',
    'HEADER.FIELDS',
    'HEADER.FIELDS ()',
    'BOGUS',
    '1.2.TEXTX',
    'HEADER.FIELDS (a',
  ]) {
    assert.equal(parseSection(s), null, s);
  }
});

test('HEADER.FIELDS keeps order and folding and ends with the blank line', () => {
  const raw = crlf('To: a@x,\n b@y\nSubject: s\nX-A: 1\nto: c@z\n\nbody\n');
  const a = analyzeMessage(raw);
  const got = resolveSection(raw, a.parts, parseSection('HEADER.FIELDS (TO)')!);
  assert.equal(got?.toString(), 'To: a@x,\r\n b@y\r\nto: c@z\r\n\r\n');
  const not = resolveSection(raw, a.parts, parseSection('HEADER.FIELDS.NOT (to x-a)')!);
  assert.equal(not?.toString(), 'Subject: s\r\n\r\n');
  assert.equal(filterHeaderFields(raw, 0, a.parts[0]!.bodyStart, ['nothing'], false).toString(), '\r\n');
});

test('HEADER / TEXT / MIME / n.HEADER are subarrays of the raw bytes', () => {
  const raw = fixture('rfc822-nested.eml');
  const a = analyzeMessage(raw);
  const h = resolveSection(raw, a.parts, parseSection('HEADER')!)!;
  const t = resolveSection(raw, a.parts, parseSection('TEXT')!)!;
  assert.equal(h.length + t.length, raw.length);
  assert.equal(h.buffer, raw.buffer); // no copy
  assert.match(resolveSection(raw, a.parts, parseSection('2.HEADER')!)!.toString(), /^Date: Tue.*\r\n\r\n$/s);
  assert.match(resolveSection(raw, a.parts, parseSection('2.TEXT')!)!.toString(), /^--b2\r\n/);
  assert.equal(
    resolveSection(raw, a.parts, parseSection('2.MIME')!)!.toString(),
    'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="inner.eml"\r\n\r\n',
  );
  assert.equal(resolveSection(raw, a.parts, parseSection('2.2')!)!.toString(), '<p>inner html</p>');
  assert.equal(resolveSection(raw, a.parts, parseSection('7')!), null);
  assert.equal(resolveSection(raw, a.parts, parseSection('1.HEADER')!), null); // not a message/rfc822
});

test('BINARY decodes base64 and quoted-printable; unknown encodings are reported', () => {
  const raw = fixture('alternative-attachments.eml');
  const a = analyzeMessage(raw);
  const png = resolveBinary(raw, a.parts, '2');
  assert.ok(png.ok);
  if (png.ok)
    assert.deepEqual(
      png.data,
      Buffer.concat([0, 1, 2].map(() => Buffer.from(Array.from({ length: 256 }, (_, i) => i)))),
    );
  const qp = resolveBinary(raw, a.parts, '1.1');
  assert.ok(qp.ok);
  if (qp.ok)
    assert.equal(qp.data.toString('latin1'), 'Café crème report. \r\nSecond line with a soft break.');
  const bad = crlf('Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n');
  assert.deepEqual(resolveBinary(bad, analyzeMessage(bad).parts, '1'), { ok: false, reason: 'unknown-cte' });
  assert.deepEqual(resolveBinary(raw, a.parts, '9'), { ok: false, reason: 'no-part' });
});
