// analyzeMessage: header index (decoded values for SEARCH/SORT/THREAD) and full-text-search text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { TEXT_CAP, bodyText } from '../../../app/mime/text-extract.ts';
import { htmlToText } from '../../../app/mime/html-text.ts';
import { crlf, fixture } from './helpers.ts';

test('header index: decoded subject and addresses, sort keys, ids, date', () => {
  const a = analyzeMessage(fixture('encoded-words.eml'));
  assert.equal(a.headers.subject, 'Re: [list] 😀 unicode and more');
  assert.equal(a.headers.baseSubject, 'unicode and more'.replace(/^/, '😀 '));
  assert.equal(a.headers.from, 'André Pirard <PIRARD@vm1.ulg.ac.be>');
  assert.equal(a.headers.fromAddr, 'pirard@vm1.ulg.ac.be');
  assert.equal(a.headers.to, 'Константин <k@example.ru>, Jörg Müller <jm@example.de>');
  assert.equal(a.headers.toAddr, 'k@example.ru');
  assert.equal(a.headers.ccAddr, '');
  assert.equal(a.headers.messageId, '<ew@example.com>');
  assert.equal(a.headers.date, Date.UTC(2026, 8, 4, 18, 45, 10));
});

test('header index: references, in-reply-to, groups, missing headers', () => {
  const a = analyzeMessage(fixture('alternative-attachments.eml'));
  assert.deepEqual(a.headers.references, ['<root@example.org>', '<prev@example.org>']);
  assert.equal(a.headers.inReplyTo, '<prev@example.org>');
  assert.equal(a.headers.cc, 'carol@example.org');
  const g = analyzeMessage(fixture('groups.eml'));
  assert.equal(g.headers.to, 'undisclosed-recipients: ;');
  assert.equal(g.headers.ccAddr, 'alice@example.com');
  const m = analyzeMessage(fixture('missing-headers.eml'));
  assert.equal(m.headers.subject, '');
  assert.equal(m.headers.from, '');
  assert.equal(m.headers.date, null);
  assert.equal(m.headers.messageId, null);
  assert.deepEqual(m.headers.references, []);
  assert.equal(m.envelope, '(NIL NIL NIL NIL NIL ((NIL NIL "someone" "MISSING_DOMAIN")) NIL NIL NIL NIL)');
});

test('8-bit headers are read as UTF-8', () => {
  const a = analyzeMessage(fixture('8bit-headers.eml'));
  assert.equal(a.headers.subject, 'Grüße — ünïcödé ✓');
  assert.equal(a.headers.from, 'Jürgen Weiß <juergen@example.de>');
  const l = analyzeMessage(fixture('latin1-headers.eml'));
  assert.equal(l.headers.subject, 'café crème');
});

test('text: QP and base64 decoded, charsets converted, HTML stripped, attachments skipped', () => {
  const a = analyzeMessage(fixture('alternative-attachments.eml'));
  assert.match(a.text, /Café crème report\. \r?\nSecond line with a soft break\./);
  assert.match(a.text, /Café crème & report €/);
  assert.doesNotMatch(a.text, /color:red|<p>|JVBER/);
  const b = analyzeMessage(fixture('encoded-words.eml'));
  assert.match(b.text, /Grüße aus Köln — ünïcödé body/);
  const n = analyzeMessage(fixture('rfc822-nested.eml'));
  assert.match(n.text, /See the attached message/);
  assert.match(n.text, /Subject: Inner subject/);
  assert.match(n.text, /inner plain/);
  assert.match(n.text, /inner html/);
  assert.doesNotMatch(n.text, /<p>/);
});

test('text is capped at TEXT_CAP characters', () => {
  const big = 'word '.repeat(Math.ceil((2 * TEXT_CAP) / 5));
  const a = analyzeMessage(crlf('Subject: big\n\n' + big));
  assert.equal(a.text.length, TEXT_CAP);
});

test('the text of a big part is the start of its whole text, in every transfer encoding (only a prefix is decoded)', () => {
  const line = 'Ärger über <b>Zahlen</b> &amp; Wörter, Zeile für Zeile.\n';
  const body = line.repeat(Math.ceil((6 * TEXT_CAP) / line.length));
  const encoded: Record<string, string> = {
    '8bit': body,
    base64: Buffer.from(body)
      .toString('base64')
      .replace(/(.{76})/g, '$1\n'),
    'quoted-printable': body.replace(/[^\n -<>-~]/gu, (c) =>
      [...Buffer.from(c)].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
    ),
  };
  for (const type of ['text/plain', 'text/html']) {
    for (const [cte, text] of Object.entries(encoded)) {
      const raw = crlf(
        `Subject: big\nContent-Type: ${type}; charset=utf-8\nContent-Transfer-Encoding: ${cte}\n\n${text}`,
      );
      const part = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
      const whole = bodyText(part, cte, 'utf-8', type).slice(0, TEXT_CAP).replace(/\n+$/, '');
      assert.ok(analyzeMessage(raw).text === whole, `${type} ${cte}`);
    }
  }
});

test('htmlToText: scripts, comments, entities', () => {
  assert.equal(htmlToText('<script>x()</script><!-- c --><p>a&nbsp;&lt;b&gt; &#x41;&#66;</p>'), 'a <b> AB');
  assert.equal(htmlToText('x<br>y'), 'x\ny');
});
