// RFC 2047 encoded words, charsets, dates, RFC 5256 base subjects, IMAP string quoting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEncodedWords } from '../../../app/mime/encoded-words.ts';
import { decodeCharset, normalizeCharset } from '../../../app/mime/charset.ts';
import { formatRfc5322Date, parseRfc5322Date } from '../../../app/mime/date.ts';
import { baseSubject, isReplyOrForward } from '../../../app/mime/base-subject.ts';
import { imapString, imapNString, imapNStringNoLf } from '../../../app/mime/imap-string.ts';
import { imapStringForHumans } from '../../../app/mime/envelope.ts';

test('encoded words: B and Q, adjacent words joined, split multi-byte characters survive', () => {
  assert.equal(decodeEncodedWords('=?iso-8859-1?Q?Andr=E9_Pirard?='), 'André Pirard');
  assert.equal(decodeEncodedWords('=?UTF-8?B?0JrQvtC90YHRgtCw0L3RgtC40L0=?='), 'Константин');
  assert.equal(decodeEncodedWords('=?utf-8?q?J=C3=B6rg?= =?utf-8?q?_M=C3=BCller?='), 'Jörg Müller');
  // "é" (C3 A9) split across two words
  assert.equal(decodeEncodedWords('=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?='), 'café');
  assert.equal(decodeEncodedWords('plain =?utf-8?q?x?= text'), 'plain x text');
  assert.equal(decodeEncodedWords('=?bogus'), '=?bogus');
  assert.equal(decodeEncodedWords('=?windows-1252?q?=80?='), '€');
  assert.equal(decodeEncodedWords('=?utf-8*en?q?lang?='), 'lang');
});

test('charsets: aliases, iso-8859-*, windows-125x, unknown falls back', () => {
  assert.equal(normalizeCharset('UTF8'), 'utf-8');
  assert.equal(normalizeCharset('ISO8859-15'), 'iso-8859-15');
  assert.equal(normalizeCharset('cp1251'), 'windows-1251');
  assert.equal(decodeCharset(Buffer.from([0xa4]), 'iso-8859-15'), '€');
  assert.equal(decodeCharset(Buffer.from([0xe9]), 'latin1'), 'é');
  assert.equal(decodeCharset(Buffer.from([0xc0, 0xc1]), 'windows-1251'), 'АБ');
  assert.equal(decodeCharset(Buffer.from('ü', 'utf8'), 'x-made-up'), 'ü');
  assert.equal(decodeCharset(Buffer.from([0xfc]), 'x-made-up'), 'ü');
  assert.equal(decodeCharset(Buffer.from([0xfc]), 'us-ascii'), 'ü');
});

test('dates: RFC 5322 and obsolete forms', () => {
  assert.equal(parseRfc5322Date('Mon, 23 Nov 2026 10:00:00 +0100'), Date.UTC(2026, 10, 23, 9, 0, 0));
  assert.equal(parseRfc5322Date('23 Nov 2026 10:00 GMT'), Date.UTC(2026, 10, 23, 10, 0, 0));
  assert.equal(parseRfc5322Date('26 Aug 76 14:30 EDT'), Date.UTC(1976, 7, 26, 18, 30, 0));
  assert.equal(parseRfc5322Date('6 Sep 26 10:00 EST'), Date.UTC(2026, 8, 6, 15, 0, 0));
  assert.equal(
    parseRfc5322Date(
      'Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)'.replace(
        /\r\n/g,
        '',
      ),
    ),
    Date.UTC(1969, 1, 14, 3, 2, 0),
  );
  assert.equal(parseRfc5322Date('Fri, 4 Sep 2026 18:45:10 Z'), Date.UTC(2026, 8, 4, 18, 45, 10));
  assert.equal(parseRfc5322Date('Tue Nov 23 10:00:00 2026'), Date.UTC(2026, 10, 23, 10, 0, 0));
  assert.equal(parseRfc5322Date('2026-11-23T10:00:00+01:00'), Date.UTC(2026, 10, 23, 9, 0, 0));
  assert.equal(parseRfc5322Date('not a date'), null);
  // what the bridge writes reads back as the same instant
  const written = new Date(Date.UTC(2026, 11, 6, 1, 20, 34));
  assert.equal(formatRfc5322Date(written), 'Sun, 06 Dec 2026 01:20:34 +0000');
  assert.equal(parseRfc5322Date(formatRfc5322Date(written)), written.getTime());
  assert.equal(parseRfc5322Date(null), null);
  assert.equal(parseRfc5322Date('32 Jan 2026 10:00 +0000'), null);
});

test('RFC 5256 base subject', () => {
  assert.equal(baseSubject('Re: hello'), 'hello');
  assert.equal(baseSubject('RE: Re: re: hello'), 'hello');
  assert.equal(baseSubject('Fwd: [list] Re: hello (fwd)'), 'hello');
  assert.equal(baseSubject('[list] hello'), 'hello');
  assert.equal(baseSubject('[list]'), '[list]');
  assert.equal(baseSubject('[fwd: Re: hello]'), 'hello');
  assert.equal(baseSubject('Re[2]: hello   world  '), 'hello world');
  assert.equal(baseSubject('Fw: x'), 'x');
  assert.equal(baseSubject('Reply: x'), 'Reply: x');
  assert.equal(isReplyOrForward('Re: x'), true);
  assert.equal(isReplyOrForward('x'), false);
});

test('IMAP strings: quoted, escaped, literal like Dovecot', () => {
  assert.equal(imapString('abc'), '"abc"');
  assert.equal(imapString('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(imapString('"""""'), '{5}\r\n"""""'); // more than 4 escapes
  assert.equal(imapString('é'), '{2}\r\né');
  assert.equal(imapString('a\r\nb'), '{4}\r\na\r\nb');
  assert.equal(imapNString(null), 'NIL');
  assert.equal(imapNString(''), '""');
  assert.equal(imapNStringNoLf('a\r\n b'), '" a b"'.replace('" a', '"a'));
  assert.equal(imapStringForHumans('a  b'), '{3}\r\na b');
  assert.equal(imapStringForHumans('   '), '""');
  assert.equal(imapStringForHumans('plain'), '"plain"');
});
