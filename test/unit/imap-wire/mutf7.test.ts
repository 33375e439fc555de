import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMUtf7, encodeMUtf7, isValidMUtf7, MUtf7Error } from '../../../app/imap/wire/mutf7.ts';

describe('modified UTF-7', () => {
  const pairs: Array<[string, string]> = [
    ['INBOX', 'INBOX'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['&', '&-'],
    ['Gelöschte Elemente', 'Gel&APY-schte Elemente'],
    ['Отправленные', '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-'],
    ['😀', '&2D3eAA-'],
    ['a😀b😎c', 'a&2D3eAA-b&2D3eDg-c'],
    ['tab\there', 'tab&AAk-here'],
    ['', ''],
  ];
  for (const [utf16, mutf7] of pairs) {
    it(`${JSON.stringify(utf16)} <-> ${mutf7}`, () => {
      assert.equal(encodeMUtf7(utf16), mutf7);
      assert.equal(decodeMUtf7(mutf7), utf16);
      assert.ok(isValidMUtf7(mutf7));
    });
  }

  const invalid: Array<[string, string]> = [
    ['Entw&APw', "unterminated '&'"],
    ['a&', "unterminated '&'"],
    ['&AGE-', 'printable ASCII "a" encoded'],
    ['&APw-&APw-', 'two adjacent runs (must be one)'],
    ['&APx-', 'non-zero padding bits'],
    ['&APwA-', 'extra base64 character (non-shortest)'],
    ['&AP-', 'too short for one UTF-16 unit'],
    ['&A/w-', "standard base64 '/' instead of ','"],
    ['&APw=-', 'padding'],
    ['&2D0-', 'lone high surrogate'],
    ['&3gA-', 'lone low surrogate'],
    ['Entwürfe', 'raw 8-bit character'],
    ['a\tb', 'raw control character'],
  ];
  for (const [text, why] of invalid) {
    it(`rejects ${JSON.stringify(text)} (${why})`, () => {
      assert.throws(() => decodeMUtf7(text), MUtf7Error);
      assert.equal(isValidMUtf7(text), false);
    });
  }

  it('encoding a lone surrogate is an error', () => {
    assert.throws(() => encodeMUtf7('a\ud800b'), MUtf7Error);
    assert.throws(() => encodeMUtf7('\udc00'), MUtf7Error);
  });

  it('round-trips many random strings', () => {
    let seed = 12345;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const len = rnd(12);
      for (let k = 0; k < len; k++) {
        const kind = rnd(4);
        if (kind === 0) s += String.fromCharCode(0x20 + rnd(0x5f));
        else if (kind === 1) s += String.fromCharCode(0x80 + rnd(0xd700));
        else if (kind === 2) s += String.fromCodePoint(0x10000 + rnd(0xfffff));
        else s += '&';
      }
      const enc = encodeMUtf7(s);
      assert.match(enc, /^[\x20-\x7e]*$/);
      assert.equal(decodeMUtf7(enc), s);
    }
  });
});
