/**
 * IMAP4rev2 (RFC 9051), issue 15 item 15: advertised next to IMAP4rev1; `ENABLE IMAP4rev2` switches
 * the session to rev2 semantics (app/imap/README.md lists what each change maps to). The exchanges
 * follow RFC 9051's own examples (§6.3.1 ENABLE, §6.3.2 SELECT, §6.3.9 LIST, §6.3.11 STATUS,
 * §6.4.4 SEARCH) with this server's data; a rev1 session next to it keeps \Recent.
 */
import { after, before, describe, it } from 'node:test';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient, TestServer } from '../../helpers/imap-transcript.ts';

const REV2_FLAGS =
  '\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $MDNSent $Junk $NotJunk $Phishing';

describe('IMAP4rev2 (RFC 9051)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  async function rev2(): Promise<ImapTestClient> {
    const c = await s.login();
    await c.expect('e1 ENABLE IMAP4rev2', ['* ENABLED IMAP4rev2', 'e1 OK Enable completed.']);
    return c;
  }

  it('is advertised with IMAP4rev1, before and after login; ENABLE answers it once', async () => {
    const c = await s.login();
    await c.expect('t1 CAPABILITY', [/^\* CAPABILITY IMAP4rev1 IMAP4rev2 /, 't1 OK Capability completed.']);
    await c.expect('t2 ENABLE CONDSTORE IMAP4rev2 X-GOOD-IDEA', [
      '* ENABLED CONDSTORE IMAP4rev2',
      't2 OK Enable completed.',
    ]);
    await c.expect('t3 ENABLE imap4REV2', ['* ENABLED', 't3 OK Enable completed.']);
    c.close();
  });

  it('SELECT: no RECENT nor [UNSEEN], a LIST response, the rev2 keywords; [CLOSED] on reselect', async () => {
    await (await s.login()).cmd('s0 CREATE Sel2/child');
    s.account.deliver('Sel2', message({ subject: 'one' }));
    s.account.deliver('Sel2', message({ subject: 'two' }));
    const c = await rev2();
    await c.expect('A142 SELECT Sel2', [
      `* FLAGS (${REV2_FLAGS})`,
      `* OK [PERMANENTFLAGS (${REV2_FLAGS} \\*)] Flags permitted.`,
      '* 2 EXISTS',
      '* LIST (\\HasChildren) "/" Sel2',
      /^\* OK \[UIDVALIDITY \d+\] UIDs valid$/,
      '* OK [UIDNEXT 3] Predicted next UID',
      /^\* OK \[HIGHESTMODSEQ \d+\] Highest$/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      'A142 OK [READ-WRITE] Select completed.',
    ]);
    await c.expect('A143 EXAMINE Junk', [
      '* OK [CLOSED] Previous mailbox closed.',
      `* FLAGS (${REV2_FLAGS})`,
      '* OK [PERMANENTFLAGS ()] Read-only mailbox.',
      '* 0 EXISTS',
      '* LIST (\\HasNoChildren \\Junk) "/" Junk',
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      'A143 OK [READ-ONLY] Examine completed.',
    ]);
    c.close();
  });

  it('SEARCH and UID SEARCH answer ESEARCH (RFC 9051 §6.4.4 examples)', async () => {
    const a = await s.login();
    await a.cmd('x0 CREATE Search2');
    for (let i = 1; i <= 11; i++) {
      const flags = [2, 10, 11].includes(i) ? ['\\Flagged'] : [];
      s.account.deliver(
        'Search2',
        message({ subject: `m${i}`, from: i === 10 ? 'Smith <s@x.example>' : undefined }),
        flags,
      );
    }
    await a.cmd('x1 SELECT Search2');
    await a.cmd('x2 STORE 11 +FLAGS.SILENT (\\Seen)');
    a.close();
    const c = await rev2();
    await c.cmd('x3 SELECT Search2');
    await c.expect('A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', [
      '* ESEARCH (TAG "A282") MIN 2 COUNT 2',
      'A282 OK Search completed.',
    ]);
    await c.expect('A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994', [
      '* ESEARCH (TAG "A283") ALL 2,10:11',
      'A283 OK Search completed.',
    ]);
    await c.expect('A284 SEARCH TEXT "string not in mailbox"', [
      '* ESEARCH (TAG "A284")',
      'A284 OK Search completed.',
    ]);
    await c.expect('A285 SEARCH CHARSET UTF-8 FLAGGED', [
      '* ESEARCH (TAG "A285") ALL 2,10:11',
      'A285 OK Search completed.',
    ]);
    await c.expect('A286 SEARCH CHARSET WTF-8 TEXT "foo"', [/^A286 NO \[BADCHARSET \(/]);
    await c.expect('A287 UID SEARCH FLAGGED UNSEEN', [
      '* ESEARCH (TAG "A287") UID ALL 2,10',
      'A287 OK UID Search completed.',
    ]);
    // With CONDSTORE: the highest MODSEQ of the messages returned (RFC 7162 §3.1.5 through ESEARCH).
    await c.expect('A288 SEARCH 1 MODSEQ 1', [
      /^\* OK \[HIGHESTMODSEQ \d+\] Highest$/,
      /^\* ESEARCH \(TAG "A288"\) ALL 1 MODSEQ \d+$/,
      'A288 OK Search completed.',
    ]);
    // SAVE alone still answers nothing (RFC 5182, folded into RFC 9051 §6.4.4.1).
    await c.expect('A289 SEARCH RETURN (SAVE) FLAGGED', ['A289 OK Search completed.']);
    await c.expect('A290 SEARCH $', ['* ESEARCH (TAG "A290") ALL 2,10:11', 'A290 OK Search completed.']);
    c.close();
  });

  it('no \\Recent: EXISTS without RECENT, FLAGS without \\Recent, RECENT/NEW/OLD; a rev1 session keeps it', async () => {
    const setup = await s.login();
    await setup.cmd('r0 CREATE Rec2');
    s.account.deliver('Rec2', message({ subject: 'before' }));
    // A rev1 session selects first: from now on new mail is recent for someone.
    await setup.cmd('r1 SELECT Rec2');
    await setup.cmd('r2 UNSELECT');
    const c = await rev2();
    await c.cmd('r3 SELECT Rec2');
    s.account.deliver('Rec2', message({ subject: 'new' }));
    await c.expect('r4 NOOP', ['* 2 EXISTS', 'r4 OK Noop completed.']);
    await c.expect('r5 FETCH 2 (FLAGS)', ['* 2 FETCH (FLAGS ())', 'r5 OK Fetch completed.']);
    await c.expect('r6 SEARCH RECENT', ['* ESEARCH (TAG "r6")', 'r6 OK Search completed.']);
    await c.expect('r7 SEARCH NEW', ['* ESEARCH (TAG "r7")', 'r7 OK Search completed.']);
    await c.expect('r8 SEARCH OLD', ['* ESEARCH (TAG "r8") ALL 1:2', 'r8 OK Search completed.']);
    await c.expect('r9 STORE 2 +FLAGS (\\Flagged)', [
      '* 2 FETCH (FLAGS (\\Flagged))',
      'r9 OK Store completed.',
    ]);
    // The rev2 session claimed nothing: the rev1 session that selects next sees the new message as recent.
    await setup.expect('r10 SELECT Rec2', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 2 EXISTS',
      '* 1 RECENT',
      /UNSEEN 1/,
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^r10 OK/,
    ]);
    await setup.expect('r11 FETCH 2 (FLAGS)', [
      '* 2 FETCH (FLAGS (\\Flagged \\Recent))',
      'r11 OK Fetch completed.',
    ]);
    await setup.expect('r12 SEARCH RECENT', ['* SEARCH 2', 'r12 OK Search completed.']);
    // ENABLE IMAP4rev2 with the mailbox selected: \Recent is gone from then on.
    await setup.expect('r13 ENABLE IMAP4rev2', ['* ENABLED IMAP4rev2', 'r13 OK Enable completed.']);
    await setup.expect('r14 FETCH 2 (FLAGS)', ['* 2 FETCH (FLAGS (\\Flagged))', 'r14 OK Fetch completed.']);
    s.account.deliver('Rec2', message({ subject: 'third' }));
    await setup.expect('r15 NOOP', ['* 3 EXISTS', 'r15 OK Noop completed.']);
    c.close();
    setup.close();
  });

  it('$Junk, $NotJunk and $Phishing are kept; STATUS DELETED and SIZE (RFC 9051 §6.3.11)', async () => {
    const c = await rev2();
    await c.cmd('k0 CREATE Keys2');
    s.account.deliver('Keys2', message({ subject: 'a' }));
    s.account.deliver('Keys2', message({ subject: 'b' }));
    await c.cmd('k1 SELECT Keys2');
    await c.expect('k2 STORE 1 +FLAGS ($Junk $Phishing)', [
      '* 1 FETCH (FLAGS ($Junk $Phishing))',
      'k2 OK Store completed.',
    ]);
    await c.expect('k3 STORE 2 +FLAGS ($NotJunk \\Deleted)', [
      '* 2 FETCH (FLAGS ($NotJunk \\Deleted))',
      'k3 OK Store completed.',
    ]);
    await c.expect('k4 SEARCH KEYWORD $Junk', ['* ESEARCH (TAG "k4") ALL 1', 'k4 OK Search completed.']);
    await c.cmd('k5 UNSELECT');
    await c.expect('A042 STATUS Keys2 (MESSAGES DELETED UNSEEN)', [
      '* STATUS Keys2 (MESSAGES 2 DELETED 1 UNSEEN 2)',
      'A042 OK Status completed.',
    ]);
    await c.expect('k6 LIST "" Keys2 RETURN (STATUS (DELETED SIZE))', [
      '* LIST (\\HasNoChildren) "/" Keys2',
      /^\* STATUS Keys2 \(DELETED 1 SIZE \d+\)$/,
      'k6 OK List completed.',
    ]);
    await c.cmd('k7 SELECT Keys2');
    await c.expect('k8 FETCH 1:2 (FLAGS)', [
      '* 1 FETCH (FLAGS ($Junk $Phishing))',
      '* 2 FETCH (FLAGS ($NotJunk \\Deleted))',
      'k8 OK Fetch completed.',
    ]);
    c.close();
  });

  it('LIST: \\NonExistent for a parent that is no mailbox; LIST "" "" gives the delimiter (§6.3.9)', async () => {
    const c = await rev2();
    // A child whose parent is no mailbox (as sync may bring from a provider).
    s.account.createMailbox('Fruit2/banana');
    await c.expect('A101 LIST "" ""', ['* LIST (\\Noselect) "/" ""', 'A101 OK List completed.']);
    await c.expect('l2 LIST "" Fruit2*', [
      '* LIST (\\NonExistent \\HasChildren) "/" Fruit2',
      '* LIST (\\HasNoChildren) "/" Fruit2/banana',
      'l2 OK List completed.',
    ]);
    // The same in a rev1 session: \Noselect (RFC 3501).
    const r1 = await s.login();
    await r1.expect('l3 LIST "" Fruit2', [
      '* LIST (\\Noselect \\HasChildren) "/" Fruit2',
      'l3 OK List completed.',
    ]);
    r1.close();
    c.close();
  });

  it('mailbox names are UTF-8; a name sent in modified UTF-7 is answered with OLDNAME (RFC 9051 §5.1)', async () => {
    const c = await rev2();
    await c.expect('o1 CREATE "Entw&APw-rfe2"', [
      '* LIST (\\HasNoChildren) "/" "Entwürfe2" ("OLDNAME" (Entw&APw-rfe2))',
      /^o1 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/,
    ]);
    await c.expect('o2 CREATE "Ablage-ü"', [/^o2 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    await c.expect('o3 LIST "" "Entw*"', [
      '* LIST (\\HasNoChildren) "/" "Entwürfe2"',
      'o3 OK List completed.',
    ]);
    await c.expect('o4 RENAME "Ablage-ü" "Ablage-&APY-"', [
      '* LIST (\\HasNoChildren) "/" "Ablage-ö" ("OLDNAME" (Ablage-&APY-))',
      'o4 OK Rename completed.',
    ]);
    await c.expect('o5 SELECT "Entw&APw-rfe2"', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 0 EXISTS',
      '* LIST (\\HasNoChildren) "/" "Entwürfe2" ("OLDNAME" (Entw&APw-rfe2))',
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^o5 OK \[READ-WRITE\]/,
    ]);
    await c.expect('o6 STATUS "Entwürfe2" (MESSAGES)', [
      '* STATUS "Entwürfe2" (MESSAGES 0)',
      'o6 OK Status completed.',
    ]);
    // A rev1 session sees the same mailboxes in modified UTF-7.
    const r1 = await s.login();
    await r1.expect('o7 LIST "" "Ablage*"', [
      '* LIST (\\HasNoChildren) "/" Ablage-&APY-',
      'o7 OK List completed.',
    ]);
    r1.close();
    c.close();
  });
});
