import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { fakeAnalysis, makeRaw, newStore, reopen, tempDir, testAccount } from '../../unit/store/helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { seeded } from '../../helpers/seeded.ts';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const BIG_WRITER = fileURLToPath(new URL('./big-writer.ts', import.meta.url));
const BATCH = 40;
/** The passphrase crash-writer.ts and big-writer.ts open the store with. */
const PASSPHRASE = { passphrase: 'crash test' };

/** A new store in `dir` with crash@example.org's INBOX (closed by the caller). */
async function storeWithInbox(dir: string) {
  const s = await newStore(dir, PASSPHRASE);
  const acc = testAccount(s, 'crash@example.org');
  return { s, inbox: s.mailboxes.create(acc.id, 'INBOX') };
}

/**
 * Runs `script` with `args` as a child process, hands each line it prints ("WHAT N") to `onLine`
 * with a way to SIGKILL it; resolves once it died of SIGKILL, rejects if it exited by itself.
 */
function runUntilKilled(
  script: string,
  args: string[],
  onLine: (what: string | undefined, n: number, kill: () => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => child.kill('SIGKILL');
    let buf = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [what, k] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        onLine(what, Number(k), kill);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited ${code}: ${err}`));
    });
  });
}

/** Runs the writer from batch `start` and SIGKILLs it once it reports "mid <killAt>". */
async function runAndKill(
  dir: string,
  start: number,
  killAt: number,
  holdMs: number,
): Promise<{ done: number[] }> {
  const done: number[] = [];
  await runUntilKilled(WRITER, [dir, String(start), String(holdMs), String(killAt)], (what, k, kill) => {
    if (what === 'done') done.push(k);
    if (what === 'mid' && k === killAt) kill();
  });
  return { done };
}

describe('crash safety', () => {
  const t = tempDir();
  after(t.cleanup);

  it('survives 20 SIGKILLs mid-transaction with exactly the committed batches', async () => {
    const { s, inbox } = await storeWithInbox(t.dir);
    const seed = makeRaw({ subject: 'seed', body: 'seed' });
    s.messages.insert(inbox.id, { raw: seed, analysis: fakeAnalysis(seed) });
    s.close();

    let next = 0;
    for (let round = 0; round < 20; round++) {
      // even rounds: kill while the transaction is held open; odd rounds: kill with no hold (races the commit)
      const hold = round % 2 === 0 ? 100 : 0;
      const killAt = next + 1 + (round % 3);
      const { done } = await runAndKill(t.dir, next, killAt, hold);

      const st = await reopen(t.dir, PASSPHRASE);
      assert.equal(rawDb(st).pragma('integrity_check', { simple: true }), 'ok');
      const counts = new Map<number, number>();
      for (const r of rawDb(st).prepare('SELECT subject FROM message_blobs').all() as Array<{
        subject: string;
      }>) {
        const m = /^batch (\d+) #/.exec(r.subject);
        if (m) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
      }
      // every batch is complete or absent
      for (const [k, n] of counts) assert.equal(n, BATCH, `batch ${k} is partial (${n})`);
      // every batch reported committed is there; the one killed mid-transaction (when held) is not
      for (const k of done) assert.ok(counts.has(k), `committed batch ${k} lost`);
      if (hold > 0)
        assert.ok(!counts.has(killAt), `batch ${killAt} was killed mid-transaction but is present`);
      const present = [...counts.keys()].sort((a, b) => a - b);
      assert.deepEqual(
        present,
        Array.from({ length: present.length }, (_, i) => i),
        'batches form a prefix',
      );
      // flags written inside the same transactions agree with the batches present
      const flags = st.messages.get(inbox.id, 1)!.flags;
      const last = present[present.length - 1];
      assert.deepEqual(flags, last === undefined ? [] : [`$batch${last}`]);
      assert.equal(st.mailboxes.get(inbox.id)!.uidNext, 2 + present.length * BATCH);
      next = present.length;
      st.close();
    }
    assert.ok(next >= 20, `only ${next} batches committed over 20 rounds`);
  });
});

/**
 * Runs the big-message writer from message `start` and SIGKILLs it `delayMs` after it reports
 * "staging <killAt>" (while that message's chunks are being written, or around its insert).
 */
async function runBigAndKill(
  dir: string,
  start: number,
  killAt: number,
  delayMs: number,
): Promise<{ acked: number[] }> {
  const acked: number[] = [];
  await runUntilKilled(BIG_WRITER, [dir, String(start)], (what, k, kill) => {
    if (what === 'acked') acked.push(k);
    if (what === 'staging' && k === killAt) setTimeout(kill, delayMs);
  });
  return { acked };
}

describe('crash safety of big messages (bodies written ahead in chunks)', () => {
  const t = tempDir();
  after(t.cleanup);
  const random = seeded();
  const ROUNDS = 8;

  it('SIGKILLs while chunks are written never leave a partial message nor lose an acknowledged one', () =>
    random.report(async () => {
      const { s, inbox } = await storeWithInbox(t.dir);
      s.close();

      const acked = new Set<number>();
      let next = 0;
      let killedMidWrite = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const killAt = next + random.int(3);
        const { acked: now } = await runBigAndKill(t.dir, next, killAt, random.int(15));
        for (const k of now) acked.add(k);

        const st = await reopen(t.dir, PASSPHRASE);
        assert.equal(rawDb(st).pragma('integrity_check', { simple: true }), 'ok');
        if (rawDb(st).prepare('SELECT count(*) FROM loose_bodies').pluck().get() !== 0) killedMidWrite++;
        const present = new Map<number, number>();
        for (const m of st.messages.iterateMeta(inbox.id)) {
          const subject = st.messages.headers(m.blobId)!.subject;
          const k = Number(/^big (\d+)$/.exec(subject)![1]);
          assert.ok(!present.has(k), `message ${k} stored twice`);
          present.set(k, m.blobId);
          // whole, byte for byte: the SHA-256 recorded at insert matches what is served
          assert.ok(await st.messages.intact(m.blobId), `message ${k} is damaged`);
        }
        for (const k of acked) assert.ok(present.has(k), `acknowledged message ${k} lost`);
        for (const k of present.keys())
          assert.ok(acked.has(k) || k === killAt, `message ${k} was never written but is present`);
        // the sweep started at open removes what the killed write left
        const deadline = Date.now() + 60_000;
        while (rawDb(st).prepare('SELECT count(*) FROM loose_bodies').pluck().get() !== 0) {
          assert.ok(Date.now() < deadline, 'loose chunks were not swept');
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(
          rawDb(st)
            .prepare(
              'SELECT count(*) FROM body_chunks c WHERE NOT EXISTS (SELECT 1 FROM message_raw r WHERE r.chunks = c.body_id)',
            )
            .pluck()
            .get(),
          0,
        );
        next = Math.max(next, ...present.keys()) + 1;
        for (const k of present.keys()) acked.add(k);
        st.close();
      }
      console.log(`# ${killedMidWrite} of ${ROUNDS} kills landed while chunks were being written`);
      assert.ok(killedMidWrite >= 3, `only ${killedMidWrite} of ${ROUNDS} kills landed mid-write`);
    }));
});
