// Quoted-printable and base64 decoding (RFC 2045 §6.7, §6.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeQuotedPrintable,
  decodeBase64,
  decodeBase64Sliced,
  decodeQuotedPrintableSliced,
  decodeTransfer,
} from '../../../app/mime/transfer-encoding.ts';
import { seeded } from '../../helpers/seeded.ts';

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

test('decodeBase64Sliced gives the bytes decodeBase64 gives, in pieces (BINARY of a 20 MB message)', async () => {
  const random = seeded();
  await random.report(async () => {
    const yields = { n: 0 };
    const tick = async () => void yields.n++;
    for (const lineLength of [76, 64, 60, 1000, 13]) {
      const bin = Buffer.alloc(200_000 + random.int(5000));
      for (let i = 0; i < bin.length; i++) bin[i] = random.int(256);
      const b64 = bin.toString('base64');
      const lines: string[] = [];
      for (let i = 0; i < b64.length; i += lineLength) lines.push(b64.slice(i, i + lineLength));
      for (const eol of ['\r\n', '\n']) {
        const enc = Buffer.from(lines.join(eol) + eol);
        const before = yields.n;
        const out = Buffer.concat(await decodeBase64Sliced(enc, tick, 4096));
        assert.ok(out.equals(bin), `lines of ${lineLength}`);
        assert.ok(yields.n > before, 'it yields between pieces');
      }
    }
    // anything but the alphabet and line ends: decoded whole, as decodeBase64 does
    const odd = Buffer.from('SGVs bG8-_\r\nV29y\tbGQ=\r\n'.repeat(2000));
    assert.ok(Buffer.concat(await decodeBase64Sliced(odd, tick, 100)).equals(decodeBase64(odd)));
  });
});

test('decodeQuotedPrintableSliced gives the bytes decodeQuotedPrintable gives, in pieces', async () => {
  const random = seeded();
  await random.report(async () => {
    const yields = { n: 0 };
    const tick = async () => void yields.n++;
    // escapes, bad escapes, soft breaks (with padding), transport padding, CRLF / LF / bare CR
    const atoms = [
      'a',
      'b',
      ' ',
      '\t',
      '=3D',
      '=E2=80=93',
      '=',
      '=4',
      '=ZZ',
      '=\r\n',
      '= \r\n',
      '=\n',
      '\r\n',
      '\n',
      '\r',
      '  \r\n',
      '\t\n',
    ];
    for (let round = 0; round < 40; round++) {
      let text = '';
      while (text.length < 20_000) text += atoms[random.int(atoms.length)];
      if (random.int(2)) text += ['=', ' ', '=4', '  ', '\r'][random.int(5)];
      const enc = Buffer.from(text, 'latin1');
      const before = yields.n;
      const pieces = await decodeQuotedPrintableSliced(enc, tick, 1 + random.int(2000));
      assert.ok(Buffer.concat(pieces).equals(decodeQuotedPrintable(enc)), `round ${round}`);
      assert.ok(yields.n > before, 'it yields between pieces');
    }
  });
});
