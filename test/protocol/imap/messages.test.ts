/** Transcripts: APPEND (LITERAL+, sync literal, MULTIAPPEND, APPENDUID), STORE, COPY, MOVE, EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, CHECK. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

const M1 = message({ subject: 'first' });
const M2 = message({ subject: 'second', messageId: '<m2@example.test>' });

describe('APPEND', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ maxMessageSize: 1000 });
  });
  after(() => s.close());

  it('APPEND with LITERAL+, flags and internal date returns APPENDUID', async () => {
    const c = await s.login();
    c.write(`a1 APPEND Sent (\\Seen $Label1) "05-Mar-2025 14:30:00 +0200" {${M1.length}+}\r\n${M1}\r\n`);
    assert.deepEqual(await c.until('a1'), ['a1 OK [APPENDUID 1002 1] Append completed.']);
    await c.expect('a2 SELECT Sent', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 1 EXISTS',
      '* 0 RECENT',
      /UIDVALIDITY 1002/,
      /UIDNEXT 2/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^a2 OK/,
    ]);
    await c.expect('a3 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted.',
      `* 1 FETCH (FLAGS (\\Seen $Label1) INTERNALDATE " 5-Mar-2025 12:30:00 +0000" RFC822.SIZE ${M1.length})`,
      'a3 OK Fetch completed.',
    ]);
    c.close();
  });

  it('APPEND with a synchronizing literal waits for the continuation; EXISTS reaches the selecting session', async () => {
    const c = await s.login();
    await c.expect('b0 SELECT INBOX', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 0 EXISTS',
      '* 0 RECENT',
      /UIDVALIDITY 1000/,
      /UIDNEXT 1/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^b0 OK/,
    ]);
    c.write(`b1 APPEND INBOX {${M1.length}}\r\n`);
    assert.equal(await c.readLine(), '+ Ready for literal data');
    c.write(`${M1}\r\n`);
    assert.deepEqual(await c.until('b1'), [
      '* 1 EXISTS',
      '* 1 RECENT',
      'b1 OK [APPENDUID 1000 1] Append completed.',
    ]);
    c.close();
  });

  it('MULTIAPPEND stores all messages atomically', async () => {
    const c = await s.login();
    c.write(`c1 APPEND Drafts (\\Draft) {${M1.length}+}\r\n${M1} (\\Seen) {${M2.length}+}\r\n${M2}\r\n`);
    assert.deepEqual(await c.until('c1'), ['c1 OK [APPENDUID 1001 1:2] Append completed.']);
    const big = 'x'.repeat(2000);
    c.write(`c2 APPEND Drafts {${M1.length}+}\r\n${M1} {${big.length}+}\r\n${big}\r\n`);
    assert.deepEqual(await c.until('c2'), ['c2 NO [TOOBIG] Message too big']);
    await c.expect('c3 STATUS Drafts (MESSAGES UIDNEXT)', [
      '* STATUS Drafts (MESSAGES 2 UIDNEXT 3)',
      'c3 OK Status completed.',
    ]);
    c.close();
  });

  it('APPEND errors: TRYCREATE, bad date, bad flag', async () => {
    const c = await s.login();
    c.write(`d1 APPEND Nope {${M1.length}+}\r\n${M1}\r\n`);
    assert.deepEqual(await c.until('d1'), ['d1 NO [TRYCREATE] Mailbox does not exist']);
    c.write(`d2 APPEND INBOX "31-Foo-2025 00:00:00 +0000" {${M1.length}+}\r\n${M1}\r\n`);
    assert.deepEqual(await c.until('d2'), ['d2 BAD Invalid date-time']);
    c.write(`d3 APPEND INBOX (\\Bogus) {${M1.length}+}\r\n${M1}\r\n`);
    assert.deepEqual(await c.until('d3'), ['d3 BAD Invalid system flag \\Bogus']);
    c.close();
  });
});

describe('STORE, COPY, MOVE, EXPUNGE', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    for (let i = 1; i <= 5; i++)
      s.account.deliver('INBOX', message({ subject: `m${i}`, messageId: `<m${i}@x>` }));
  });
  after(() => s.close());

  it('STORE FLAGS / +FLAGS / -FLAGS / .SILENT and UID STORE', async () => {
    const c = await s.login();
    await c.cmd('s SELECT INBOX');
    await c.expect('a1 STORE 1 +FLAGS (\\Seen \\Flagged)', [
      '* 1 FETCH (FLAGS (\\Seen \\Flagged))',
      'a1 OK Store completed.',
    ]);
    await c.expect('a2 STORE 1 -FLAGS \\Flagged', ['* 1 FETCH (FLAGS (\\Seen))', 'a2 OK Store completed.']);
    await c.expect('a3 STORE 1:2 FLAGS ($Junk)', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk \\*)] Flags permitted.',
      '* 1 FETCH (FLAGS ($Junk))',
      '* 2 FETCH (FLAGS ($Junk))',
      'a3 OK Store completed.',
    ]);
    await c.expect('a4 STORE 2 +FLAGS.SILENT (\\Deleted)', ['a4 OK Store completed.']);
    await c.expect('a5 UID STORE 2 +FLAGS (\\Answered)', [
      '* 2 FETCH (UID 2 FLAGS ($Junk \\Deleted \\Answered))',
      'a5 OK UID Store completed.',
    ]);
    await c.expect('a6 STORE 1 +FLAGS (\\Recent)', ['* 1 FETCH (FLAGS ($Junk))', 'a6 OK Store completed.']);
    await c.expect('a7 STORE 1 +FLAGS (\\Bogus)', ['a7 BAD Invalid system flag \\Bogus']);
    await c.expect('a8 STORE 1 XFLAGS (\\Seen)', ['a8 BAD Invalid STORE data item']);
    await c.expect('a9 STORE 1 -FLAGS ($junk)', ['* 1 FETCH (FLAGS ())', 'a9 OK Store completed.']);
    c.close();
  });

  it('STORE UNCHANGEDSINCE reports MODIFIED', async () => {
    const c = await s.login();
    await c.cmd('s SELECT INBOX (CONDSTORE)');
    const r = await c.cmd('b0 FETCH 3:4 (MODSEQ)');
    const ms3 = Number(/MODSEQ \((\d+)\)/.exec(r[0]!)![1]);
    const ms4 = Number(/MODSEQ \((\d+)\)/.exec(r[1]!)![1]);
    await c.expect(`b1 STORE 3 (UNCHANGEDSINCE ${ms3}) +FLAGS (\\Flagged)`, [
      /^\* 3 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/,
      'b1 OK Store completed.',
    ]);
    await c.expect(`b2 UID STORE 3:4 (UNCHANGEDSINCE ${ms4}) +FLAGS (\\Seen)`, [
      /^\* 4 FETCH \(UID 4 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/,
      'b2 OK [MODIFIED 3] Conditional store failed.',
    ]);
    await c.expect(`b3 STORE 4 (UNCHANGEDSINCE ${ms4}) +FLAGS.SILENT (\\Flagged)`, [
      'b3 OK [MODIFIED 4] Conditional store failed.',
    ]);
    c.close();
  });

  it('COPY and MOVE answer COPYUID; MOVE expunges; TRYCREATE for a missing target', async () => {
    const c = await s.login();
    await c.cmd('s SELECT INBOX');
    await c.expect('c1 COPY 4:5 Trash', ['c1 OK [COPYUID 1003 4:5 1:2] Copy completed.']);
    await c.expect('c2 COPY 1 Nope', ['c2 NO [TRYCREATE] Mailbox does not exist']);
    await c.expect('c3 UID MOVE 5 Junk', [
      '* OK [COPYUID 1004 5 1] Moved UIDs.',
      '* 5 EXPUNGE',
      'c3 OK Move completed.',
    ]);
    await c.expect('c4 MOVE 1 Junk', [
      '* OK [COPYUID 1004 1 2] Moved UIDs.',
      '* 1 EXPUNGE',
      'c4 OK Move completed.',
    ]);
    await c.expect('c5 STATUS Junk (MESSAGES)', ['* STATUS Junk (MESSAGES 2)', 'c5 OK Status completed.']);
    c.close();
  });

  it('EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, CHECK', async () => {
    for (let i = 6; i <= 9; i++) s.account.deliver('Sent', message({ subject: `s${i}` }));
    const c = await s.login();
    await c.cmd('s SELECT Sent');
    await c.expect('d1 STORE 1:4 +FLAGS.SILENT (\\Deleted)', ['d1 OK Store completed.']);
    await c.expect('d2 UID EXPUNGE 2:3', ['* 3 EXPUNGE', '* 2 EXPUNGE', 'd2 OK UID Expunge completed.']);
    await c.expect('d3 CHECK', ['d3 OK Check completed.']);
    await c.expect('d4 UNSELECT', ['d4 OK Unselect completed.']);
    await c.expect('d5 STATUS Sent (MESSAGES)', ['* STATUS Sent (MESSAGES 2)', 'd5 OK Status completed.']);
    await c.expect('d6 EXAMINE Sent', [
      /FLAGS/,
      /PERMANENTFLAGS/,
      '* 2 EXISTS',
      /RECENT/,
      /UNSEEN/,
      /UIDVALIDITY/,
      /UIDNEXT/,
      /HIGHESTMODSEQ/,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      /^d6 OK \[READ-ONLY\]/,
    ]);
    await c.expect('d7 EXPUNGE', ['d7 NO [READ-ONLY] Mailbox is read-only.']);
    await c.expect('d8 CLOSE', ['d8 OK Close completed.']);
    await c.expect('d9 STATUS Sent (MESSAGES)', ['* STATUS Sent (MESSAGES 2)', 'd9 OK Status completed.']);
    await c.cmd('d10 SELECT Sent');
    await c.expect('d11 CLOSE', ['d11 OK Close completed.']);
    await c.expect('d12 STATUS Sent (MESSAGES)', ['* STATUS Sent (MESSAGES 0)', 'd12 OK Status completed.']);
    await c.expect('d13 EXPUNGE', ['d13 BAD EXPUNGE not allowed now: no mailbox selected.']);
    c.close();
  });
});
