// Quoted-printable and base64 decoding (RFC 2045 §6.7, §6.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQuotedPrintable, decodeBase64, decodeTransfer } from '../../../app/mime/transfer-encoding.ts';

test('quoted-printable: escapes, soft breaks, transport padding, bad escapes', () => {
  const cases: [string, string][] = [
    ['a=3Db', 'a=b'],
    ['soft=\r\nbreak', 'softbreak'],
    ['soft=  \r\nx', 'softx'],
    ['lf=\nx', 'lfx'],
    ['trail   \r\nx', 'trail\r\nx'],
    ['trail\t\nx', 'trail\nx'],
    ['end  ', 'end'],
    ['bad=ZZ', 'bad=ZZ'],
    ['x=', 'x'],
    ['=4', '=4'],
    ['=20\r\n', ' \r\n'],
    ['a =\r\nb', 'a b'],
    ['Caf=E9 cr=e8me', 'Caf\xe9 cr\xe8me'],
  ];
  for (const [input, want] of cases) {
    assert.equal(
      decodeQuotedPrintable(Buffer.from(input, 'latin1')).toString('latin1'),
      want,
      JSON.stringify(input),
    );
  }
});

test('base64: line breaks and garbage ignored, missing padding tolerated', () => {
  assert.equal(decodeBase64(Buffer.from('SGVs\r\nbG8=\r\n')).toString(), 'Hello');
  assert.equal(decodeBase64(Buffer.from('SGVsbG8')).toString(), 'Hello');
  assert.equal(decodeBase64(Buffer.from('SG Vs*bG8=')).toString(), 'Hello');
  assert.equal(decodeTransfer(Buffer.from('as is'), '8bit').toString(), 'as is');
});
