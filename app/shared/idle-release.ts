/**
 * Hands free memory back to the OS once the process goes quiet after work (the goal: RSS back
 * within 10 % of its level before the run after clients leave). The bridge's allocator keeps what a
 * burst of work freed (native/malloc-trim.ts says how much and why); releasing it while work goes
 * on would only make the next allocations fault the pages in again, so it is released once per
 * burst, after the event loop has been quiet for a while.
 *
 * "Work" is read from the event loop's utilization (busy time), so no module has to report its
 * activity: IMAP commands, SMTP submissions, sync batches and imports all count.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from './logger.ts';

export interface IdleReleaseOptions {
  /** Returns memory to the OS (malloc_trim). */
  release: () => void;
  /** Told (debug) what each release returned. */
  logger?: Logger;
  /** How often the event loop is looked at (ms, default 5 s). */
  intervalMs?: number;
  /** A window busier than this (0..1) is not quiet (default 0.02). */
  quietBelow?: number;
  /** Quiet windows in a row before releasing (default 2: 10 s). */
  quietWindows?: number;
  /** Busy time (ms) since the last release below which there is nothing worth releasing (default 1 s). */
  minWorkMs?: number;
}

/**
 * The decision, fed one window at a time: `window(activeMs, idleMs)` returns true when memory is
 * to be released now.
 */
export function idleReleasePolicy(o: Omit<IdleReleaseOptions, 'release' | 'intervalMs'> = {}): {
  window(activeMs: number, idleMs: number): boolean;
} {
  const quietBelow = o.quietBelow ?? 0.02;
  const quietWindows = o.quietWindows ?? 2;
  const minWorkMs = o.minWorkMs ?? 1000;
  let work = 0;
  let quiet = 0;
  return {
    window(activeMs, idleMs) {
      const total = activeMs + idleMs;
      const busy = total > 0 ? activeMs / total : 0;
      if (busy >= quietBelow) {
        work += activeMs;
        quiet = 0;
        return false;
      }
      quiet++;
      if (quiet < quietWindows || work < minWorkMs) return false;
      work = 0;
      quiet = 0;
      return true;
    },
  };
}

/** Starts watching; the returned function stops it. The timer never keeps the process alive. */
export function startIdleRelease(o: IdleReleaseOptions): () => void {
  const policy = idleReleasePolicy(o);
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const d = performance.eventLoopUtilization(now, last);
    last = now;
    if (!policy.window(d.active, d.idle)) return;
    const before = process.memoryUsage.rss();
    const t0 = performance.now();
    o.release();
    o.logger?.debug(
      { rssBefore: before, rssAfter: process.memoryUsage.rss(), ms: Math.round(performance.now() - t0) },
      'released free memory to the OS after a quiet spell',
    );
  }, o.intervalMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}
