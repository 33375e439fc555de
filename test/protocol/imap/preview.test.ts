/**
 * PREVIEW (RFC 8970), issue 15 item 16: FETCH PREVIEW and PREVIEW (LAZY) give at most 256
 * characters of the message's first displayable text part (text/plain before text/html; no
 * attachment, no forwarded message), decoded, without markup or quoted lines, whitespace collapsed;
 * "" when there is no text; \Seen is not set. Messages 1-4 get Dovecot 2.3.19's previews. Transcripts after the RFC's examples (§5), over the reference
 * backend and over the encrypted store (which keeps the decrypted message).
 */
import { describe, it } from 'node:test';
import { message } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { onReferenceServer, onNewStoreServer } from '../../helpers/imap-store-server.ts';

const mime = (contentType: string, body: string, headers: string[] = []): string =>
  message({ headers: ['MIME-Version: 1.0', `Content-Type: ${contentType}`, ...headers], body });

const LONG = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(6);

const MESSAGES = [
  // 1: plain text, lines and runs of blanks
  mime('text/plain; charset=us-ascii', 'Preview   text!\r\n\r\n\tSecond\x0bline.  '),
  // 2: nothing but an image
  mime('image/png', 'iVBORw0KGgo=', ['Content-Transfer-Encoding: base64']),
  // 3: alternative: the plain part, quoted-printable UTF-8
  mime(
    'multipart/alternative; boundary="b"',
    [
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Gr=C3=BC=C3=9Fe aus M=C3=BCnchen',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>HTML rendering</p>',
      '--b--',
    ].join('\r\n'),
  ),
  // 4: HTML only: no markup, no style sheet, entities decoded
  mime(
    'text/html; charset=utf-8',
    '<html><head><style>p { color: red }</style></head><body><p>Fish &amp; <b>chips</b></p>\r\n<div>tonight</div></body></html>',
  ),
  // 5: longer than 256 characters, an astral character across the limit
  mime('text/plain; charset=utf-8', 'x'.repeat(255) + '\u{1F600}' + LONG),
  // 6: the attached text file and the forwarded message are not the body
  mime(
    'multipart/mixed; boundary="m"',
    [
      '--m',
      'Content-Type: text/plain; name="log.txt"',
      'Content-Disposition: attachment; filename="log.txt"',
      '',
      'attached log',
      '--m',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'forwarded text',
      '--m',
      'Content-Type: text/html',
      '',
      '<p>the body</p>',
      '--m--',
    ].join('\r\n'),
  ),
  // 7: a reply: the quoted lines are the other message
  mime('text/plain', '> Will you come?\r\n>> Are you in?\r\nYes, at eight.\r\n> Bring wine\r\nSure.'),
];

async function transcript(c: ImapTestClient): Promise<void> {
  for (const m of MESSAGES) await c.cmd(`a APPEND INBOX {${m.length}+}\r\n${m}`);
  await c.cmd('s SELECT INBOX');
  await c.expect('p0 CAPABILITY', [/^\* CAPABILITY .* PREVIEW( |$)/, 'p0 OK Capability completed.']);
  await c.expect('p1 FETCH 1 (RFC822.SIZE PREVIEW)', [
    /^\* 1 FETCH \(RFC822\.SIZE \d+ PREVIEW "Preview text! Second line\."\)$/,
    'p1 OK Fetch completed.',
  ]);
  await c.expect('p2 FETCH 1:4 (PREVIEW (LAZY))', [
    '* 1 FETCH (PREVIEW "Preview text! Second line.")',
    '* 2 FETCH (PREVIEW "")',
    '* 3 FETCH (PREVIEW {20}\r\nGrüße aus München)',
    '* 4 FETCH (PREVIEW "Fish & chips tonight")',
    'p2 OK Fetch completed.',
  ]);
  await c.expect('p3 FETCH 5 PREVIEW', [
    `* 5 FETCH (PREVIEW {${255 + 4}}\r\n${'x'.repeat(255)}\u{1F600})`,
    'p3 OK Fetch completed.',
  ]);
  await c.expect('p4 UID FETCH 6:7 PREVIEW (LAZY)', [
    '* 6 FETCH (UID 6 PREVIEW "the body")',
    '* 7 FETCH (UID 7 PREVIEW "Yes, at eight. Sure.")',
    'p4 OK UID Fetch completed.',
  ]);
  // PREVIEW is no body section: nothing became \Seen
  await c.expect('p5 SEARCH SEEN', ['* SEARCH', 'p5 OK Search completed.']);
  await c.expect('p6 FETCH 1 (PREVIEW (FUZZY))', [/^p6 BAD /]);
}

describe('PREVIEW', () => {
  it('previews the first text part (reference backend)', async () => {
    await onReferenceServer(transcript);
  });

  it('previews the first text part (encrypted store)', async () => {
    await onNewStoreServer('lb-preview-', transcript);
  });
});
