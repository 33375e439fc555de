/**
 * What one session is told about changes made by others (issue 15, items 1–3): never an EXPUNGE of
 * a message it was not told exists; never a flag update older than what it was already told
 * (MODSEQ never goes backwards, RFC 7162 §3.1); a keyword in a FLAGS response before any FETCH
 * carries it (RFC 3501 §7.2.6).
 */
import { after, before, describe, it } from 'node:test';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient, TestServer } from '../../helpers/imap-transcript.ts';

describe('session state across connections', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  async function fresh(name: string, n: number): Promise<[ImapTestClient, ImapTestClient]> {
    await (await s.login()).cmd(`c0 CREATE ${name}`);
    for (let i = 1; i <= n; i++)
      s.account.deliver(name, message({ subject: `m${i}`, messageId: `<${name}${i}@x>` }));
    const a = await s.login();
    const b = await s.login();
    await a.cmd(`a0 SELECT ${name}`);
    await b.cmd(`b0 SELECT ${name}`);
    return [a, b];
  }

  it('item 1: a message appended and expunged before A heard of it is never expunged to A', async () => {
    const [a, b] = await fresh('Item1', 3);
    for (let i = 4; i <= 6; i++) {
      await b.cmd(
        `b${i} APPEND Item1 {${message({ subject: `n${i}` }).length}+}\r\n${message({ subject: `n${i}` })}`,
      );
    }
    await b.cmd('b7 UID STORE 6 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('b8 UID EXPUNGE 6');
    // B, told first (after its APPENDs), sees 4 and 5 as recent; A does not.
    await a.expect('a1 NOOP', ['* 5 EXISTS', '* 0 RECENT', 'a1 OK Noop completed.']);
    // And when A's command may not carry EXPUNGE, the new ones are told, the gone one is not.
    await b.cmd(`b9 APPEND Item1 {${message({}).length}+}\r\n${message({})}`);
    await b.cmd('b10 UID STORE 1,7 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('b11 UID EXPUNGE 1,7');
    // Message 1 stays a ghost until EXPUNGE may be sent (its flag change is told); 7 is never told.
    await a.expect('a2 FETCH 1 (UID)', ['* 1 FETCH (UID 1 FLAGS (\\Deleted))', 'a2 OK Fetch completed.']);
    await a.expect('a3 NOOP', ['* 1 EXPUNGE', 'a3 OK Noop completed.']);
    a.close();
    b.close();
  });

  it('item 2: no stale FLAGS / MODSEQ after the session’s own STORE', async () => {
    const [a, b] = await fresh('Item2', 1);
    await a.cmd('a1 ENABLE CONDSTORE');
    const before = await a.cmd('a2 FETCH 1 (MODSEQ)');
    const m0 = Number(/MODSEQ \((\d+)\)/.exec(before[0]!)![1]);
    await b.cmd('b1 STORE 1 +FLAGS (\\Seen)');
    await a.expect('a3 STORE 1 +FLAGS (\\Flagged)', [
      `* 1 FETCH (FLAGS (\\Seen \\Flagged) MODSEQ (${m0 + 2}))`,
      'a3 OK Store completed.',
    ]);
    await a.expect('a4 NOOP', ['a4 OK Noop completed.']);
    // .SILENT: A was not told the flags, so the queued change becomes the current state.
    await b.cmd('b2 STORE 1 +FLAGS (\\Answered)');
    await a.expect('a5 STORE 1 +FLAGS.SILENT (\\Draft)', [
      `* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged \\Answered \\Draft) MODSEQ (${m0 + 4}))`,
      'a5 OK Store completed.',
    ]);
    await a.expect('a6 NOOP', ['a6 OK Noop completed.']);
    // FETCH FLAGS tells the current state; the older queued update is not repeated.
    await b.cmd('b3 STORE 1 -FLAGS (\\Draft)');
    await a.expect('a7 FETCH 1 (FLAGS MODSEQ)', [
      `* 1 FETCH (FLAGS (\\Seen \\Flagged \\Answered) MODSEQ (${m0 + 5}))`,
      'a7 OK Fetch completed.',
    ]);
    await a.expect('a8 NOOP', ['a8 OK Noop completed.']);
    a.close();
    b.close();
  });

  it('item 2 without CONDSTORE: the last word is the current state', async () => {
    const [a, b] = await fresh('Item2b', 1);
    await b.cmd('b1 STORE 1 +FLAGS (\\Seen)');
    await a.expect('a1 STORE 1 +FLAGS (\\Flagged)', [
      '* 1 FETCH (FLAGS (\\Seen \\Flagged))',
      'a1 OK Store completed.',
    ]);
    await a.expect('a2 NOOP', ['a2 OK Noop completed.']);
    a.close();
    b.close();
  });

  it('item 3: a new keyword comes in FLAGS and PERMANENTFLAGS before any FETCH carrying it', async () => {
    const [a, b] = await fresh('Item3', 2);
    await b.expect('b1 STORE 1 +FLAGS ($Label1)', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted.',
      '* 1 FETCH (FLAGS ($Label1))',
      'b1 OK Store completed.',
    ]);
    await a.expect('a1 NOOP', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted.',
      '* 1 FETCH (UID 1 FLAGS ($Label1))',
      'a1 OK Noop completed.',
    ]);
    // Told once per session.
    await b.expect('b2 STORE 2 +FLAGS ($label1)', ['* 2 FETCH (FLAGS ($label1))', 'b2 OK Store completed.']);
    // APPEND with a keyword: a session fetching the message hears of the keyword first.
    const raw = message({ subject: 'kw' });
    await b.cmd(`b3 APPEND Item3 (Junk) {${raw.length}+}\r\n${raw}`);
    const e = await s.login();
    await e.cmd('e0 EXAMINE Item3');
    await e.expect('e1 FETCH 3 (FLAGS)', [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Junk)',
      '* OK [PERMANENTFLAGS ()] Read-only mailbox.',
      '* 3 FETCH (FLAGS (Junk))',
      'e1 OK Fetch completed.',
    ]);
    a.close();
    b.close();
    e.close();
  });
});
