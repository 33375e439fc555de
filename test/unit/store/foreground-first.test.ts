// Issue 20 (UID FETCH 1:* (FLAGS) at 1M ≤ 1 s): background full-text indexing and body-cache
// eviction wait while a local client's command is answered (shared/foreground.ts), instead of
// running their 20 ms steps between the command's writes (bench/million.ts, 20k messages being
// indexed: FLAGS 88 ms; 17–25 ms once the index was built).
import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { ForegroundWork } from '../../../app/shared/foreground.ts';
import { FtsIndexer } from '../../../app/store/fts-indexer.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { createHash } from 'node:crypto';
import { fakeAnalysis, makeRaw, msg, newStore, tempDir, testAccount } from './helpers.ts';

/** Counts how often background work asked whether it may run. */
class CountingForeground extends ForegroundWork {
  asked = 0;
  override get busy(): boolean {
    this.asked++;
    return super.busy;
  }
}

/** Resolves with 'asked' once background work asked `n` times, or 'worked' once `worked()` holds. */
async function firstOf(
  fg: CountingForeground,
  n: number,
  worked: () => boolean,
): Promise<'asked' | 'worked'> {
  for (;;) {
    if (worked()) return 'worked';
    if (fg.asked >= n) return 'asked';
    await sleep(5);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('background upkeep waits for foreground work', () => {
  const t = tempDir();
  after(t.cleanup);

  it('full-text indexing: no batch while a command is answered, all of it after', async () => {
    const s = await newStore(`${t.dir}/fts`, { ftsIndexing: 'manual' });
    const fg = new CountingForeground({ maxBackgroundWaitMs: 1e9 });
    const indexer = new FtsIndexer(s.messages, silentLogger, true, fg);
    try {
      const box = s.mailboxes.create(testAccount(s, 'fg@example.org').id, 'INBOX');
      s.messages.insertBatch(
        box.id,
        Array.from({ length: 200 }, (_, i) => msg(`subject ${i}`, `body ${i}`)),
      );
      const end = fg.begin();
      indexer.kick();
      const first = await firstOf(fg, 5, () => s.messages.ftsBacklog() < 200);
      assert.equal(first, 'asked', 'the indexer indexed while a command was being answered');
      assert.equal(s.messages.ftsBacklog(), 200);
      end();
      await until(() => s.messages.ftsBacklog() === 0, 'the backlog to drain');
    } finally {
      indexer.stop();
      s.close();
    }
  });

  it('full-text indexing under constant foreground work still moves (one step per wait bound)', async () => {
    const s = await newStore(`${t.dir}/fts-starve`, { ftsIndexing: 'manual' });
    const fg = new ForegroundWork({ maxBackgroundWaitMs: 30 });
    const indexer = new FtsIndexer(s.messages, silentLogger, true, fg);
    try {
      const box = s.mailboxes.create(testAccount(s, 'fg2@example.org').id, 'INBOX');
      s.messages.insertBatch(
        box.id,
        Array.from({ length: 60 }, (_, i) => msg(`subject ${i}`, `body ${i}`)),
      );
      const end = fg.begin();
      indexer.kick();
      await until(() => s.messages.ftsBacklog() === 0, 'the backlog to drain while held');
      end();
    } finally {
      indexer.stop();
      s.close();
    }
  });

  it('body-cache eviction: no step while a command is answered, eviction after', async () => {
    const fg = new CountingForeground({ maxBackgroundWaitMs: 1e9 });
    const s = await newStore(`${t.dir}/evict`, { ftsIndexing: 'manual', foreground: fg });
    try {
      const box = s.mailboxes.create(testAccount(s, 'fg3@example.org').id, 'INBOX');
      s.messages.insertBatch(
        box.id,
        Array.from({ length: 40 }, (_, i) => {
          const raw = makeRaw({ subject: `subject ${i}`, body: `body ${i} `.repeat(500) });
          const sha256 = createHash('sha256').update(raw).digest();
          return {
            raw,
            analysis: fakeAnalysis(raw),
            flags: [],
            sha256,
            remote: { remoteMailbox: 'INBOX', uidvalidity: 7, uid: i + 1, contentHash: sha256 },
          };
        }),
        'sync',
      );
      s.flushIndex(); // only indexed bodies may be evicted
      const evicted = () => s.messages.bodyCache.status().evicted;
      const end = fg.begin();
      fg.asked = 0;
      s.messages.bodyCache.setBudget(0);
      const first = await firstOf(fg, 5, () => evicted() > 0);
      assert.equal(first, 'asked', 'bodies were evicted while a command was being answered');
      end();
      await until(() => evicted() === 40, 'every body to be evicted');
    } finally {
      s.close();
    }
  });
});
