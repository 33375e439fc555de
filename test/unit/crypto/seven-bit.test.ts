import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSevenBitSafe } from '../../../app/crypto/seven-bit.ts';

const B = (s: string) => Buffer.from(s, 'utf8');

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
