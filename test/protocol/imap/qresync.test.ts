/**
 * QRESYNC (RFC 7162 §3.2, issue 15 item 14): ENABLE QRESYNC, SELECT/EXAMINE with the QRESYNC
 * parameter (VANISHED (EARLIER) + changed FLAGS), VANISHED instead of EXPUNGE, UID FETCH
 * (CHANGEDSINCE n VANISHED), [CLOSED]. Transcripts follow the RFC's examples; imapflow (which
 * speaks QRESYNC) resynchronises a mailbox after changes made while it was away.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { message, startTestServer, USER, PASS } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

describe('QRESYNC', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await (await s.login()).cmd('c CREATE Q');
    for (let i = 1; i <= 6; i++)
      s.account.deliver('Q', message({ subject: `q${i}`, messageId: `<q${i}@x>` }));
  });
  after(() => s.close());

  it('resynchronises with SELECT (QRESYNC ...) and tells expunges as VANISHED', async () => {
    const c = await s.login();
    await c.expect('a1 CAPABILITY', [/ QRESYNC/, 'a1 OK Capability completed.']);
    // Not enabled yet: the parameter is refused.
    await c.expect('a2 SELECT Q (QRESYNC (1 1))', ['a2 BAD QRESYNC is not enabled']);
    await c.expect('a3 ENABLE QRESYNC', ['* ENABLED QRESYNC', 'a3 OK Enable completed.']);
    const sel = await c.cmd('a4 SELECT Q');
    const uv = Number(/UIDVALIDITY (\d+)/.exec(sel.join('\n'))![1]);
    const hm = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))![1]);
    // Another session changes things while the client is "away".
    const b = await s.login();
    await b.cmd('b1 SELECT Q');
    await b.cmd('b2 STORE 2 +FLAGS.SILENT (\\Seen)');
    await b.cmd('b3 STORE 3,5 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('b4 EXPUNGE');
    const after = Number(/HIGHESTMODSEQ (\d+)/.exec((await b.cmd('b5 STATUS Q (HIGHESTMODSEQ)'))[0]!)![1]);
    // Re-select with the state it knew: [CLOSED] for the implicit close, VANISHED (EARLIER), FLAGS.
    await c.expect(`a5 SELECT Q (QRESYNC (${uv} ${hm} 1:6))`, [
      '* OK [CLOSED] Previous mailbox closed.',
      /^\* FLAGS /,
      /PERMANENTFLAGS/,
      '* 4 EXISTS',
      /RECENT/,
      /UNSEEN/,
      `* OK [UIDVALIDITY ${uv}] UIDs valid`,
      /UIDNEXT 7/,
      `* OK [HIGHESTMODSEQ ${after}] Highest`,
      /^\* OK \[MAILBOXID \(F[0-9a-f]{24}\)\] Ok$/,
      '* VANISHED (EARLIER) 3,5',
      `* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${hm + 1}))`,
      'a5 OK [READ-WRITE] Select completed.',
    ]);
    // Known UIDs restrict VANISHED (EARLIER); a stale UIDVALIDITY gets a plain SELECT.
    const r = await c.cmd(`a6 EXAMINE Q (QRESYNC (${uv} ${hm} 4:6))`);
    assert.ok(r.includes('* VANISHED (EARLIER) 5'), r.join('\n'));
    const stale = await c.cmd(`a7 SELECT Q (QRESYNC (${uv + 1} ${hm}))`);
    assert.ok(!stale.some((l) => l.startsWith('* VANISHED') || l.includes('FETCH')), stale.join('\n'));
    // Expunges by others and by itself come as VANISHED (never EXPUNGE) once QRESYNC is on.
    await b.cmd('b6 STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('b7 EXPUNGE');
    await c.expect('a8 NOOP', ['* VANISHED 1', 'a8 OK Noop completed.']);
    await c.cmd('a9 STORE 1 +FLAGS.SILENT (\\Deleted)');
    await c.expect('a10 EXPUNGE', ['* VANISHED 2', 'a10 OK Expunge completed.']);
    await b.expect('b8 NOOP', ['* 1 EXPUNGE', 'b8 OK Noop completed.']);
    // UID FETCH (CHANGEDSINCE n VANISHED): VANISHED (EARLIER) for the set, then the changed messages.
    await c.expect(`a11 UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm} VANISHED)`, [
      '* VANISHED (EARLIER) 1:3,5',
      'a11 OK UID Fetch completed.',
    ]);
    await c.expect(`a12 FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm} VANISHED)`, [
      'a12 BAD VANISHED needs UID FETCH and QRESYNC',
    ]);
    c.close();
    b.close();
  });

  it('imapflow (qresync: true) reopens a mailbox and learns exactly what changed', async () => {
    await (await s.login()).cmd('c CREATE Flow');
    for (let i = 1; i <= 5; i++)
      s.account.deliver('Flow', message({ subject: `f${i}`, messageId: `<f${i}@x>` }));
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: s.port,
      secure: false,
      auth: { user: USER, pass: PASS },
      logger: false,
      qresync: true,
    });
    await client.connect();
    try {
      assert.ok(client.enabled.has('QRESYNC'), 'imapflow enabled QRESYNC');
      const first = await client.mailboxOpen('Flow');
      const known = { uidValidity: first.uidValidity, changedSince: first.highestModseq };
      await client.mailboxClose();
      const other = await s.login();
      await other.cmd('o1 SELECT Flow');
      await other.cmd('o2 UID STORE 4 +FLAGS.SILENT (\\Flagged)');
      await other.cmd('o3 UID STORE 2 +FLAGS.SILENT (\\Deleted)');
      await other.cmd('o4 UID EXPUNGE 2');
      other.close();
      const vanished: number[] = [];
      const flags: Array<{ uid?: number; flags: Set<string> }> = [];
      client.on('expunge', (e: { uid?: number; vanished?: boolean }) => {
        if (e.vanished && e.uid) vanished.push(e.uid);
      });
      client.on('flags', (e: { uid?: number; flags: Set<string> }) => flags.push(e));
      const again = await client.mailboxOpen('Flow', known);
      assert.equal(again.exists, 4);
      assert.deepEqual(vanished, [2]);
      assert.deepEqual(
        flags.map((f) => [f.uid, [...f.flags]]),
        [[4, ['\\Flagged']]],
      );
    } finally {
      await client.logout();
    }
  });
});
