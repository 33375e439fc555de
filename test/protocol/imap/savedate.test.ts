/**
 * SAVEDATE (RFC 8514), issue 15 item 16: FETCH SAVEDATE is when the message was saved into this
 * mailbox — by APPEND, COPY or MOVE, whatever its INTERNALDATE (which a copy keeps);
 * SAVEDBEFORE / SAVEDON / SAVEDSINCE compare its day as SINCE/ON/BEFORE do INTERNALDATE's, and
 * SAVEDATESUPPORTED matches every message (every mailbox keeps save dates). Over the reference
 * backend and over the encrypted store, where the save date survives a restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { message } from '../../helpers/imap-transcript.ts';
import type { ImapTestClient } from '../../helpers/imap-transcript.ts';
import { startStoreServer, onReferenceServer } from '../../helpers/imap-store-server.ts';
import { tempDir } from '../../unit/store/helpers.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DATE_TIME = /^"( ?\d{1,2})-([A-Z][a-z]{2})-(\d{4}) \d\d:\d\d:\d\d \+0000"$/;

/** The SAVEDATE of message `seq` as a date-time string and as its SEARCH day (d-Mon-yyyy). */
async function saveDate(c: ImapTestClient, seq: number): Promise<{ at: string; day: string; ms: number }> {
  const r = await c.cmd(`f FETCH ${seq} (SAVEDATE)`);
  const m = new RegExp(`^\\* ${seq} FETCH \\(SAVEDATE (".*")\\)$`).exec(r[0]!);
  assert.ok(m, r.join('\n'));
  const d = DATE_TIME.exec(m[1]!)!;
  assert.ok(d, m[1]);
  const ms = Date.parse(m[1]!.slice(1, -1).trim().replace(/-/g, ' '));
  return { at: m[1]!, day: `${d[1]!.trim()}-${d[2]}-${d[3]}`, ms };
}

function dayBefore(ms: number): string {
  const d = new Date(ms - 86_400_000);
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

function dayAfter(ms: number): string {
  const d = new Date(ms + 86_400_000);
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

async function transcript(c: ImapTestClient): Promise<void> {
  const m = message({});
  const before = Date.now() - 1000;
  await c.cmd(`a1 APPEND INBOX "01-Jan-2020 10:00:00 +0000" {${m.length}+}\r\n${m}`);
  await c.cmd(`a2 APPEND INBOX {${m.length}+}\r\n${m}`);
  await c.expect('c CAPABILITY', [/^\* CAPABILITY .* SAVEDATE( |$)/, 'c OK Capability completed.']);
  await c.cmd('s SELECT INBOX');
  const s1 = await saveDate(c, 1);
  const s2 = await saveDate(c, 2);
  // saved now, although its internal date is in 2020
  assert.ok(s1.ms >= before - 1000 && s2.ms >= s1.ms, `${s1.at} ${s2.at}`);
  await c.expect('f1 FETCH 1 (INTERNALDATE SAVEDATE)', [
    `* 1 FETCH (INTERNALDATE " 1-Jan-2020 10:00:00 +0000" SAVEDATE ${s1.at})`,
    'f1 OK Fetch completed.',
  ]);
  await c.expect('r1 SEARCH SAVEDATESUPPORTED', ['* SEARCH 1 2', 'r1 OK Search completed.']);
  await c.expect(`r2 SEARCH SAVEDON ${s1.day}`, [
    s1.day === s2.day ? '* SEARCH 1 2' : '* SEARCH 1',
    'r2 OK Search completed.',
  ]);
  await c.expect(`r3 SEARCH SAVEDBEFORE ${s1.day}`, ['* SEARCH', 'r3 OK Search completed.']);
  await c.expect(`r4 SEARCH SAVEDSINCE ${dayBefore(s1.ms)}`, ['* SEARCH 1 2', 'r4 OK Search completed.']);
  await c.expect(`r5 SEARCH SAVEDBEFORE ${dayAfter(s2.ms)} BEFORE 1-Jan-2021`, [
    '* SEARCH 1',
    'r5 OK Search completed.',
  ]);
  await c.expect(`r6 UID SEARCH RETURN (COUNT) SAVEDSINCE ${dayAfter(s2.ms)}`, [
    '* ESEARCH (TAG "r6") UID COUNT 0',
    'r6 OK UID Search completed.',
  ]);
  await c.expect('r7 SEARCH SAVEDON 31-Foo-2020', [/^r7 BAD /]);
  // a copy keeps the internal date and gets its own save date; so does a moved message
  await c.cmd('k0 CREATE Copies');
  await c.cmd('k1 COPY 1 Copies');
  await c.cmd('k2 MOVE 2 Copies');
  await c.cmd('k3 SELECT Copies');
  const t1 = await saveDate(c, 1);
  const t2 = await saveDate(c, 2);
  assert.ok(t1.ms >= s1.ms && t2.ms >= s2.ms, `${t1.at} ${t2.at}`);
  await c.expect('k4 FETCH 1:2 (INTERNALDATE)', [
    '* 1 FETCH (INTERNALDATE " 1-Jan-2020 10:00:00 +0000")',
    /^\* 2 FETCH \(INTERNALDATE "/,
    'k4 OK Fetch completed.',
  ]);
}

describe('SAVEDATE', () => {
  it('is when the message came into the mailbox (reference backend)', async () => {
    await onReferenceServer(transcript);
  });

  it('is when the message came into the mailbox, and stays after a restart (encrypted store)', async () => {
    const t = tempDir('lb-savedate-');
    let s = await startStoreServer(t.dir);
    try {
      let c = await s.login();
      await transcript(c);
      const saved = (await c.cmd('x FETCH 1:2 (SAVEDATE)')).slice(0, 2);
      c.close();
      await s.close();
      s = await startStoreServer(t.dir, true);
      c = await s.login();
      await c.cmd('s SELECT Copies');
      await c.expect('x FETCH 1:2 (SAVEDATE)', [...saved, 'x OK Fetch completed.']);
      c.close();
    } finally {
      await s.close();
      t.cleanup();
    }
  });
});
