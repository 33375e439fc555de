/**
 * ESORT (RFC 5267 §3), issue 15 item 16: `SORT RETURN (...)` answers ESEARCH; MIN and MAX are the
 * first and last message in sort order, ALL keeps the sort order and uses a range only where the
 * numbers ascend (§3.2). After the RFC's §3.3 example (`UID SORT RETURN () (REVERSE DATE) UTF-8
 * UNDELETED UNKEYWORD $Junk`) on a small mailbox; also SAVE (RFC 5182) and MODSEQ (RFC 7162).
 */
import { after, before, describe, it } from 'node:test';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient, TestServer } from '../../helpers/imap-transcript.ts';

describe('ESORT (RFC 5267)', () => {
  let s: TestServer;
  let c: ImapTestClient;
  before(async () => {
    s = await startTestServer();
    c = await s.login();
    await c.cmd('p0 CREATE Esort');
    // Dates: message 1 oldest ... the order below is by day; 3 is $Junk, 6 is \Deleted.
    const days = [1, 2, 9, 3, 4, 8, 7, 5];
    days.forEach((d, i) => {
      const flags = i === 2 ? ['$Junk'] : i === 5 ? ['\\Deleted'] : [];
      s.account.deliver(
        'Esort',
        message({ subject: `m${i + 1}`, date: `Mon, ${String(d).padStart(2, '0')} Nov 2026 09:00:00 +0000` }),
        flags,
      );
    });
    await c.cmd('p1 SELECT Esort');
  });
  after(async () => {
    c.close();
    await s.close();
  });

  it('advertises ESORT', async () => {
    await c.expect('c1 CAPABILITY', [/ ESEARCH ESORT /, 'c1 OK Capability completed.']);
  });

  it('RETURN () is ALL, in sort order, ranges only where the numbers ascend (§3.2, §3.3)', async () => {
    // Sort order by date, newest first, without 3 ($Junk) and 6 (\Deleted): 7 8 5 4 2 1.
    await c.expect('E01 UID SORT RETURN () (REVERSE DATE) UTF-8 UNDELETED UNKEYWORD $Junk', [
      '* ESEARCH (TAG "E01") UID ALL 7:8,5,4,2,1',
      'E01 OK UID Sort completed.',
    ]);
    // Oldest first: 1 2 4 5 8 7 — the ascending runs may be ranges.
    await c.expect('E02 SORT RETURN (ALL) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk', [
      '* ESEARCH (TAG "E02") ALL 1:2,4:5,8,7',
      'E02 OK Sort completed.',
    ]);
    // The plain SORT answer is unchanged.
    await c.expect('E03 SORT (DATE) UTF-8 UNDELETED UNKEYWORD $Junk', [
      '* SORT 1 2 4 5 8 7',
      'E03 OK Sort completed.',
    ]);
  });

  it('MIN and MAX are the first and last sorted message; COUNT as in ESEARCH', async () => {
    await c.expect('E04 SORT RETURN (MIN MAX COUNT) (REVERSE DATE) UTF-8 UNDELETED UNKEYWORD $Junk', [
      '* ESEARCH (TAG "E04") MIN 7 MAX 1 COUNT 6',
      'E04 OK Sort completed.',
    ]);
    await c.expect('E05 UID SORT RETURN (MAX) (SUBJECT) UTF-8 ALL', [
      '* ESEARCH (TAG "E05") UID MAX 8',
      'E05 OK UID Sort completed.',
    ]);
    await c.expect('E06 SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 SUBJECT nothing-like-this', [
      '* ESEARCH (TAG "E06") COUNT 0',
      'E06 OK Sort completed.',
    ]);
    await c.expect('E07 SORT RETURN (BOGUS) (DATE) UTF-8 ALL', [/^E07 BAD /]);
    await c.expect('E08 SORT RETURN (DATE) UTF-8 ALL', [/^E08 BAD /]);
  });

  it('SAVE keeps the sorted result as $ (MIN alone: just that message)', async () => {
    await c.expect('E09 SORT RETURN (SAVE) (REVERSE DATE) UTF-8 UNDELETED', ['E09 OK Sort completed.']);
    await c.expect('E10 SEARCH $', ['* SEARCH 1 2 3 4 5 7 8', 'E10 OK Search completed.']);
    await c.expect('E11 SORT RETURN (MIN SAVE) (REVERSE DATE) UTF-8 UNDELETED', [
      '* ESEARCH (TAG "E11") MIN 3',
      'E11 OK Sort completed.',
    ]);
    await c.expect('E12 FETCH $ (UID)', ['* 3 FETCH (UID 3)', 'E12 OK Fetch completed.']);
  });

  it('MODSEQ: of the returned messages (ESEARCH) and of all matches (SORT), RFC 7162 §3.1.5', async () => {
    // Delivered into a new mailbox (mod-sequence 1): message n has mod-sequence n + 1.
    await c.expect('E13 SORT RETURN (MIN) (DATE) UTF-8 MODSEQ 1', [
      '* OK [HIGHESTMODSEQ 9] Highest',
      '* ESEARCH (TAG "E13") MIN 1 MODSEQ 2',
      'E13 OK Sort completed.',
    ]);
    await c.expect('E14 STORE 2 +FLAGS (\\Flagged)', [
      '* 2 FETCH (FLAGS (\\Flagged) MODSEQ (10))',
      'E14 OK Store completed.',
    ]);
    // Mod-sequence 5 and up: messages 4 to 8 and 2; by date 2 4 5 8 7 6.
    await c.expect('E15 SORT (DATE) UTF-8 MODSEQ 5', [
      '* SORT 2 4 5 8 7 6 (MODSEQ 10)',
      'E15 OK Sort completed.',
    ]);
    await c.expect('E16 SORT RETURN (MAX) (DATE) UTF-8 MODSEQ 5', [
      '* ESEARCH (TAG "E16") MAX 6 MODSEQ 7',
      'E16 OK Sort completed.',
    ]);
    await c.expect('E17 SORT RETURN (MIN MAX) (DATE) UTF-8 MODSEQ 5', [
      '* ESEARCH (TAG "E17") MIN 2 MAX 6 MODSEQ 10',
      'E17 OK Sort completed.',
    ]);
  });
});
