/**
 * Issue 15 (memory under load): free memory goes back to the OS once the process is quiet after
 * work — the policy that decides when (app/shared/idle-release.ts), and the malloc_trim seam
 * (native/malloc-trim.ts) really returning freed heap memory on this glibc machine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { idleReleasePolicy } from '../../../app/shared/idle-release.ts';
import { loadMallocTrim } from '../../../native/malloc-trim.ts';

/** Feeds windows of 5 s given as busy fractions; returns the indexes where it released. */
function releases(busy: number[], o: Parameters<typeof idleReleasePolicy>[0] = {}): number[] {
  const p = idleReleasePolicy(o);
  const out: number[] = [];
  busy.forEach((b, i) => {
    if (p.window(b * 5000, (1 - b) * 5000)) out.push(i);
  });
  return out;
}

describe('idle release policy', () => {
  it('releases once, after two quiet windows that follow work', () => {
    assert.deepEqual(releases([0.5, 0.9, 0.3, 0, 0, 0, 0, 0]), [4]);
  });

  it('waits while work goes on, and a busy window starts the quiet count again', () => {
    assert.deepEqual(releases([0.5, 0, 0.4, 0, 0.6, 0.2, 0, 0]), [7]);
  });

  it('does not release when there was next to no work since the last release', () => {
    // 0.1 × 5 s = 500 ms of work: below the 1 s worth releasing for
    assert.deepEqual(releases([0.1, 0, 0, 0, 0]), []);
    // idle clients' NOOPs and a poll now and then stay under the quiet threshold: not work
    assert.deepEqual(releases([0.01, 0.015, 0, 0.01, 0, 0]), []);
  });

  it('releases again after the next burst of work', () => {
    assert.deepEqual(releases([0.8, 0, 0, 0, 0.5, 0.5, 0, 0, 0]), [2, 7]);
  });

  it('takes its thresholds from the options', () => {
    assert.deepEqual(releases([0.5, 0, 0, 0], { quietWindows: 3 }), [3]);
    assert.deepEqual(releases([0.1, 0, 0], { minWorkMs: 100 }), [2]);
    assert.deepEqual(releases([0.04, 0, 0], { quietBelow: 0.05 }), []);
  });
});

describe('malloc_trim seam', () => {
  it('loads on Linux with glibc and hands freed heap memory back to the OS', async (t) => {
    const trim = await loadMallocTrim();
    if (process.platform !== 'linux') {
      assert.equal(trim, null);
      return;
    }
    assert.ok(trim, 'koffi loads and libc.so.6 has malloc_trim');
    assert.equal(await loadMallocTrim(), trim, 'loaded once');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const rss = (): number => process.memoryUsage.rss();
    // 64 MB in 64 KiB buffers (below malloc's mmap threshold: they come from the heap); every
    // other one freed leaves 32 MB of holes that malloc keeps, as after a burst of IMAP sessions
    const held: Buffer[] = [];
    const all: Buffer[] = [];
    for (let i = 0; i < 1024; i++) {
      const b = Buffer.allocUnsafeSlow(64 * 1024).fill(i & 255);
      all.push(b);
      if (i % 2) held.push(b);
    }
    const before = rss();
    all.length = 0;
    let after = before;
    // the ArrayBuffer sweeper frees backing stores after the GC, on another thread: look again
    // until they are freed and trimmed (at most 50 times)
    for (let i = 0; i < 50 && before - after <= 16 * 1024 * 1024; i++) {
      gc();
      await sleep(20);
      trim();
      after = rss();
    }
    t.diagnostic(
      `RSS ${(before / 2 ** 20).toFixed(0)} MB → ${(after / 2 ** 20).toFixed(0)} MB after malloc_trim`,
    );
    assert.ok(
      before - after > 16 * 1024 * 1024,
      `malloc_trim returned ${((before - after) / 2 ** 20).toFixed(1)} MB of the 32 MB freed`,
    );
    assert.equal(held.length, 512);
  });
});
