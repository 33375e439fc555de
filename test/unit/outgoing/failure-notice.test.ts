import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFailureNotice } from '../../../app/outgoing/failure-notice.ts';
import { parseEntity, headerValue } from '../../../app/mime/entity.ts';
import { decodeEncodedWords } from '../../../app/mime/encoded-words.ts';

test('failure notice: a long non-ASCII Subject becomes RFC 2047 words, folded in lines of at most 76 characters (RFC 2047 §2)', () => {
  const subject = 'Grüße aus Köln – ' + 'Überweisung '.repeat(12);
  const raw = buildFailureNotice({
    accountEmail: 'me@x.org',
    recipients: ['a@y.org'],
    reason: '550 no such user',
    originalSubject: subject,
    originalMessageId: '<m@x.org>',
    now: new Date(0),
  });
  const head = raw.toString('latin1', 0, raw.indexOf('\r\n\r\n'));
  for (const line of head.split('\r\n')) assert.ok(line.length <= 76, `line of ${line.length}: ${line}`);
  for (const w of head.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/gi) ?? []) assert.ok(w.length <= 75, w);
  assert.equal(decodeEncodedWords(headerValue(parseEntity(raw), 'subject')!), `Undelivered: ${subject}`);
});
