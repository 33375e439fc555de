/**
 * Issue 15 items 4–13: RFC behaviour Dovecot 2.3 has and the local server lacked. Each transcript
 * follows the RFC (and Dovecot's answer where the RFC leaves room).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

describe('RFC conformance (issue 15)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('item 8: the atom NIL is the string "NIL" where the grammar takes an astring', async () => {
    const c = await s.login();
    await c.cmd('n0 CREATE Nil8');
    s.account.deliver('Nil8', message({ subject: 'NIL thing' }));
    await c.cmd('n1 SELECT Nil8');
    await c.expect('n2 SEARCH SUBJECT NIL', ['* SEARCH 1', 'n2 OK Search completed.']);
    await c.expect('n3 LIST "" NIL', ['n3 OK List completed.']);
    await c.expect('n4 STORE 1 +FLAGS NIL', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft NIL)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft NIL \\*)] Flags permitted.',
      '* 1 FETCH (FLAGS (NIL))',
      'n4 OK Store completed.',
    ]);
    await c.expect('n5 CREATE NIL', [/^n5 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    // A mailbox called NIL is sent quoted: a bare NIL would read as nil.
    await c.expect('n6 LIST "" NIL', ['* LIST (\\HasNoChildren) "/" "NIL"', 'n6 OK List completed.']);
    await c.expect('n7 STATUS NIL (MESSAGES)', ['* STATUS "NIL" (MESSAGES 0)', 'n7 OK Status completed.']);
    c.close();
  });

  it('items 6 and 7: SENT* use the date as written; SORT by addr-mailbox and i;ascii-casemap', async () => {
    const c = await s.login();
    await c.cmd('d0 CREATE Dates');
    const msgs = [
      ['Zed <alpha@zzz.example>', '[b] thing', 'Sun, 25 Mar 2007 00:00:00 +0200'],
      ['Amy <zulu@aaa.example>', '_a thing', 'Sat, 24 Mar 2007 23:30:00 -0500'],
      ['bob <Beta@mmm.example>', 'Zebra', 'Mon, 26 Mar 2007 01:00:00 +0000'],
    ];
    for (const [from, subject, date] of msgs) s.account.deliver('Dates', message({ from, subject, date }));
    await c.cmd('d1 SELECT Dates');
    // Answers as Dovecot 2.3.19 gives them for the same three messages.
    await c.expect('d2 SEARCH SENTON 25-Mar-2007', ['* SEARCH 1', 'd2 OK Search completed.']);
    await c.expect('d3 SEARCH SENTON 24-Mar-2007', ['* SEARCH 2', 'd3 OK Search completed.']);
    await c.expect('d4 SEARCH SENTBEFORE 25-Mar-2007', ['* SEARCH 2', 'd4 OK Search completed.']);
    await c.expect('d5 SEARCH SENTSINCE 25-Mar-2007', ['* SEARCH 1 3', 'd5 OK Search completed.']);
    await c.expect('d6 SORT (FROM) UTF-8 ALL', ['* SORT 1 3 2', 'd6 OK Sort completed.']);
    await c.expect('d7 SORT (SUBJECT) UTF-8 ALL', ['* SORT 1 3 2', 'd7 OK Sort completed.']);
    await c.expect('d8 SORT (REVERSE FROM) UTF-8 ALL', ['* SORT 2 3 1', 'd8 OK Sort completed.']);
    c.close();
  });

  it('item 10: ESEARCH MODSEQ is that of the returned messages; HIGHESTMODSEQ on the first enabling command', async () => {
    const c = await s.login();
    await c.cmd('m0 CREATE Modseq');
    s.account.deliver('Modseq', message({ subject: 'one' }));
    s.account.deliver('Modseq', message({ subject: 'two' }));
    const sel = await c.cmd('m1 SELECT Modseq');
    const h = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))![1]);
    await c.cmd('m2 STORE 2 +FLAGS (\\Seen)');
    // Message 1 has MODSEQ h-1, message 2 now h+1.
    await c.expect('m3 SEARCH RETURN (MIN) 1:2 MODSEQ 1', [
      `* OK [HIGHESTMODSEQ ${h + 1}] Highest`,
      `* ESEARCH (TAG "m3") MIN 1 MODSEQ ${h - 1}`,
      'm3 OK Search completed.',
    ]);
    await c.expect('m4 SEARCH RETURN (MAX) 1:2 MODSEQ 1', [
      `* ESEARCH (TAG "m4") MAX 2 MODSEQ ${h + 1}`,
      'm4 OK Search completed.',
    ]);
    await c.expect('m5 SEARCH RETURN (ALL) 1 MODSEQ 1', [
      `* ESEARCH (TAG "m5") ALL 1 MODSEQ ${h - 1}`,
      'm5 OK Search completed.',
    ]);
    await c.expect('m6 SEARCH RETURN (MIN MAX COUNT) 1:2 MODSEQ 1', [
      `* ESEARCH (TAG "m6") MIN 1 MAX 2 COUNT 2 MODSEQ ${h + 1}`,
      'm6 OK Search completed.',
    ]);
    const e = await s.login();
    await e.cmd('e1 SELECT Modseq');
    await e.expect('e2 ENABLE CONDSTORE', [
      `* OK [HIGHESTMODSEQ ${h + 1}] Highest`,
      '* ENABLED CONDSTORE',
      'e2 OK Enable completed.',
    ]);
    const f = await s.login();
    await f.cmd('f1 EXAMINE Modseq');
    await f.expect('f2 FETCH 1 (MODSEQ)', [
      `* OK [HIGHESTMODSEQ ${h + 1}] Highest`,
      `* 1 FETCH (MODSEQ (${h - 1}))`,
      'f2 OK Fetch completed.',
    ]);
    await f.expect('f3 FETCH 1 (MODSEQ)', [`* 1 FETCH (MODSEQ (${h - 1}))`, 'f3 OK Fetch completed.']);
    c.close();
    e.close();
    f.close();
  });

  it('item 11: a LIST pattern that is not valid modified UTF-7 matches nothing (no NO [CANNOT])', async () => {
    const c = await s.login();
    await c.expect('l1 LIST "" "&Jjo"', ['l1 OK List completed.']);
    await c.expect('l2 LIST "" "&AGE-*"', ['l2 OK List completed.']);
    await c.expect('l3 LIST "&" "*"', ['l3 OK List completed.']);
    await c.expect('l4 LSUB "" "&Jjo"', ['l4 OK Lsub completed.']);
    await c.expect('l5 LIST "" ("&Jjo" "INBOX")', ['* LIST () "/" INBOX', 'l5 OK List completed.']);
    c.close();
  });

  it('item 4: a new message is \\Recent in exactly one session (SELECT, EXISTS, FETCH, SEARCH, STATUS)', async () => {
    const a = await s.login();
    const b = await s.login();
    await a.cmd('r0 CREATE Rec');
    s.account.deliver('Rec', message({ subject: 'old' }));
    // The first SELECT after the server started: nothing is recent yet.
    await a.expect('r1 SELECT Rec', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 1 EXISTS',
      '* 0 RECENT',
      /UNSEEN 1/,
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^r1 OK/,
    ]);
    s.account.deliver('Rec', message({ subject: 'new one' }));
    await a.expect('r2 NOOP', ['* 2 EXISTS', '* 1 RECENT', 'r2 OK Noop completed.']);
    await a.expect('r3 FETCH 1:2 (FLAGS)', [
      '* 1 FETCH (FLAGS ())',
      '* 2 FETCH (FLAGS (\\Recent))',
      'r3 OK Fetch completed.',
    ]);
    await a.expect('r4 SEARCH RECENT', ['* SEARCH 2', 'r4 OK Search completed.']);
    await a.expect('r5 SEARCH NEW', ['* SEARCH 2', 'r5 OK Search completed.']);
    await a.expect('r6 SEARCH OLD', ['* SEARCH 1', 'r6 OK Search completed.']);
    // Another session selecting it later does not see it as recent.
    await b.expect('r7 STATUS Rec (RECENT)', ['* STATUS Rec (RECENT 0)', 'r7 OK Status completed.']);
    s.account.deliver('Rec', message({ subject: 'third' }));
    // Not told to anyone yet: STATUS counts it, the next SELECT claims it.
    await b.expect('r8 STATUS Rec (RECENT)', ['* STATUS Rec (RECENT 1)', 'r8 OK Status completed.']);
    await b.expect('r9 SELECT Rec', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 3 EXISTS',
      '* 1 RECENT',
      /UNSEEN 1/,
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^r9 OK/,
    ]);
    await b.expect('r10 FETCH 3 (FLAGS)', ['* 3 FETCH (FLAGS (\\Recent))', 'r10 OK Fetch completed.']);
    await a.expect('r11 NOOP', ['* 3 EXISTS', '* 1 RECENT', 'r11 OK Noop completed.']);
    await a.expect('r12 FETCH 3 (FLAGS)', ['* 3 FETCH (FLAGS ())', 'r12 OK Fetch completed.']);
    await b.expect('r13 STORE 3 +FLAGS (\\Seen)', [
      '* 3 FETCH (FLAGS (\\Seen \\Recent))',
      'r13 OK Store completed.',
    ]);
    await b.expect('r14 SEARCH NEW', ['* SEARCH', 'r14 OK Search completed.']);
    a.close();
    b.close();
  });

  it('item 5: CREATE does not subscribe, DELETE keeps the subscription, LSUB/LIST (SUBSCRIBED) list it', async () => {
    const c = await s.login();
    await c.expect('u1 CREATE Sub5/child', [/^u1 OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Create completed\.$/]);
    const lsub = (r: string[]): string[] => r.filter((l) => l.includes('Sub5'));
    assert.deepEqual(lsub(await c.cmd('u2 LSUB "" *')), []);
    await c.expect('u3 SUBSCRIBE Sub5/child', ['u3 OK Subscribe completed.']);
    await c.expect('u4 DELETE Sub5/child', ['u4 OK Delete completed.']);
    assert.deepEqual(lsub(await c.cmd('u5 LSUB "" *')), ['* LSUB (\\Noselect) "/" Sub5/child']);
    assert.deepEqual(lsub(await c.cmd('u6 LIST (SUBSCRIBED) "" *')), [
      '* LIST (\\NonExistent \\Subscribed) "/" Sub5/child',
    ]);
    // Plain LIST shows mailboxes only.
    assert.deepEqual(lsub(await c.cmd('u7 LIST "" *')), ['* LIST (\\HasNoChildren) "/" Sub5']);
    // Re-created, it is subscribed (the subscription was never removed).
    await c.cmd('u8 CREATE Sub5/child');
    assert.deepEqual(lsub(await c.cmd('u9 LSUB "" *')), ['* LSUB () "/" Sub5/child']);
    await c.expect('u10 UNSUBSCRIBE Sub5/child', ['u10 OK Unsubscribe completed.']);
    await c.expect('u11 DELETE Sub5/child', ['u11 OK Delete completed.']);
    assert.deepEqual(lsub(await c.cmd('u12 LSUB "" *')), []);
    await c.expect('u13 UNSUBSCRIBE never-was', ['u13 OK Unsubscribe completed.']);
    c.close();
  });
});
