/**
 * Issue 14: single hostile requests must not freeze the server. Each test runs the request on one
 * connection while the event loop's longest delay is measured (perf_hooks.monitorEventLoopDelay,
 * bound 200 ms) and checks the exact answer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

const LOOP_BOUND_MS = 200;

/** Runs `work` and returns the event loop's longest delay meanwhile, in ms. */
async function loopDelay(work: () => Promise<void>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    await work();
    await new Promise((r) => setTimeout(r, 30));
  } finally {
    h.disable();
  }
  return h.max / 1e6;
}

function assertLoop(ms: number, what: string): void {
  assert.ok(
    ms <= LOOP_BOUND_MS,
    `${what}: event loop blocked ${ms.toFixed(0)} ms (bound ${LOOP_BOUND_MS} ms)`,
  );
}

describe('hostile requests (issue 14)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    for (const name of ['Archive', 'Archive/2026', 'Lists/' + 'a'.repeat(200)]) s.account.createMailbox(name);
    // a 2 MB header field folded into 40,000 lines (anyone can mail one)
    const folded =
      'X-Big: start\r\n' +
      Array.from({ length: 40_000 }, (_, i) => ` word${i} ${'x'.repeat(40)}`).join('\r\n');
    s.account.deliver('INBOX', message({ subject: 'big header', headers: [folded, 'X-Small: needle here'] }));
    s.account.deliver('INBOX', message({ subject: 'plain', headers: ['X-Big: other'] }));
  });
  after(() => s.close());

  it('LIST with wildcard runs answers at once (item 6)', async () => {
    const c = await s.login();
    const ms = await loopDelay(async () => {
      await c.expect('a1 LIST "" "**********q"', ['a1 OK List completed.']);
      await c.expect(`a2 LIST "" "${'%'.repeat(16)}q"`, ['a2 OK List completed.']);
      await c.expect(`a3 LIST "" "${'*a'.repeat(3000)}q"`, ['a3 OK List completed.']);
      await c.expect('a4 LIST "" "Arch*%%*"', [
        '* LIST (\\HasChildren) "/" Archive',
        '* LIST (\\HasNoChildren) "/" Archive/2026',
        'a4 OK List completed.',
      ]);
    });
    assertLoop(ms, 'LIST');
    c.close();
  });

  it('SEARCH HEADER over a 2 MB folded header is linear (item 7)', async () => {
    const c = await s.login();
    await c.cmd('b0 SELECT INBOX');
    const ms = await loopDelay(async () => {
      await c.expect('b1 SEARCH HEADER X-Big word39999', ['* SEARCH 1', 'b1 OK Search completed.']);
      await c.expect('b2 SEARCH HEADER X-Big "word7 xxx"', ['* SEARCH 1', 'b2 OK Search completed.']);
      await c.expect('b3 SEARCH HEADER X-Big nomatch', ['* SEARCH', 'b3 OK Search completed.']);
      await c.expect('b4 SEARCH HEADER X-Big other', ['* SEARCH 2', 'b4 OK Search completed.']);
      // the field name is not part of the value; other fields are not searched
      await c.expect('b5 SEARCH HEADER X-Big X-Small', ['* SEARCH', 'b5 OK Search completed.']);
      await c.expect('b6 SEARCH HEADER X-Small needle', ['* SEARCH 1', 'b6 OK Search completed.']);
    });
    assertLoop(ms, 'SEARCH HEADER');
    c.close();
  });
});
