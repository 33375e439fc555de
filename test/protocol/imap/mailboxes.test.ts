/** Transcripts: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (extended), LSUB, STATUS; modified UTF-7 names. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

describe('mailbox commands', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('LIST plain, LIST "" "", patterns with % and *', async () => {
    const c = await s.login();
    await c.expect('a1 LIST "" ""', ['* LIST (\\Noselect) "/" ""', 'a1 OK List completed.']);
    await c.expect('a2 LIST "" *', [
      '* LIST (\\HasNoChildren) "/" INBOX',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      '* LIST (\\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Trash) "/" Trash',
      'a2 OK List completed.',
    ]);
    await c.expect('a3 LIST "" inbox', ['* LIST (\\HasNoChildren) "/" INBOX', 'a3 OK List completed.']);
    await c.expect('a4 LIST "" S%', ['* LIST (\\HasNoChildren \\Sent) "/" Sent', 'a4 OK List completed.']);
    c.close();
  });

  it('CREATE with hierarchy, \\HasChildren, DELETE rules', async () => {
    const c = await s.login();
    await c.expect('b1 CREATE Projects/2026/Q1', [
      /^b1 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/,
    ]);
    await c.expect('b2 LIST "" Projects*', [
      '* LIST (\\HasChildren) "/" Projects',
      '* LIST (\\HasChildren) "/" Projects/2026',
      '* LIST (\\HasNoChildren) "/" Projects/2026/Q1',
      'b2 OK List completed.',
    ]);
    await c.expect('b3 LIST "" Projects/%', [
      '* LIST (\\HasChildren) "/" Projects/2026',
      'b3 OK List completed.',
    ]);
    await c.expect('b4 CREATE Projects', ['b4 NO [ALREADYEXISTS] Mailbox already exists']);
    await c.expect('b5 CREATE inbox', ['b5 NO [ALREADYEXISTS] Mailbox already exists']);
    await c.expect('b6 CREATE Trailing/', [/^b6 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    await c.expect('b7 LIST "" Trailing', ['* LIST (\\HasNoChildren) "/" Trailing', 'b7 OK List completed.']);
    await c.expect('b8 DELETE Projects', ['b8 NO [INUSE] Mailbox has children, delete them first']);
    await c.expect('b9 DELETE INBOX', ["b9 NO [CANNOT] INBOX can't be deleted."]);
    await c.expect('b10 DELETE nope', ['b10 NO [NONEXISTENT] Mailbox does not exist: nope']);
    await c.expect('b11 DELETE Projects/2026/Q1', ['b11 OK Delete completed.']);
    await c.expect('b12 CREATE "bad//name"', ['b12 NO [CANNOT] Invalid mailbox name']);
    c.close();
  });

  it('RENAME moves children; RENAME INBOX moves its messages', async () => {
    s.account.deliver('INBOX', message({ subject: 'in inbox' }));
    const c = await s.login();
    await c.expect('c1 CREATE Old/Child', [/^c1 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    await c.expect('c2 RENAME Old New/Place', ['c2 OK Rename completed.']);
    await c.expect('c3 LIST "" New*', [
      '* LIST (\\HasChildren) "/" New',
      '* LIST (\\HasChildren) "/" New/Place',
      '* LIST (\\HasNoChildren) "/" New/Place/Child',
      'c3 OK List completed.',
    ]);
    await c.expect('c4 RENAME nope x', ['c4 NO [NONEXISTENT] Mailbox does not exist: nope']);
    await c.expect('c5 RENAME New Sent', ['c5 NO [ALREADYEXISTS] Mailbox already exists']);
    await c.expect('c6 RENAME New New/Sub', ["c6 NO [CANNOT] Can't rename mailbox under itself."]);
    await c.expect('c7 RENAME INBOX "Old Inbox"', ['c7 OK Rename completed.']);
    await c.expect('c8 STATUS INBOX (MESSAGES)', ['* STATUS INBOX (MESSAGES 0)', 'c8 OK Status completed.']);
    await c.expect('c9 STATUS "Old Inbox" (MESSAGES UIDNEXT)', [
      '* STATUS "Old Inbox" (MESSAGES 1 UIDNEXT 2)',
      'c9 OK Status completed.',
    ]);
    c.close();
  });

  it('modified UTF-7 names round-trip; invalid encodings are refused; UTF8=ACCEPT uses raw UTF-8', async () => {
    const c = await s.login();
    await c.expect('d1 CREATE Entw&APw-rfe', [/^d1 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    await c.expect('d2 CREATE "A&-B"', [/^d2 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    await c.expect('d3 LIST "" Entw*', [
      '* LIST (\\HasNoChildren) "/" Entw&APw-rfe',
      'd3 OK List completed.',
    ]);
    await c.expect('d4 LIST "" A&-*', ['* LIST (\\HasNoChildren) "/" A&-B', 'd4 OK List completed.']);
    assert.ok(s.account.getMailbox('Entwürfe'), 'stored as UTF-8 in the port');
    assert.ok(s.account.getMailbox('A&B'));
    await c.expect('d5 CREATE &Jjo', ['d5 NO [CANNOT] Mailbox name is not valid modified UTF-7']);
    await c.expect('d6 SELECT &AGE-', ['d6 NO [CANNOT] Mailbox name is not valid modified UTF-7']);
    await c.expect('d7 STATUS Entw&APw-rfe (MESSAGES)', [
      '* STATUS Entw&APw-rfe (MESSAGES 0)',
      'd7 OK Status completed.',
    ]);
    await c.expect('d8 ENABLE UTF8=ACCEPT', ['* ENABLED UTF8=ACCEPT', 'd8 OK Enable completed.']);
    await c.expect('d9 LIST "" Entw*', ['* LIST (\\HasNoChildren) "/" "Entwürfe"', 'd9 OK List completed.']);
    await c.expect('d10 CREATE "Ünïcödé"', [/^d10 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    assert.ok(s.account.getMailbox('Ünïcödé'));
    c.close();
  });

  it('SUBSCRIBE / UNSUBSCRIBE / LSUB / LIST (SUBSCRIBED) RETURN (SPECIAL-USE) / LIST-STATUS', async () => {
    const c = await s.login();
    await c.expect('e1 CREATE Lists', [/^e1 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    await c.expect('e2 UNSUBSCRIBE Lists', ['e2 OK Unsubscribe completed.']);
    await c.expect('e3 LSUB "" Lists', ['e3 OK Lsub completed.']);
    await c.expect('e4 SUBSCRIBE Lists', ['e4 OK Subscribe completed.']);
    await c.expect('e5 LSUB "" Lists', ['* LSUB () "/" Lists', 'e5 OK Lsub completed.']);
    await c.expect('e6 SUBSCRIBE nope', ['e6 NO [NONEXISTENT] Mailbox does not exist: nope']);
    await c.expect('e7 LIST (SUBSCRIBED) "" "S*" RETURN (SPECIAL-USE)', [
      '* LIST (\\Subscribed \\Sent) "/" Sent',
      'e7 OK List completed.',
    ]);
    await c.expect('e8 LIST (SPECIAL-USE) "" "*"', [
      '* LIST (\\Drafts) "/" Drafts',
      '* LIST (\\Junk) "/" Junk',
      '* LIST (\\Sent) "/" Sent',
      '* LIST (\\Trash) "/" Trash',
      'e8 OK List completed.',
    ]);
    await c.expect('e9 LIST "" ("INBOX" "Junk") RETURN (CHILDREN STATUS (MESSAGES UIDVALIDITY))', [
      '* LIST (\\HasNoChildren) "/" INBOX',
      /^\* STATUS INBOX \(MESSAGES \d+ UIDVALIDITY 1000\)$/,
      '* LIST (\\HasNoChildren) "/" Junk',
      '* STATUS Junk (MESSAGES 0 UIDVALIDITY 1004)',
      'e9 OK List completed.',
    ]);
    await c.expect('e10 LIST (BOGUS) "" "*"', ['e10 BAD Invalid LIST selection option']);
    c.close();
  });

  it('STATUS items incl. HIGHESTMODSEQ and SIZE', async () => {
    const c = await s.login();
    await c.expect('f1 STATUS Sent (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)', [
      '* STATUS Sent (MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY 1002 UNSEEN 0 HIGHESTMODSEQ 1 SIZE 0)',
      'f1 OK Status completed.',
    ]);
    await c.expect('f2 STATUS nope (MESSAGES)', ['f2 NO [NONEXISTENT] Mailbox does not exist: nope']);
    await c.expect('f3 STATUS Sent (BOGUS)', ['f3 BAD Invalid status item']);
    c.close();
  });
});
