/**
 * Thunderbird 153's first sync, command for command (../shared/reference/thunderbird-first-sync.txt,
 * captured against Dovecot): every reply must be OK, with the answers Thunderbird relies on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapTestClient, PASS, USER, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

const TB_HEADERS =
  'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To Received';

describe('Thunderbird first-sync command sequence', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    for (let i = 1; i <= 4; i++) {
      s.account.deliver(
        'INBOX',
        message({
          subject: `hello alice #${i}`,
          messageId: `<tb${i}@vm>`,
          headers: ['Received: from vm by smtp'],
        }),
      );
    }
    s.account.deliver('Sent', message({ subject: 'Sent from Thunderbird' }), ['\\Seen']);
  });
  after(() => s.close());

  it('authenticates, discovers folders, syncs INBOX headers and bodies, idles and appends to Sent', async () => {
    const c = await ImapTestClient.connect(s.port, { greeting: false });
    assert.match(await c.readLine(), /^\* OK \[CAPABILITY IMAP4rev1 .*AUTH=PLAIN\] /);
    c.write('69 authenticate PLAIN\r\n');
    assert.equal(await c.readLine(), '+ ');
    c.write(Buffer.from(`\0${USER}\0${PASS}`).toString('base64') + '\r\n');
    assert.match(
      await c.readLine(),
      /^69 OK \[CAPABILITY IMAP4rev1 .*IDLE.*UIDPLUS.*MOVE.*SPECIAL-USE.*\] Logged in$/,
    );
    await c.expect('70 namespace', ['* NAMESPACE (("" "/")) NIL NIL', /^70 OK /]);
    await c.expect('71 ID ("name" "Thunderbird" "version" "153.7.0")', [
      '* ID ("name" "Lockbridge")',
      /^71 OK /,
    ]);
    await c.expect('72 select "INBOX"', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.',
      '* 4 EXISTS',
      '* 0 RECENT',
      '* OK [UNSEEN 1] First unseen.',
      '* OK [UIDVALIDITY 1000] UIDs valid',
      '* OK [UIDNEXT 5] Predicted next UID',
      /^\* OK \[HIGHESTMODSEQ \d+\]/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      '72 OK [READ-WRITE] Select completed.',
    ]);
    await c.expect('73 UID fetch 1:* (FLAGS)', [
      '* 1 FETCH (UID 1 FLAGS ())',
      '* 2 FETCH (UID 2 FLAGS ())',
      '* 3 FETCH (UID 3 FLAGS ())',
      '* 4 FETCH (UID 4 FLAGS ())',
      /^73 OK /,
    ]);
    const hdr = await c.cmd(
      `74 UID fetch 1:4 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${TB_HEADERS})])`,
    );
    assert.equal(hdr.length, 5);
    assert.match(
      hdr[0]!,
      /^\* 1 FETCH \(UID 1 RFC822\.SIZE \d+ FLAGS \(\) BODY\[HEADER\.FIELDS \(FROM TO .* RECEIVED\)\] \{\d+\}\r\nFrom: Bob/,
    );
    assert.match(hdr[0]!, /Received: from vm by smtp\r\n\r\n\)$/);
    await c.expect('6 list (subscribed) "" "*" return (special-use)', [
      '* LIST (\\Subscribed) "/" INBOX',
      '* LIST (\\Subscribed \\Drafts) "/" Drafts',
      '* LIST (\\Subscribed \\Junk) "/" Junk',
      '* LIST (\\Subscribed \\Sent) "/" Sent',
      '* LIST (\\Subscribed \\Trash) "/" Trash',
      /^6 OK /,
    ]);
    await c.expect('7 list "" "INBOX"', ['* LIST (\\HasNoChildren) "/" INBOX', /^7 OK /]);
    const bodies = await c.cmd('75 UID fetch 1:4 (UID RFC822.SIZE BODY.PEEK[])');
    assert.equal(bodies.length, 5);
    for (const l of bodies.slice(0, 4)) {
      const m = /RFC822\.SIZE (\d+) BODY\[\] \{(\d+)\}/.exec(l)!;
      assert.equal(m[1], m[2], 'RFC822.SIZE equals the length of BODY[]');
    }
    await c.expect('76 noop', [/^76 OK /]);
    await c.expect('77 UID fetch 5:* (FLAGS)', ['* 4 FETCH (UID 4 FLAGS ())', /^77 OK /]);
    c.write('78 IDLE\r\n');
    assert.equal(await c.readLine(), '+ idling');
    s.account.deliver('INBOX', message({ subject: 'new while idle', messageId: '<tb5@vm>' }));
    assert.equal(await c.readLine(), '* 5 EXISTS');
    assert.equal(await c.readLine(), '* 1 RECENT');
    c.write('DONE\r\n');
    assert.match(await c.readLine(), /^78 OK /);
    await c.expect('80 UID fetch 5:* (FLAGS)', ['* 5 FETCH (UID 5 FLAGS (\\Recent))', /^80 OK /]);
    await c.expect('10 STATUS "Sent" (UIDNEXT MESSAGES UNSEEN RECENT)', [
      '* STATUS Sent (UIDNEXT 2 MESSAGES 1 UNSEEN 0 RECENT 0)',
      /^10 OK /,
    ]);
    const sent = message({ subject: 'Sent copy', messageId: '<sent@x>' });
    c.write(`11 APPEND "Sent" (\\Seen) {${sent.length}+}\r\n${sent}\r\n`);
    assert.deepEqual(await c.until('11'), ['11 OK [APPENDUID 1002 2] Append completed.']);
    assert.ok(
      c.log.every((l) => !/^\d+ (NO|BAD)/.test(l)),
      'no NO or BAD',
    );
    c.close();
  });
});
