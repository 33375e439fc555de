/**
 * Transcripts: FETCH / UID FETCH items, macros, partial fetch, `UID n:*` past the highest UID,
 * implicit \Seen, MODSEQ / CHANGEDSINCE, BODYSTRUCTURE of multipart/alternative with attachments
 * and of message/rfc822, ENVELOPE with encoded words, groups and routes.
 */
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient, TestServer } from '../../helpers/imap-transcript.ts';

const FIX = join(import.meta.dirname, 'fixtures');
const DAY = Date.UTC(2026, 10, 24, 12);

const MULTIPART_ENVELOPE =
  '("Tue, 24 Nov 2026 10:00:00 +0100" "=?ISO-8859-1?Q?caf=E9?= menu" (("=?UTF-8?B?SsO8cmdlbg==?=" NIL "j" "example.test")) ' +
  '((NIL "@relay1.example,@relay2.example" "list" "example.test")) (("=?UTF-8?B?SsO8cmdlbg==?=" NIL "j" "example.test")) ' +
  '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ' +
  '((NIL NIL "Team" NIL)(NIL NIL "a" "example.test")("B, Jr." NIL "b" "example.test")(NIL NIL NIL NIL)(NIL NIL "c" "example.test")) ' +
  'NIL "<parent@example.test>" "<mm@example.test>")';
const MULTIPART_BODYSTRUCTURE =
  '((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 46 0 NIL NIL NIL NIL)' +
  '("text" "html" ("charset" "utf-8") NIL NIL "7bit" 17 0 NIL NIL NIL NIL) "alternative" ("boundary" "alt") NIL NIL NIL)' +
  '("application" "pdf" ("name" "doc.pdf") NIL NIL "base64" 24 NIL ("attachment" ("filename" "doc.pdf")) NIL NIL)' +
  '("message" "rfc822" NIL NIL "forwarded" "7bit" 378 ("Mon, 23 Nov 2026 08:00:00 +0000" "inner subject" ' +
  '(("Inner Person" NIL "inner" "example.test")) (("Inner Person" NIL "inner" "example.test")) (("Inner Person" NIL "inner" "example.test")) ' +
  '((NIL NIL "alice" "example.test")) NIL NIL NIL "<inner@example.test>") ' +
  '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 17 0 NIL NIL NIL NIL) ' +
  '"alternative" ("boundary" "in") NIL NIL NIL) 17 NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)';
const RFC822_BODYSTRUCTURE =
  '("message" "rfc822" NIL NIL NIL "7bit" 60 (NIL "nested plain" ((NIL NIL "c" "example.test")) ((NIL NIL "c" "example.test")) ' +
  '((NIL NIL "c" "example.test")) NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)';
const SIMPLE_ENVELOPE =
  '("Mon, 23 Nov 2026 09:36:13 +0000" "hello" (("Bob" NIL "bob" "example.test")) (("Bob" NIL "bob" "example.test")) ' +
  '(("Bob" NIL "bob" "example.test")) ((NIL NIL "alice" "example.test")) NIL NIL NIL "<m1@example.test>")';

