/**
 * The store's own WAL checkpoints (app/store/wal-checkpoint.ts): the log is copied into the
 * database once it is long enough, after the commit that made it so; never more than the top threshold
 * plus one transaction is waiting; pages added to the database (new bodies) checkpoint at the
 * lowest threshold whatever the current one; nothing checkpoints while the health check holds it.
 * Checks hold whatever the adaptive threshold is (it follows measured times).
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../../app/store/store.ts';
import { seeded } from '../../helpers/seeded.ts';
import { rawDb, storeSql } from '../../helpers/store-db.ts';
import { msg, newStore, tempDir, testAccount } from './helpers.ts';

const random = seeded();
const FRAME = 16384 + 24;

/** Frames in the write-ahead log now. */
function walFrames(s: Store): number {
  const size = statSync(`${rawDb(s).name}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  return Math.max(0, Math.floor((size - 32) / FRAME));
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WAL checkpoints', () => {
  const t = tempDir();
  let s: Store;
  let box: number;
  let account: number;
  before(async () => {
    s = await newStore(t.dir);
    const acc = testAccount(s, 'w@example.org');
    account = acc.id;
    box = s.mailboxes.create(acc.id, 'INBOX').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('small writes: checkpointed in batches, the log never past the top threshold plus a write', async () => {
    const cp = storeSql(s).checkpoints;
    assert.equal(cp.threshold, 128);
    cp.adapt(60);
    assert.equal(cp.threshold, 128, 'never under 128');
    cp.adapt(5);
    assert.equal(cp.threshold, 256, 'doubles after a short one');
    cp.adapt(30);
    assert.equal(cp.threshold, 256, 'stays after a middling one');
    for (let i = 0; i < 5; i++) cp.adapt(5);
    assert.equal(cp.threshold, 1024, 'never over 1024');
    cp.adapt(60);
    assert.equal(cp.threshold, 512, 'halves after a long one');
    const before = cp.stats.checkpoints;
    let most = 0;
    let perWrite = 0;
    for (let i = 0; i < 600; i++) {
      const f0 = walFrames(s);
      s.messages.insert(box, msg(`small ${i}`, `body ${i}\r\n`.repeat(20)));
      perWrite = Math.max(perWrite, walFrames(s) - f0);
      most = Math.max(most, walFrames(s));
      await turn();
    }
    const done = cp.stats.checkpoints - before;
    // each insert writes several pages, so 600 of them fill the log several times over
    assert.ok(done >= 2, `checkpoints: ${done}`);
    // far fewer than one per write: the log is measured from the file SQLite cuts back at each
    // restart (if it were not, every check would see the old length and checkpoint)
    assert.ok(done <= 600 / 4, `checkpoints: ${done} for 600 writes`);
    assert.ok(most <= 1024 + perWrite, `log reached ${most} frames (a write adds ≤ ${perWrite})`);
  });

  it('pages added to the database are checkpointed after 128 of them, whatever the threshold', () =>
    random.report(async () => {
      const cp = storeSql(s).checkpoints;
      const pages = (): number => rawDb(s).pragma('page_count', { simple: true }) as number;
      let atLast = pages();
      let seen = cp.stats.checkpoints;
      let most = 0;
      let perWrite = 0;
      for (let i = 0; i < 60; i++) {
        while (cp.threshold < 1024) cp.adapt(0); // as after short checkpoints of small writes
        // ~100 KB of incompressible text each: new pages, nothing shared between them
        const words = Array.from({ length: 8000 }, () => random.int(1e15).toString(36).padStart(11, '0'));
        const p0 = pages();
        s.messages.insert(box, msg(`big ${i}`, words.join('\r\n')));
        perWrite = Math.max(perWrite, pages() - p0);
        most = Math.max(most, pages() - atLast);
        await turn();
        if (cp.stats.checkpoints !== seen) {
          seen = cp.stats.checkpoints;
          atLast = pages();
        }
      }
      assert.ok(perWrite > 0 && perWrite < 64, `pages a write adds: ${perWrite}`);
      assert.ok(most <= 128 + perWrite, `${most} pages added before a checkpoint`);
      assert.ok(cp.stats.checkpoints > 0);
    }));

  it('a durable write answers before its checkpoint, which follows in a turn of its own', async () => {
    const cp = storeSql(s).checkpoints;
    const envelope = { from: 'w@example.org', to: ['x@example.org'] };
    // ~3 MB of new pages: far over the 128 pages that checkpoint at once
    const copy = () => ({ envelope, raw: randomBytes(3_000_000) });
    await turn();
    const before = cp.stats.checkpoints;
    s.outbox.enqueueDurably(account, [copy()]);
    assert.equal(cp.stats.checkpoints, before, 'no checkpoint between the commit and the caller');
    assert.ok(walFrames(s) > 128, `the commit is in the log: ${walFrames(s)} frames`);
    await turn();
    assert.equal(cp.stats.checkpoints, before + 1, 'checkpointed in the next turn');
    // durable writes in a loop that never yields: each takes the checkpoint the one before made due
    for (let i = 0; i < 3; i++) s.outbox.enqueueDurably(account, [copy()]);
    assert.equal(cp.stats.checkpoints, before + 3);
    assert.ok(walFrames(s) < 2 * 200, `log bounded: ${walFrames(s)} frames`);
    await turn();
    assert.equal(cp.stats.checkpoints, before + 4);
  });

  it('holds no checkpoint while held, and checkpoints after the release', async () => {
    const cp = storeSql(s).checkpoints;
    const release = cp.hold();
    const before = cp.stats.checkpoints;
    for (let i = 0; i < 200; i++) {
      s.messages.insert(box, msg(`held ${i}`, `held body ${i}\r\n`.repeat(40)));
      await turn();
    }
    assert.equal(cp.stats.checkpoints, before);
    assert.ok(walFrames(s) > 128, `log at ${walFrames(s)} frames`);
    release();
    await turn();
    assert.equal(cp.stats.checkpoints, before + 1);
    s.messages.insert(box, msg('after', 'x'));
    assert.ok(walFrames(s) < 32, `log restarted: ${walFrames(s)} frames`);
  });
});

describe('WAL checkpoints of background slices', () => {
  const t = tempDir();
  let s: Store;
  let box: number;
  before(async () => {
    s = await newStore(t.dir);
    box = s.mailboxes.create(testAccount(s, 'w@example.org').id, 'INBOX').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('a background slice (a full-text index batch) commits without its checkpoint, which follows in a turn of its own', () =>
    random.report(async () => {
      const cp = storeSql(s).checkpoints;
      // ~100 messages of incompressible words queued for the index: one batch adds far more than
      // the 128 pages that checkpoint at once (and fewer than the 1,024 past which a slice takes
      // a checkpoint still waiting)
      for (let i = 0; i < 100; i++) {
        const words = Array.from({ length: 300 }, () => random.int(1e15).toString(36));
        s.messages.insert(box, msg(`indexed ${i}`, words.join(' ')));
      }
      await turn();
      while (cp.threshold > 128) cp.adapt(60); // as after long checkpoints: 128 frames are due
      const before = cp.stats.checkpoints;
      assert.equal(s.messages.indexBatch(100), 100);
      // at 150,000 messages a batch's commit and the checkpoint it triggered held the event loop
      // 128-185 ms in one turn; apart, a client's command waiting is read in between
      assert.equal(cp.stats.checkpoints, before, "no checkpoint in the batch's turn");
      assert.ok(walFrames(s) > 128 && walFrames(s) < 1024, `the batch is in the log: ${walFrames(s)} frames`);
      await turn();
      assert.equal(cp.stats.checkpoints, before + 1, 'checkpointed in the next turn');
      cp.check();
      assert.equal(cp.stats.checkpoints, before + 1, 'a log already copied is not copied again');
      // batches in a loop that never yields (as flushIndex runs them) keep the log bounded: once it
      // is past the top threshold, a batch takes the checkpoint waiting before its transaction
      for (let i = 0; i < 400; i++) {
        const words = Array.from({ length: 300 }, () => random.int(1e15).toString(36));
        s.messages.insert(box, msg(`looped ${i}`, words.join(' ')));
      }
      await turn();
      const loopedFrom = cp.stats.checkpoints;
      let most = 0;
      let perBatch = 0;
      for (;;) {
        const f0 = walFrames(s);
        if (s.messages.indexBatch(40) === 0) break;
        perBatch = Math.max(perBatch, walFrames(s) - f0);
        most = Math.max(most, walFrames(s));
      }
      assert.equal(s.messages.ftsBacklog(), 0);
      assert.ok(cp.stats.checkpoints > loopedFrom, 'checkpointed between the batches');
      assert.ok(most <= 1024 + perBatch, `log reached ${most} frames (a batch adds ≤ ${perBatch})`);
    }));
});
