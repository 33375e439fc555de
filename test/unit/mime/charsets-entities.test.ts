/**
 * Charsets TextDecoder lacks (UTF-7, DOS code pages 437 and 850) and the full set of HTML named
 * character references decode, so their words are found by SEARCH TEXT.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCharset } from '../../../app/mime/charset.ts';
import { decodeEntities, htmlToText } from '../../../app/mime/html-text.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { newStore, tempDir, testAccount } from '../store/helpers.ts';

test('UTF-7 (RFC 2152) decodes', () => {
  assert.equal(decodeCharset(Buffer.from('Hi Mom -+Jjo--!'), 'utf-7'), 'Hi Mom -\u263a-!');
  assert.equal(decodeCharset(Buffer.from('+AOk-t+AOk-'), 'UTF-7'), 'été');
  assert.equal(decodeCharset(Buffer.from('A+ImIDkQ.'), 'unicode-1-1-utf-7'), 'A\u2262\u0391.');
});

test('IBM code pages 437 and 850 decode', () => {
  const bytes = Buffer.from([0x82, 0x9b, 0xb0, 0xe1]);
  assert.equal(decodeCharset(bytes, 'cp437'), 'é¢░ß');
  assert.equal(decodeCharset(bytes, 'IBM437'), 'é¢░ß');
  assert.equal(decodeCharset(Buffer.from([0x82, 0x9b, 0xd5, 0xe1]), 'cp850'), 'éøıß');
  assert.equal(decodeCharset(Buffer.from([0x82, 0x9b, 0xd5, 0xe1]), 'ibm850'), 'éøıß');
});

test("charsets nobody knows (and iconv-lite's pseudo-charsets) fall back to UTF-8, then windows-1252", () => {
  for (const cs of ['x-made-up', 'base64', 'hex', 'binary', '_internal']) {
    assert.equal(decodeCharset(Buffer.from('ü', 'utf8'), cs), 'ü', cs);
    assert.equal(decodeCharset(Buffer.from([0xfc]), cs), 'ü', cs);
  }
});

test('malformed UTF-7 decodes to something and never throws', () => {
  for (const s of ['+', '+-', '+AAA', '+ZZZZZZZZ', '+\u00ff\u0080-', '+AGEAYgBj+']) {
    assert.equal(typeof decodeCharset(Buffer.from(s, 'latin1'), 'utf-7'), 'string');
  }
});

test('every HTML named character reference decodes', () => {
  assert.equal(decodeEntities('&scaron; &oelig; &thorn; &alpha; &rarr;'), 'š œ þ α →');
  assert.equal(decodeEntities('&Scaron;koda &OElig;uvre &hearts; &le; &#x41;&#66;'), 'Škoda Œuvre ♥ ≤ AB');
  assert.equal(decodeEntities('a&nbsp;b &amp;&lt;&gt; &unknownentity; & x'), 'a b &<> &unknownentity; & x');
  assert.equal(decodeEntities('&#0; &#xD800; &#x110000;'), '\ufffd \ufffd \ufffd');
  assert.equal(htmlToText('<p>&scaron;&oelig;&thorn;</p>'), 'šœþ');
});

const t = tempDir();
after(t.cleanup);

test('words written with those charsets and references are found by SEARCH TEXT', async () => {
  const s = await newStore(t.dir);
  try {
    const box = s.mailboxes.create(testAccount(s, 'fts@example.org').id, 'INBOX');
    const part = (type: string, charset: string, body: Buffer | string): Buffer =>
      Buffer.concat([
        Buffer.from(`Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: ${type}; charset=${charset}\r\n\r\n`),
        Buffer.isBuffer(body) ? body : Buffer.from(body),
        Buffer.from('\r\n'),
      ]);
    const raws = [
      part('text/html', 'utf-8', '<p>&Scaron;koda &oelig;uvre &thorn;orn &alpha;lpha a&rarr;b</p>'),
      part('text/plain', 'utf-7', 'caf+AOk- cr+AOg-me'),
      part('text/plain', 'cp437', Buffer.from([0x63, 0x61, 0x66, 0x82, 0x20, 0x9b])), // "café ¢"
      part('text/plain', 'cp850', Buffer.from([0x73, 0x9b, 0x72])), // "sør"
    ];
    s.messages.insertBatch(
      box.id,
      raws.map((raw) => ({ raw, analysis: analyzeMessage(raw), flags: [] })),
      'sync',
    );
    for (const [needle, uid] of [
      ['škoda', 1],
      ['œuvre', 1],
      ['þorn', 1],
      ['αlpha', 1],
      ['a→b', 1],
      ['café crème', 2],
      ['café ¢', 3],
      ['sør', 4],
    ] as const)
      assert.deepEqual(s.messages.searchText(box.id, needle), [uid], needle);
  } finally {
    s.close();
  }
});
