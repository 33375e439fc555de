import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEntity, splitParts, walkEntity } from '../../../app/mime/entity.ts';
import { mediaType } from '../../../app/mime/params.ts';
import { normalizeCrlf } from '../../../app/mime/crlf.ts';
import { buildMultipartBody, multipartChunks } from '../../../app/mime/build.ts';
import {
  decodeBase64,
  decodeQuotedPrintable,
  decodeTransfer,
  encodeQuotedPrintable,
} from '../../../app/mime/transfer-encoding.ts';

const B = (s: string) => Buffer.from(s, 'utf8');

test('multipart split: the CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1)', () => {
  const body = B('preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue');
  const { parts, closed } = splitParts(body, 'b');
  assert.equal(closed, true);
  assert.deepEqual(
    parts.map((p) => body.subarray(p.start, p.end).toString()),
    ['A: 1\r\n\r\none', '\r\ntwo\r\n'], // the extra CRLF before the close delimiter is content
  );
});

test('multipart split: LF-only bodies, transport padding, and a longer boundary that shares the prefix', () => {
  const body = B('--b  \n--bx is not a delimiter\n--b\t\nx\n--b--\n');
  const { parts } = splitParts(body, 'b');
  assert.deepEqual(
    parts.map((p) => body.subarray(p.start, p.end).toString()),
    ['--bx is not a delimiter', 'x'],
  );
});

test('multipart split: a delimiter must start a line', () => {
  const body = B('--b\r\ntext mentions --b inline\r\n--b--\r\n');
  const { parts } = splitParts(body, 'b');
  assert.equal(parts.length, 1);
  assert.equal(body.subarray(parts[0]!.start, parts[0]!.end).toString(), 'text mentions --b inline');
});

test('content-type parameters: quoting, case, RFC 2231 continuations', () => {
  const ct = mediaType(
    'Multipart/Encrypted; PROTOCOL="application/pgp-encrypted"; boundary="a b;c"; name*0*=utf-8\'\'%C3%A4; name*1=x',
  );
  assert.equal(ct.mime, 'multipart/encrypted');
  assert.equal(ct.params['protocol'], 'application/pgp-encrypted');
  assert.equal(ct.params['boundary'], 'a b;c');
  assert.equal(ct.params['name'], 'äx');
  assert.equal(mediaType(undefined).mime, 'text/plain');
});

test('headers: folded values unfold; raw bytes kept; LF-only input', () => {
  const e = parseEntity(B('Subject: a\n  b\nX-Y: z\n\nbody\n'));
  assert.deepEqual(
    e.headers.map((h) => [h.name, h.value]),
    [
      ['Subject', 'a  b'],
      ['X-Y', 'z'],
    ],
  );
  assert.equal(e.headers[0]!.raw.toString(), 'Subject: a\n  b\n');
  assert.equal(e.body.toString(), 'body\n');
});

test('normalizeCrlf converts bare LF only', () => {
  assert.equal(normalizeCrlf(B('a\nb\r\nc\n')).toString(), 'a\r\nb\r\nc\r\n');
  const same = B('a\r\nb');
  assert.equal(normalizeCrlf(same), same);
});

test('quoted-printable: From-munging, trailing whitespace, 8-bit, long lines; round trip', () => {
  const input = B('From me\r\nend with space \r\ntab\t\r\n.\r\nünïcode\r\n' + 'x'.repeat(200));
  const enc = encodeQuotedPrintable(input).toString('latin1');
  for (const line of enc.split('\r\n')) {
    assert.ok(line.length <= 76, 'line too long: ' + line.length);
    assert.ok(!/[ \t]$/.test(line), 'trailing whitespace survived');
    assert.ok(!line.startsWith('From '), 'leading From survived');
    assert.ok(/^[\x20-\x7e]*$/.test(line), 'non-ASCII survived');
  }
  assert.ok(enc.startsWith('=46rom me'));
  assert.deepEqual(decodeQuotedPrintable(Buffer.from(enc, 'latin1')), input);
});

test('content type: a comment is no part of the type (RFC 2045 §5.1), nor is a missing subtype', () => {
  assert.equal(mediaType('text/plain (a comment)').mime, 'text/plain');
  assert.equal(mediaType('text/plain(c)b; boundary=x').mime, 'text/plain');
  assert.equal(mediaType('(c) multipart/mixed (d); (e) boundary="q"').params['boundary'], 'q');
  assert.equal(mediaType('text').mime, 'text/plain');
  assert.equal(mediaType(undefined).params['charset'], 'us-ascii');
  // a quoted string runs to its closing quote, ';' included
  assert.equal(mediaType('x/y; a="; boundary=b').params['boundary'], undefined);
});

test('headers: a line that is no field is skipped; the value is never cut', () => {
  const big = 'x'.repeat(100_000);
  const e = parseEntity(B(`no colon here\r\nSubject: ${big}\r\nBad Name: v\r\n\r\n`));
  assert.deepEqual(
    e.headers.map((h) => h.name),
    ['Subject'],
  );
  assert.equal(e.headers[0]!.value, big);
});

test('quoted-printable decode drops transport padding before a line break (RFC 2045 §6.7 rule 3)', () => {
  assert.equal(decodeQuotedPrintable(B('a  \r\nb=20 \r\nc\t')).toString(), 'a\r\nb \r\nc');
});

test('base64 decode ignores characters outside the alphabet, the URL-safe ones too (RFC 2045 §6.8)', () => {
  assert.deepEqual(decodeBase64(B('QU-JD_\r\nRE!U=')), Buffer.from('ABCDE'));
  assert.deepEqual(decodeTransfer(B('QUJD'), ' Base64 '), Buffer.from('ABC'));
  assert.deepEqual(decodeTransfer(B('=41'), undefined), B('=41'));
});

test('walkEntity visits multipart children and identity-encoded message/rfc822, not encoded ones', () => {
  const inner = 'Content-Type: text/plain\r\n\r\ninner\r\n';
  const msg = B(
    'Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: message/rfc822\r\n\r\n' +
      inner +
      '\r\n--q\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--q--\r\n',
  );
  const seen: string[] = [];
  walkEntity(msg, (n) => void seen.push(`${n.depth}:${n.ct.mime}`));
  assert.deepEqual(seen, ['0:multipart/mixed', '1:message/rfc822', '2:text/plain', '1:message/rfc822']);
});

test('a multipart body built from parts given as pieces has the bytes of the joined parts, and splits back into them', () => {
  const head = Buffer.from('Content-Type: text/plain\r\n\r\n');
  const body = Buffer.from('line one\r\nline two');
  const other = Buffer.from('Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1');
  const joined = buildMultipartBody('b0', [other, Buffer.concat([head, body])], 'preamble');
  assert.deepEqual(buildMultipartBody('b0', [other, [head, body]], 'preamble'), joined);
  assert.deepEqual(Buffer.concat(multipartChunks('b0', [other, [head, body]], 'preamble')), joined);
  assert.equal(
    joined.toString(),
    'preamble\r\n--b0\r\n' +
      other.toString() +
      '\r\n--b0\r\n' +
      head.toString() +
      body.toString() +
      '\r\n--b0--\r\n',
  );
  const split = splitParts(joined, 'b0');
  assert.deepEqual(
    split.parts.map((r) => joined.subarray(r.start, r.end).toString()),
    [other.toString(), head.toString() + body.toString()],
  );
});
