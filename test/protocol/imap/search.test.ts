/** Transcripts: SEARCH (every RFC 3501 key), CHARSET, MODSEQ, ESEARCH RETURN, SORT, THREAD. */
import { after, before, describe, it } from 'node:test';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient, TestServer } from '../../helpers/imap-transcript.ts';

const D = (day: number): number => Date.UTC(2026, 0, day, 12);

describe('SEARCH, SORT, THREAD', () => {
  let s: TestServer;
  let c: ImapTestClient;
  before(async () => {
    s = await startTestServer();
    const a = s.account;
    a.deliver(
      'INBOX',
      message({
        subject: 'Project plan',
        from: 'Zed <zed@example.test>',
        date: 'Mon, 05 Jan 2026 10:00:00 +0000',
        messageId: '<p1@x>',
        body: 'the quick brown fox',
      }),
      ['\\Seen'],
      D(5),
    );
    a.deliver(
      'INBOX',
      message({
        subject: 'Re: Project plan',
        from: 'Amy <amy@example.test>',
        to: 'bob@example.test',
        date: 'Tue, 06 Jan 2026 10:00:00 +0000',
        messageId: '<p2@x>',
        headers: ['In-Reply-To: <p1@x>', 'References: <p1@x>', 'Cc: carl@example.test'],
        body: 'lazy dog',
      }),
      ['\\Answered', '$Work'],
      D(6),
    );
    a.deliver(
      'INBOX',
      message({
        subject: 'Lunch',
        from: 'Bob <bob@example.test>',
        date: 'Wed, 07 Jan 2026 10:00:00 +0000',
        messageId: '<l1@x>',
        headers: ['X-Mailer: tester'],
        body: 'pizza '.repeat(100),
      }),
      ['\\Flagged', '\\Deleted'],
      D(7),
    );
    a.deliver(
      'INBOX',
      message({
        subject: 'Re: Re: Project plan',
        from: 'Zed <zed@example.test>',
        date: 'Thu, 08 Jan 2026 10:00:00 +0000',
        messageId: '<p3@x>',
        headers: ['In-Reply-To: <p2@x>', 'References: <p1@x> <p2@x>'],
        body: 'Grüße aus Köln',
      }),
      ['\\Draft'],
      D(8),
    );
    c = await s.login();
    await c.cmd('s SELECT INBOX');
  });
  after(async () => {
    c.close();
    await s.close();
  });

  const cases: Array<[string, string]> = [
    ['ALL', '1 2 3 4'],
    ['ANSWERED', '2'],
    ['UNANSWERED', '1 3 4'],
    ['DELETED', '3'],
    ['UNDELETED', '1 2 4'],
    ['DRAFT', '4'],
    ['UNDRAFT', '1 2 3'],
    ['FLAGGED', '3'],
    ['UNFLAGGED', '1 2 4'],
    ['SEEN', '1'],
    ['UNSEEN', '2 3 4'],
    ['NEW', ''],
    ['OLD', '1 2 3 4'],
    ['RECENT', ''],
    ['KEYWORD $work', '2'],
    ['UNKEYWORD $Work', '1 3 4'],
    ['FROM zed', '1 4'],
    ['TO bob', '2'],
    ['CC carl', '2'],
    ['BCC nobody', ''],
    ['SUBJECT "project PLAN"', '1 2 4'],
    ['HEADER X-Mailer tester', '3'],
    ['HEADER In-Reply-To ""', '2 4'],
    ['BODY pizza', '3'],
    ['TEXT carl@example', '2'],
    ['CHARSET UTF-8 BODY "Köln"', '4'],
    ['BEFORE 7-Jan-2026', '1 2'],
    ['ON 7-Jan-2026', '3'],
    ['SINCE 7-Jan-2026', '3 4'],
    ['SENTBEFORE 6-Jan-2026', '1'],
    ['SENTON 6-Jan-2026', '2'],
    ['SENTSINCE 8-Jan-2026', '4'],
    ['LARGER 500', '3'],
    ['SMALLER 300', '1 2 4'],
    ['2:3', '2 3'],
    ['UID 3:*', '3 4'],
    ['NOT SEEN', '2 3 4'],
    ['OR SEEN FLAGGED', '1 3'],
    ['(OR SEEN DRAFT) FROM zed', '1 4'],
    ['5', ''],
  ];
  it('every search key', async () => {
    let n = 0;
    for (const [q, want] of cases) {
      n++;
      await c.expect(`k${n} SEARCH ${q}`, [
        `* SEARCH${want ? ' ' + want : ''}`,
        `k${n} OK Search completed.`,
      ]);
    }
  });

  it('SEARCH with sequence sets in an empty mailbox matches nothing', async () => {
    const e = await s.login();
    await e.cmd('x0 SELECT Trash');
    await e.expect('x1 SEARCH 1:*', ['* SEARCH', 'x1 OK Search completed.']);
    await e.expect('x2 UID SEARCH UID 1:*', ['* SEARCH', 'x2 OK UID Search completed.']);
    await e.expect('x3 UID FETCH 1:* (FLAGS)', ['x3 OK UID Fetch completed.']);
    e.close();
  });

  it('UID SEARCH, CHARSET errors, bad keys', async () => {
    await c.expect('u1 UID SEARCH FROM zed', ['* SEARCH 1 4', 'u1 OK UID Search completed.']);
    await c.expect('u2 SEARCH CHARSET KOI8-R ALL', [
      'u2 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset',
    ]);
    await c.expect('u3 SEARCH BOGUS', ['u3 BAD Unknown search key BOGUS']);
    await c.expect('u4 SEARCH SINCE yesterday', ['u4 BAD Invalid date']);
  });

  it('ESEARCH RETURN and MODSEQ', async () => {
    await c.expect('e1 SEARCH RETURN (MIN MAX COUNT) UNSEEN', [
      '* ESEARCH (TAG "e1") MIN 2 MAX 4 COUNT 3',
      'e1 OK Search completed.',
    ]);
    await c.expect('e2 UID SEARCH RETURN () FROM zed', [
      '* ESEARCH (TAG "e2") UID ALL 1,4',
      'e2 OK UID Search completed.',
    ]);
    await c.expect('e3 SEARCH RETURN (COUNT) NEW', [
      '* ESEARCH (TAG "e3") COUNT 0',
      'e3 OK Search completed.',
    ]);
    // The first CONDSTORE-enabling command in a selected mailbox gets HIGHESTMODSEQ (RFC 7162 §3.1).
    await c.expect('e4 SEARCH MODSEQ 4', [
      '* OK [HIGHESTMODSEQ 5] Highest',
      '* SEARCH 3 4 (MODSEQ 5)',
      'e4 OK Search completed.',
    ]);
  });

  it('SORT by every key, with REVERSE', async () => {
    await c.expect('o1 SORT (SUBJECT) UTF-8 ALL', ['* SORT 3 1 2 4', 'o1 OK Sort completed.']);
    await c.expect('o2 SORT (FROM DATE) UTF-8 ALL', ['* SORT 2 3 1 4', 'o2 OK Sort completed.']);
    await c.expect('o3 SORT (REVERSE ARRIVAL) UTF-8 ALL', ['* SORT 4 3 2 1', 'o3 OK Sort completed.']);
    await c.expect(
      'o4 SORT (REVERSE SIZE) US-ASCII UNDELETED',
      ['* SORT 2 4 1', 'o4 OK Sort completed.'].map((x) => x),
    );
    await c.expect('o5 UID SORT (TO CC) UTF-8 ALL', ['* SORT 1 3 4 2', 'o5 OK UID Sort completed.']);
    await c.expect('o6 SORT (BOGUS) UTF-8 ALL', ['o6 BAD Invalid sort criterion']);
  });

  it('THREAD ORDEREDSUBJECT and REFERENCES', async () => {
    await c.expect('t1 THREAD ORDEREDSUBJECT UTF-8 ALL', [
      '* THREAD (1 (2)(4))(3)',
      't1 OK Thread completed.',
    ]);
    await c.expect('t2 THREAD REFERENCES UTF-8 ALL', ['* THREAD (1 2 4)(3)', 't2 OK Thread completed.']);
    await c.expect('t3 UID THREAD REFERENCES UTF-8 NOT DELETED', [
      '* THREAD (1 2 4)',
      't3 OK UID Thread completed.',
    ]);
    await c.expect('t4 THREAD BOGUS UTF-8 ALL', ['t4 BAD Unknown threading algorithm']);
  });
});
