/**
 * CONTEXT=SEARCH under load (issue 15 item 16; issue 14: no request blocks the event loop for more
 * than 200 ms). Over the encrypted store, a session keeps `UID SEARCH RETURN (UPDATE) BODY needle`
 * while 5,000 messages arrive (as sync delivers them, in batches) without the session looking; its
 * next NOOP tells the EXISTS, and the new matches — each one a message read and decoded again,
 * since none is in the full-text index yet — come as ADDTO in slices, the event loop free between
 * them, until the result equals a fresh search.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startStoreServer } from '../../helpers/imap-store-server.ts';
import { message, PASS, USER } from '../../helpers/imap-transcript.ts';
import { tempDir } from '../../unit/store/helpers.ts';
import { assertLoop, startLoopWatch, type LoopReading } from '../../helpers/event-loop.ts';

const ARRIVING = 5000;

/** UIDs of a sequence set. */
function expand(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number) as [number, number | undefined];
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

it('an UPDATE context with a BODY key while 5,000 messages arrive leaves the event loop free', async () => {
  const t = tempDir('lb-context-load-');
  const s = await startStoreServer(t.dir);
  try {
    const c = await s.login();
    await c.cmd('s SELECT INBOX');
    await c.expect('u UID SEARCH RETURN (UPDATE ALL) BODY needle', [
      '* ESEARCH (TAG "u") UID',
      'u OK UID Search completed.',
    ]);
    const account = (await s.backend.authenticate(USER, PASS))!;
    const inbox = account.getMailbox('INBOX')!;
    const text = ('lorem ipsum dolor sit amet consectetur '.repeat(25) + '\r\n').repeat(10);
    const expected: number[] = [];
    for (let i = 0; i < ARRIVING; i += 250) {
      const batch = [];
      for (let j = i; j < i + 250; j++) {
        const body = j % 7 === 0 ? text + 'the needle\r\n' : text;
        batch.push({
          raw: Buffer.from(message({ subject: `m${j}`, messageId: `<m${j}@x>`, body })),
          flags: [],
          internalDate: null,
        });
      }
      const res = await account.append(inbox.id, batch);
      res.uids.forEach((u, k) => (i + k) % 7 === 0 && expected.push(u));
    }
    const watch = startLoopWatch();
    const got: number[] = [];
    let loop: LoopReading;
    try {
      const noop = await c.cmd('n NOOP', 60_000);
      assert.deepEqual(noop.slice(0, 2), [`* ${ARRIVING} EXISTS`, `* ${ARRIVING} RECENT`]);
      assert.equal(noop.at(-1), 'n OK Noop completed.');
      const take = (l: string): void => {
        const m = /^\* ESEARCH \(TAG "u"\) UID ADDTO \(0 (\S+)\)$/.exec(l);
        assert.ok(m, `not an ADDTO of u: ${l.slice(0, 200)}`);
        got.push(...expand(m[1]!));
      };
      for (const l of noop.slice(2, -1)) take(l);
      while (got.length < expected.length) take(await c.readLine(60_000));
    } finally {
      loop = await watch.stop();
    }
    assert.deepEqual(
      got.sort((a, b) => a - b),
      expected,
    );
    const fresh = await c.cmd('f UID SEARCH RETURN (COUNT) BODY needle', 60_000);
    assert.equal(fresh[0], `* ESEARCH (TAG "f") UID COUNT ${expected.length}`);
    assertLoop(loop, 'NOOP with the ADDTO of an arriving batch');
    c.close();
  } finally {
    await s.close();
    t.cleanup();
  }
});