describe('FETCH', () => {
  let s: TestServer;
  let c: ImapTestClient;
  before(async () => {
    s = await startTestServer();
    s.account.deliver('INBOX', readFileSync(join(FIX, 'multipart.eml')), [], DAY);
    s.account.deliver('INBOX', readFileSync(join(FIX, 'rfc822.eml')), ['\\Seen'], DAY);
    s.account.deliver('INBOX', message({}), [], DAY);
    c = await s.login();
    await c.expect('s SELECT INBOX', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.',
      '* 3 EXISTS',
      '* 0 RECENT',
      '* OK [UNSEEN 1] First unseen.',
      '* OK [UIDVALIDITY 1000] UIDs valid',
      '* OK [UIDNEXT 4] Predicted next UID',
      '* OK [HIGHESTMODSEQ 4] Highest',
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      's OK [READ-WRITE] Select completed.',
    ]);
  });
  after(async () => {
    c.close();
    await s.close();
  });

  it('ENVELOPE with encoded words, groups and routes; BODYSTRUCTURE of multipart/alternative + attachment + message/rfc822', async () => {
    await c.expect('a1 FETCH 1:2 (ENVELOPE BODYSTRUCTURE)', [
      `* 1 FETCH (ENVELOPE ${MULTIPART_ENVELOPE} BODYSTRUCTURE ${MULTIPART_BODYSTRUCTURE})`,
      /^\* 2 FETCH \(ENVELOPE \("Mon, 23 Nov 2026 08:00:00 \+0000" "fwd" .* BODYSTRUCTURE /,
      'a1 OK Fetch completed.',
    ]);
    await c.expect('a2 FETCH 2 BODYSTRUCTURE', [
      `* 2 FETCH (BODYSTRUCTURE ${RFC822_BODYSTRUCTURE})`,
      'a2 OK Fetch completed.',
    ]);
  });

  it('macros ALL, FAST, FULL', async () => {
    const base = 'FLAGS () INTERNALDATE "24-Nov-2026 12:00:00 +0000" RFC822.SIZE 155';
    await c.expect('b1 FETCH 3 ALL', [
      `* 3 FETCH (${base} ENVELOPE ${SIMPLE_ENVELOPE})`,
      'b1 OK Fetch completed.',
    ]);
    await c.expect('b2 FETCH 3 FAST', [`* 3 FETCH (${base})`, 'b2 OK Fetch completed.']);
    await c.expect('b3 FETCH 3 FULL', [
      `* 3 FETCH (${base} ENVELOPE ${SIMPLE_ENVELOPE} BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 1))`,
      'b3 OK Fetch completed.',
    ]);
  });

  it('sections, .PEEK, partial fetch and the Thunderbird header fetch', async () => {
    await c.expect(
      'c1 FETCH 1 (BODY.PEEK[1.1]<0.4> BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER.FIELDS (Subject)])',
      [
        '* 1 FETCH (BODY[1.1]<0> {4}\r\nCaf= BODY[2.MIME] {137}\r\nContent-Type: application/pdf; name="doc.pdf"\r\n' +
          'Content-Disposition: attachment; filename="doc.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n BODY[3.HEADER.FIELDS (SUBJECT)] {26}\r\nSubject: inner subject\r\n\r\n)',
        'c1 OK Fetch completed.',
      ],
    );
    await c.expect('c2 FETCH 3 (BODY.PEEK[]<150.100> BODY.PEEK[]<1000.10> BODY.PEEK[TEXT]<6>)', [
      '* 3 FETCH (BODY[]<150> {5}\r\nice\r\n BODY[]<1000> {0}\r\n BODY[TEXT]<6> {7}\r\nAlice\r\n)',
      'c2 OK Fetch completed.',
    ]);
    await c.expect(
      'c3 UID FETCH 3 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])',
      [
        '* 3 FETCH (UID 3 RFC822.SIZE 155 FLAGS () BODY[HEADER.FIELDS (FROM TO CC BCC SUBJECT DATE MESSAGE-ID PRIORITY X-PRIORITY REFERENCES NEWSGROUPS IN-REPLY-TO CONTENT-TYPE REPLY-TO)] {142}\r\n' +
          'From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: hello\r\nDate: Mon, 23 Nov 2026 09:36:13 +0000\r\nMessage-ID: <m1@example.test>\r\n\r\n)',
        'c3 OK UID Fetch completed.',
      ],
    );
    await c.expect('c4 FETCH 3 (FLAGS)', ['* 3 FETCH (FLAGS ())', 'c4 OK Fetch completed.']);
  });

  it('UID n:* past the highest UID returns the highest message; ranges are unordered', async () => {
    await c.expect('d1 UID FETCH 100:* (FLAGS)', [
      '* 3 FETCH (UID 3 FLAGS ())',
      'd1 OK UID Fetch completed.',
    ]);
    await c.expect('d2 UID FETCH 3:1 (UID)', [
      '* 1 FETCH (UID 1)',
      '* 2 FETCH (UID 2)',
      '* 3 FETCH (UID 3)',
      'd2 OK UID Fetch completed.',
    ]);
    await c.expect('d3 UID FETCH 50:60 (UID)', ['d3 OK UID Fetch completed.']);
    await c.expect('d4 FETCH 4 (UID)', ['d4 BAD Invalid messageset']);
    await c.expect('d5 FETCH *:2 (UID)', [
      '* 2 FETCH (UID 2)',
      '* 3 FETCH (UID 3)',
      'd5 OK Fetch completed.',
    ]);
  });

  it('a non-PEEK body fetch sets \\Seen and reports FLAGS; MODSEQ and CHANGEDSINCE', async () => {
    await c.expect('e1 FETCH 3 (BODY[]<0.10>)', [
      '* 3 FETCH (BODY[]<0> {10}\r\nFrom: Bob  FLAGS (\\Seen))',
      'e1 OK Fetch completed.',
    ]);
    await c.expect('e2 FETCH 3 (FLAGS MODSEQ)', [
      '* OK [HIGHESTMODSEQ 5] Highest',
      '* 3 FETCH (FLAGS (\\Seen) MODSEQ (5))',
      'e2 OK Fetch completed.',
    ]);
    await c.expect('e3 FETCH 1:* (UID FLAGS) (CHANGEDSINCE 4)', [
      '* 3 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (5))',
      'e3 OK Fetch completed.',
    ]);
    await c.expect('e4 UID FETCH 2 (RFC822.HEADER)', [
      '* 2 FETCH (UID 2 RFC822.HEADER {146}\r\nFrom: a@example.test\r\nTo: b@example.test\r\nSubject: fwd\r\n' +
        'Date: Mon, 23 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n)',
      'e4 OK UID Fetch completed.',
    ]);
  });

  it('EXAMINE never sets \\Seen', async () => {
    await c.expect('g1 EXAMINE INBOX', [
      /FLAGS/,
      '* OK [PERMANENTFLAGS ()] Read-only mailbox.',
      '* 3 EXISTS',
      '* 0 RECENT',
      /UNSEEN 1/,
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      'g1 OK [READ-ONLY] Examine completed.',
    ]);
    await c.expect('g2 FETCH 1 (BODY[1.2])', [
      '* 1 FETCH (BODY[1.2] {17}\r\n<p>Café html</p>)',
      'g2 OK Fetch completed.',
    ]);
    await c.expect('g3 FETCH 1 FLAGS', ['* 1 FETCH (FLAGS ())', 'g3 OK Fetch completed.']);
    await c.expect('g4 STORE 1 +FLAGS (\\Seen)', ['g4 OK Store completed.']);
    await c.expect('g4b FETCH 1 FLAGS', ['* 1 FETCH (FLAGS ())', 'g4b OK Fetch completed.']);
    await c.expect('g5 SELECT INBOX', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 3 EXISTS',
      '* 0 RECENT',
      /UNSEEN 1/,
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      'g5 OK [READ-WRITE] Select completed.',
    ]);
  });

  it('bad FETCH arguments get BAD', async () => {
    await c.expect('f1 FETCH 1 BOGUS', ['f1 BAD Invalid fetch attribute BOGUS']);
    await c.expect('f2 FETCH 1 (BODY[HEADER.FIELDS ()])', ['f2 BAD Invalid header field list']);
    await c.expect('f3 FETCH 1 (BODY[0])', ['f3 BAD Invalid section']);
    await c.expect('f4 FETCH x FLAGS', ['f4 BAD Invalid sequence set']);
    await c.expect('f5 FETCH 1 (FLAGS) (CHANGEDSINCE x)', ['f5 BAD Invalid mod-sequence']);
  });
});
