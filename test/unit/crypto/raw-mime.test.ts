import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMultipart } from '../../../app/crypto/raw/multipart.ts';
import { parseContentType } from '../../../app/crypto/raw/content-type.ts';
import { parseEntity } from '../../../app/crypto/raw/headers.ts';
import { toCRLF } from '../../../app/crypto/raw/line-endings.ts';
import { decodeQuotedPrintable, encodeQuotedPrintable } from '../../../app/crypto/raw/transfer-encoding.ts';
import { makeSevenBitSafe } from '../../../app/crypto/seven-bit.ts';

const B = (s: string) => Buffer.from(s, 'utf8');

test('multipart split: the CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1)', () => {
  const body = B('preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue');
  const { parts, closed } = splitMultipart(body, 'b');
  assert.equal(closed, true);
  assert.deepEqual(
    parts.map((p) => body.subarray(p.start, p.end).toString()),
    ['A: 1\r\n\r\none', '\r\ntwo\r\n'], // the extra CRLF before the close delimiter is content
  );
});

test('multipart split: LF-only bodies, transport padding, and a longer boundary that shares the prefix', () => {
  const body = B('--b  \n--bx is not a delimiter\n--b\t\nx\n--b--\n');
  const { parts } = splitMultipart(body, 'b');
  assert.deepEqual(
    parts.map((p) => body.subarray(p.start, p.end).toString()),
    ['--bx is not a delimiter', 'x'],
  );
});

test('multipart split: a delimiter must start a line', () => {
  const body = B('--b\r\ntext mentions --b inline\r\n--b--\r\n');
  const { parts } = splitMultipart(body, 'b');
  assert.equal(parts.length, 1);
  assert.equal(body.subarray(parts[0]!.start, parts[0]!.end).toString(), 'text mentions --b inline');
});

test('content-type parameters: quoting, case, RFC 2231 continuations', () => {
  const ct = parseContentType(
    'Multipart/Encrypted; PROTOCOL="application/pgp-encrypted"; boundary="a b;c"; name*0*=utf-8\'\'%C3%A4; name*1=x',
  );
  assert.equal(ct.mime, 'multipart/encrypted');
  assert.equal(ct.params['protocol'], 'application/pgp-encrypted');
  assert.equal(ct.params['boundary'], 'a b;c');
  assert.equal(ct.params['name'], 'äx');
  assert.equal(parseContentType(undefined).mime, 'text/plain');
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

test('toCRLF converts bare LF only', () => {
  assert.equal(toCRLF(B('a\nb\r\nc\n')).toString(), 'a\r\nb\r\nc\r\n');
  const same = B('a\r\nb');
  assert.equal(toCRLF(same), same);
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

test('makeSevenBitSafe re-encodes only unsafe leaves and leaves safe ones byte-identical', () => {
  const safePart = 'Content-Type: text/plain\r\n\r\nplain ascii\r\n';
  const b64Part =
    'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n';
  const unsafePart =
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße \r\nFrom x\r\n';
  const ent = B(
    `Content-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\n${safePart}\r\n--q\r\n${b64Part}\r\n--q\r\n${unsafePart}\r\n--q--\r\n`,
  );
  const out = makeSevenBitSafe(ent).toString('latin1');
  assert.ok(/^[\x00-\x7f]*$/.test(out), 'output must be 7-bit');
  assert.ok(out.includes(safePart) && out.includes(b64Part), 'safe parts unchanged');
  assert.ok(
    out.includes('Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe=20\r\n=46rom x'),
  );
  assert.ok(!out.includes('8bit'));
  const already = B('Content-Type: text/plain\r\n\r\nhello\r\n');
  assert.equal(makeSevenBitSafe(already), already);
});
