/**
 * CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4), issue 15 item 16: PARTIAL results, UPDATE with
 * ADDTO / REMOVEFROM as the mailbox changes (REMOVEFROM before the EXPUNGE, ADDTO after the EXISTS),
 * NOUPDATE, CANCELUPDATE. The exchanges follow the RFC's examples (§4.2 A01, §4.3 B01..B03,
 * §4.3.1 B02, §4.4 A01..A03) on a small mailbox.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient, TestServer } from '../../helpers/imap-transcript.ts';

function day(d: number): string {
  return `Mon, ${String(d).padStart(2, '0')} Nov 2026 09:00:00 +0000`;
}

describe('CONTEXT=SEARCH / CONTEXT=SORT (RFC 5267)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  /** A new mailbox with messages dated `days` (message n on day days[n-1]). */
  async function mailbox(name: string, days: number[]): Promise<ImapTestClient> {
    const c = await s.login();
    await c.cmd(`m0 CREATE ${name}`);
    for (const d of days) s.account.deliver(name, message({ subject: `d${d}`, date: day(d) }));
    await c.cmd(`m1 SELECT ${name}`);
    return c;
  }

  it('advertises CONTEXT=SEARCH and CONTEXT=SORT; CONTEXT is a hint (§4.2)', async () => {
    const c = await mailbox('Ctx1', [1, 2, 3]);
    await c.expect('c1 CAPABILITY', [/ ESORT CONTEXT=SEARCH CONTEXT=SORT /, 'c1 OK Capability completed.']);
    await c.cmd('c2 STORE 2 +FLAGS.SILENT ($Junk)');
    await c.expect('A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk', [
      '* ESEARCH (TAG "A01") COUNT 2',
      'A01 OK Search completed.',
    ]);
    c.close();
  });

  it('PARTIAL: a window of the result in mailbox or sort order, NIL past the end (§4.4)', async () => {
    const c = await mailbox('Ctx2', [5, 1, 4, 2, 3, 6]);
    await c.cmd('p0 STORE 6 +FLAGS.SILENT (\\Deleted)');
    await c.expect('A01 UID SEARCH RETURN (PARTIAL 1:3) UNDELETED', [
      '* ESEARCH (TAG "A01") UID PARTIAL (1:3 1:3)',
      'A01 OK UID Search completed.',
    ]);
    await c.expect('A02 UID SEARCH RETURN (PARTIAL 5:4 COUNT) UNDELETED', [
      '* ESEARCH (TAG "A02") UID COUNT 5 PARTIAL (4:5 4:5)',
      'A02 OK UID Search completed.',
    ]);
    await c.expect('A03 UID SEARCH RETURN (PARTIAL 24000:24500) UNDELETED', [
      '* ESEARCH (TAG "A03") UID PARTIAL (24000:24500 NIL)',
      'A03 OK UID Search completed.',
    ]);
    // By date: 2 4 5 3 1 (6 is deleted); the second pair of that order.
    await c.expect('A04 SORT RETURN (PARTIAL 3:4) (DATE) UTF-8 UNDELETED', [
      '* ESEARCH (TAG "A04") PARTIAL (3:4 5,3)',
      'A04 OK Sort completed.',
    ]);
    await c.expect('A05 SEARCH RETURN (PARTIAL 1:2 ALL) ALL', [/^A05 BAD /]);
    await c.expect('A06 SEARCH RETURN (PARTIAL 0:2) ALL', [/^A06 BAD /]);
    await c.expect('A07 SEARCH RETURN (PARTIAL 1:*) ALL', [/^A07 BAD /]);
    c.close();
  });

  it('UPDATE on UID SEARCH: ADDTO after EXISTS and flag changes, REMOVEFROM before EXPUNGE (§4.3)', async () => {
    const c = await mailbox('Ctx3', [1, 2, 3, 4]);
    const other = await s.login();
    await other.cmd('o0 SELECT Ctx3');
    await c.cmd('b0 STORE 1 +FLAGS.SILENT (\\Deleted $Junk)');
    await c.expect('B01 UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk', [
      '* ESEARCH (TAG "B01") UID COUNT 1',
      'B01 OK UID Search completed.',
    ]);
    // Another session marks 2 and 3: both join the result.
    await other.cmd('o1 STORE 2:3 +FLAGS.SILENT (\\Deleted $Junk)');
    await c.expect('b1 NOOP', [
      '* 2 FETCH (UID 2 FLAGS (\\Deleted $Junk))',
      '* 3 FETCH (UID 3 FLAGS (\\Deleted $Junk))',
      '* ESEARCH (TAG "B01") UID ADDTO (0 2:3)',
      'b1 OK Noop completed.',
    ]);
    // A delivered message that matches: after its EXISTS.
    s.account.deliver('Ctx3', message({ subject: 'junk' }), ['\\Deleted', '$Junk']);
    await c.expect('b2 NOOP', [
      '* 5 EXISTS',
      '* 1 RECENT',
      '* ESEARCH (TAG "B01") UID ADDTO (0 5)',
      'b2 OK Noop completed.',
    ]);
    // The other session expunges: REMOVEFROM comes before the EXPUNGEs.
    await other.cmd('o2 UID EXPUNGE 2');
    await c.expect('b3 NOOP', [
      '* ESEARCH (TAG "B01") UID REMOVEFROM (0 2)',
      '* 2 EXPUNGE',
      'b3 OK Noop completed.',
    ]);
    // This session's own STORE changes the result too.
    await c.expect('b4 UID STORE 3 -FLAGS.SILENT ($Junk)', [
      '* ESEARCH (TAG "B01") UID REMOVEFROM (0 3)',
      'b4 OK UID Store completed.',
    ]);
    await c.expect('B02 UID SEARCH RETURN (UPDATE) UID 1:*', [
      '* ESEARCH (TAG "B02") UID',
      'B02 OK UID Search completed.',
    ]);
    await c.expect('B01 UID SEARCH RETURN (UPDATE) ALL', ['B01 BAD Tag reuse']);
    await c.expect('B03 CANCELUPDATE "B01"', ['B03 OK Cancelupdate completed.']);
    await other.cmd('o3 STORE 1:* +FLAGS.SILENT ($Junk)');
    await c.expect('b5 NOOP', [
      '* 2 FETCH (UID 3 FLAGS (\\Deleted $Junk))',
      '* 3 FETCH (UID 4 FLAGS ($Junk))',
      'b5 OK Noop completed.',
    ]);
    // The tag is free again.
    await c.expect('B01 UID SEARCH RETURN (COUNT UPDATE) KEYWORD $Junk', [
      '* ESEARCH (TAG "B01") UID COUNT 4',
      'B01 OK UID Search completed.',
    ]);
    other.close();
    c.close();
  });

  it('UPDATE on SEARCH speaks message numbers valid when sent; IDLE gets updates at once', async () => {
    const c = await mailbox('Ctx4', [1, 2, 3, 4, 5]);
    await c.cmd('n0 STORE 2,4 +FLAGS.SILENT (\\Flagged)');
    await c.expect('N01 SEARCH RETURN (ALL UPDATE) FLAGGED', [
      '* ESEARCH (TAG "N01") ALL 2,4',
      'N01 OK Search completed.',
    ]);
    await c.cmd('n1 STORE 1 +FLAGS.SILENT (\\Deleted)');
    await c.expect('n2 EXPUNGE', ['* 1 EXPUNGE', 'n2 OK Expunge completed.']);
    // Message 4 is now number 3.
    await c.expect('n3 STORE 3 -FLAGS.SILENT (\\Flagged)', [
      '* ESEARCH (TAG "N01") REMOVEFROM (0 3)',
      'n3 OK Store completed.',
    ]);
    c.write('n4 IDLE\r\n');
    assert.equal(await c.readLine(), '+ idling');
    s.account.deliver('Ctx4', message({ subject: 'flagged' }), ['\\Flagged']);
    await c.expectLines(['* 5 EXISTS', '* 1 RECENT', '* ESEARCH (TAG "N01") ADDTO (0 5)']);
    c.write('DONE\r\n');
    assert.equal(await c.readLine(), 'n4 OK Idle completed.');
    c.close();
  });

  it('UPDATE on SORT: ADDTO / REMOVEFROM say where in the sort order (§4.3.2 - §4.3.4)', async () => {
    // Days by message: 1→10, 2→14, 3→18, 4→22; REVERSE DATE order: 4 3 2 1.
    const c = await mailbox('Ctx5', [10, 14, 18, 22]);
    await c.expect('S01 UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 UNDELETED', [
      '* ESEARCH (TAG "S01") UID ALL 4,3,2,1',
      'S01 OK UID Sort completed.',
    ]);
    // Days 20, 21 (UIDs 5, 6) go between 4 and 3; day 5 (UID 7) last: 4 6 5 3 2 1 7.
    for (const d of [20, 21, 5]) s.account.deliver('Ctx5', message({ subject: `d${d}`, date: day(d) }));
    await c.expect('s1 NOOP', [
      '* 7 EXISTS',
      '* 3 RECENT',
      '* ESEARCH (TAG "S01") UID ADDTO (2 6,5 7 7)',
      's1 OK Noop completed.',
    ]);
    // Removing 6, 5 and 2: each pair's position as the client applies them in order.
    await c.expect('s2 UID STORE 2,5:6 +FLAGS.SILENT (\\Deleted)', [
      '* ESEARCH (TAG "S01") UID REMOVEFROM (2 6,5 3 2)',
      's2 OK UID Store completed.',
    ]);
    // 6 comes back (4 6 3 1 7); the expunge of 2 and 5, no longer in the result, changes nothing.
    await c.expect('s3 UID STORE 6 -FLAGS.SILENT (\\Deleted)', [
      '* ESEARCH (TAG "S01") UID ADDTO (2 6)',
      's3 OK UID Store completed.',
    ]);
    await c.expect('s4 EXPUNGE', ['* 5 EXPUNGE', '* 2 EXPUNGE', 's4 OK Expunge completed.']);
    await c.expect('s5 UID SORT RETURN (ALL) (REVERSE DATE) UTF-8 UNDELETED', [
      '* ESEARCH (TAG "s5") UID ALL 4,6,3,1,7',
      's5 OK UID Sort completed.',
    ]);
    c.close();
  });

  it('NOUPDATE for programs that change by themselves and past 8 contexts (§4.3.1)', async () => {
    const c = await mailbox('Ctx6', [1, 2]);
    await c.expect('B02 SEARCH RETURN (UPDATE COUNT) 1:2', [
      '* ESEARCH (TAG "B02") COUNT 2',
      '* NO [NOUPDATE "B02"] No updates for a search by message numbers',
      'B02 OK Completed, will not notify.',
    ]);
    await c.expect('B03 SEARCH RETURN (UPDATE) YOUNGER 60', [
      '* ESEARCH (TAG "B03")',
      '* NO [NOUPDATE "B03"] No updates for a search by YOUNGER / OLDER',
      'B03 OK Completed, will not notify.',
    ]);
    // `*` is the highest UID: a new message moves it, so `UID 100:*` (here UID 2, then 3) changes
    // without any change to the messages it named (`UID 1:*`, every message, keeps a context)
    await c.expect('B04 UID SEARCH RETURN (UPDATE ALL) UID 100:*', [
      '* ESEARCH (TAG "B04") UID ALL 2',
      '* NO [NOUPDATE "B04"] No updates for a search by UID *',
      'B04 OK Completed, will not notify.',
    ]);
    s.account.deliver('Ctx6', message({ subject: 'd3', date: day(3) }));
    await c.expect('B05 NOOP', ['* 3 EXISTS', '* 1 RECENT', 'B05 OK Noop completed.']);
    for (let i = 1; i <= 8; i++) await c.cmd(`K${i} SEARCH RETURN (UPDATE) ALL`);
    await c.expect('K9 UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL', [
      '* ESEARCH (TAG "K9") UID COUNT 3',
      '* NO [NOUPDATE "K9"] Too many contexts',
      'K9 OK Completed, will not notify.',
    ]);
    // A new SELECT ends every context.
    await c.cmd('k10 SELECT Ctx6');
    await c.expect('K1 SEARCH RETURN (UPDATE) ALL', ['* ESEARCH (TAG "K1")', 'K1 OK Search completed.']);
    c.close();
  });
});
