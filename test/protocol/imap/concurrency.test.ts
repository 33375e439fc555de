/**
 * Several connections on one mailbox (RFC 3501 §7.4.1, RFC 9051 §7.5.1): EXISTS, EXPUNGE and FETCH
 * FLAGS reach the other sessions only when allowed — never EXPUNGE during FETCH, STORE or SEARCH;
 * at once during IDLE; on NOOP, CHECK and UID commands. Changes from outside IMAP (sync, import)
 * reach IDLE at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

describe('multi-connection updates', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    for (let i = 1; i <= 4; i++) s.account.deliver('INBOX', message({ subject: `m${i}` }));
  });
  after(() => s.close());

  it('EXPUNGE by another session waits through FETCH/STORE/SEARCH and comes on NOOP', async () => {
    const a = await s.login();
    const b = await s.login();
    await a.cmd('a0 SELECT INBOX');
    await b.cmd('b0 SELECT INBOX');
    await a.expect('a1 STORE 2 +FLAGS.SILENT (\\Deleted)', ['a1 OK Store completed.']);
    await a.expect('a2 EXPUNGE', ['* 2 EXPUNGE', 'a2 OK Expunge completed.']);
    // b still sees 4 messages; message 2 is a ghost until b is told.
    await b.expect('b1 FETCH 1:4 (UID)', [
      '* 1 FETCH (UID 1)',
      '* 3 FETCH (UID 3)',
      '* 4 FETCH (UID 4)',
      '* 2 FETCH (UID 2 FLAGS (\\Deleted))',
      'b1 OK Fetch completed.',
    ]);
    await b.expect('b2 SEARCH ALL', ['* SEARCH 1 2 3 4', 'b2 OK Search completed.']);
    await b.expect('b3 STORE 4 +FLAGS (\\Seen)', ['* 4 FETCH (FLAGS (\\Seen))', 'b3 OK Store completed.']);
    // a gets b's flag change (no expunge involved) after its next command.
    await a.expect('a3 NOOP', ['* 3 FETCH (UID 4 FLAGS (\\Seen))', 'a3 OK Noop completed.']);
    // UID commands may carry the EXPUNGE.
    await b.expect('b4 UID FETCH 4 (UID)', [
      '* 4 FETCH (UID 4)',
      '* 2 EXPUNGE',
      'b4 OK UID Fetch completed.',
    ]);
    await b.expect('b5 FETCH 3 (UID)', ['* 3 FETCH (UID 4)', 'b5 OK Fetch completed.']);
    a.close();
    b.close();
  });

  it('new mail: EXISTS after FETCH is allowed; NOOP and CHECK deliver', async () => {
    const a = await s.login();
    const b = await s.login();
    await a.cmd('a0 SELECT INBOX');
    await b.cmd('b0 SELECT INBOX');
    const c = (await a.cmd('a1 STATUS INBOX (MESSAGES)'))[0]!;
    const n = Number(/MESSAGES (\d+)/.exec(c)![1]);
    s.account.deliver('INBOX', message({ subject: 'fresh' }));
    await a.expect('a2 FETCH 1 (UID)', [
      /^\* 1 FETCH \(UID \d+\)$/,
      `* ${n + 1} EXISTS`,
      '* 1 RECENT',
      'a2 OK Fetch completed.',
    ]);
    // a was told first: the message is recent there only (RFC 3501 §2.3.2).
    await b.expect('b1 CHECK', [`* ${n + 1} EXISTS`, '* 0 RECENT', 'b1 OK Check completed.']);
    await b.expect('b2 NOOP', ['b2 OK Noop completed.']);
    a.close();
    b.close();
  });

  it('IDLE pushes EXISTS, EXPUNGE and FLAGS at once, from IMAP and from outside', async () => {
    const a = await s.login();
    const b = await s.login();
    await a.cmd('a0 SELECT INBOX');
    const sel = await b.cmd('b0 SELECT INBOX');
    const n = Number(/^\* (\d+) EXISTS$/.exec(sel.find((l) => l.endsWith('EXISTS'))!)![1]);
    a.write('a1 IDLE\r\n');
    assert.equal(await a.readLine(), '+ idling');
    // From outside IMAP (sync / import path).
    s.account.deliver('INBOX', message({ subject: 'pushed' }));
    await a.expectLines([`* ${n + 1} EXISTS`, '* 1 RECENT']);
    // From another session (b learns about the new message first).
    await b.expect('b0b NOOP', [`* ${n + 1} EXISTS`, '* 0 RECENT', 'b0b OK Noop completed.']);
    await b.cmd(`b1 STORE ${n + 1} +FLAGS (\\Flagged \\Deleted)`);
    await a.expectLines([/^\* \d+ FETCH \(UID \d+ FLAGS \(\\Flagged \\Deleted \\Recent\)\)$/]);
    await b.cmd('b2 EXPUNGE');
    await a.expectLines([`* ${n + 1} EXPUNGE`]);
    assert.ok(await a.silent(50));
    a.write('DONE\r\n');
    assert.equal(await a.readLine(), 'a1 OK Idle completed.');
    await a.expect('a2 NOOP', ['a2 OK Noop completed.']);
    a.write('a3 IDLE\r\n');
    assert.equal(await a.readLine(), '+ idling');
    a.write('NOTDONE\r\n');
    assert.equal(await a.readLine(), 'a3 BAD Expected DONE.');
    a.close();
    b.close();
  });

  it('deleting a mailbox another session has selected ends that session', async () => {
    const a = await s.login();
    const b = await s.login();
    await a.cmd('a0 CREATE Doomed');
    await b.cmd('b0 SELECT Doomed');
    await a.expect('a1 DELETE Doomed', ['a1 OK Delete completed.']);
    await b.expect('b1 NOOP', ['b1 OK Noop completed.']);
    assert.equal(await b.readLine(), '* BYE Selected mailbox was deleted, have to disconnect.');
    await b.waitClosed();
    a.close();
  });
});
