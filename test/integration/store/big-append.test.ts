/**
 * Issue 14 "No single request may freeze the bridge", for big mail: APPEND of a ~20 MB message
 * through the real bridge (store, IMAP server) while another client keeps doing LOGIN + SELECT +
 * FETCH. The event loop's longest delay during the append (perf_hooks.monitorEventLoopDelay) stays
 * within 200 ms, and the message comes back byte-exact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertLoop, type LoopReading } from '../../helpers/event-loop.ts';
import { bigHtmlMessage, bigMessage, startBigBridge, type BigBridge } from '../../helpers/big-bridge.ts';
import { seeded } from '../../helpers/seeded.ts';

describe('a 20 MB APPEND leaves the bridge responsive (issue 14)', () => {
  const random = seeded();
  let b: BigBridge;

  before(async () => {
    b = await startBigBridge('lb-bigappend-');
  });
  after(async () => {
    await b?.close();
  });

  /**
   * APPENDs `big` while another client keeps logging in, selecting and fetching; returns the
   * event loop's longest delay meanwhile and checks the message comes back byte-exact as `uid`.
   */
  async function appendWhileProbing(what: string, big: Buffer, uid: number): Promise<LoopReading> {
    const c = await b.login();
    let appendMs = 0;
    let r: { value: string[]; maxMs: number; cpuMs: number; probes: number };
    try {
      r = await b.whileProbing(async () => {
        const started = performance.now();
        c.write(`big APPEND INBOX {${big.length}+}\r\n`);
        c.write(big);
        c.write('\r\n');
        const reply = await c.until('big', 120_000);
        appendMs = performance.now() - started;
        return reply;
      });
    } finally {
      c.close();
    }
    const ms = r.maxMs;
    console.log(
      `# ${what}: max event-loop delay ${ms.toFixed(0)} ms, ${appendMs.toFixed(0)} ms ` +
        `(${(big.length / 1048576 / (appendMs / 1000)).toFixed(1)} MiB/s), ${r.probes} probe sessions meanwhile`,
    );
    assert.match(r.value.at(-1)!, new RegExp(`^big OK \\[APPENDUID \\d+ ${uid}\\] `));
    const back = Buffer.concat(await b.fetchLiteral(`f UID FETCH ${uid} (BODY.PEEK[])`));
    assert.equal(back.length, big.length);
    assert.ok(back.equals(big), 'the message comes back byte-exact');
    return { maxMs: r.maxMs, cpuMs: r.cpuMs };
  }

  it('APPEND of a 20 MB message while another client logs in, selects and fetches', () =>
    random.report(async () => {
      const big = bigMessage(random).raw; // built first: this process is the client too
      assertLoop(await appendWhileProbing('20 MB APPEND', big, 2), '20 MB APPEND');
    }));

  it('APPEND of a 20 MB HTML message (quoted-printable): its text for search is not decoded whole', async () => {
    assertLoop(await appendWhileProbing('20 MB HTML APPEND', bigHtmlMessage(), 3), '20 MB HTML APPEND');
  });
});
