/**
 * The event-loop bound of issue 14 ("no single request may freeze the bridge"): the longest delay
 * of the event loop (perf_hooks.monitorEventLoopDelay) while some work runs, and the assertion
 * that it stayed within 200 ms. One setup for every responsiveness test.
 *
 * On a loaded machine (CI with other jobs, 2 cores) the delay also counts the time the thread
 * waited for a core: at load 10, turns of 15 ms of CPU were seen to delay the loop 260-510 ms. So
 * beside the delay the watch records `cpuMs`, the most CPU time this thread spent between two runs
 * of a 1 ms timer (one turn of the loop: the longest turn's own work, which hardly grows with the
 * load). A delay over the bound fails unless that turn's own work stayed within the bound — then
 * the thread was waiting for a core, not holding the loop. A request that really holds the loop (a
 * long synchronous step) fails either way: its turn's CPU time is the hold.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The bound issue 14 states for the event loop's longest delay. */
export const LOOP_BOUND_MS = 200;

/** What a watch saw: the longest delay and the most CPU time of one turn, in ms. */
export interface LoopReading {
  maxMs: number;
  cpuMs: number;
}

export interface LoopWatch {
  /** Lets the loop turn once more (a blocked loop is recorded when it turns again), then reads. */
  stop(): Promise<LoopReading>;
}

/**
 * Starts watching the loop now (for work that is not one function: see measureLoop). The delay is
 * also taken from the watch's own 1 ms timer, counted from now: monitorEventLoopDelay records
 * nothing until its timer has run once, so work started at once could hold the loop 300 ms and
 * be read as 14 ms (measured) while its CPU time alone passed the check in assertLoop.
 */
export function startLoopWatch(opts: { resolution?: number } = {}): LoopWatch {
  const h = monitorEventLoopDelay({ resolution: opts.resolution ?? 10 });
  h.enable();
  let cpuMs = 0;
  let gapMs = 0;
  let last = process.threadCpuUsage();
  let lastAt = performance.now();
  const tick = (): void => {
    const now = process.threadCpuUsage();
    const at = performance.now();
    cpuMs = Math.max(cpuMs, (now.user - last.user + now.system - last.system) / 1000);
    gapMs = Math.max(gapMs, at - lastAt);
    last = now;
    lastAt = at;
  };
  const timer = setInterval(tick, 1);
  return {
    async stop() {
      try {
        await new Promise((r) => setTimeout(r, 30));
        return { maxMs: Math.max(h.max / 1e6, gapMs), cpuMs };
      } finally {
        clearInterval(timer);
        h.disable();
      }
    },
  };
}

/**
 * Runs `work` and returns its result with the loop's reading meanwhile. The monitor gets its first
 * samples before the work starts.
 */
export async function measureLoop<T>(
  work: () => Promise<T>,
  opts: { resolution?: number } = {},
): Promise<{ value: T } & LoopReading> {
  const watch = startLoopWatch(opts);
  let value: T;
  try {
    await new Promise((r) => setTimeout(r, 50)); // the monitor is ticking
    value = await work();
  } catch (err) {
    await watch.stop();
    throw err;
  }
  return { value, ...(await watch.stop()) };
}

/** The loop's reading while `work` runs. */
export async function loopDelay(work: () => Promise<unknown>): Promise<LoopReading> {
  const { maxMs, cpuMs } = await measureLoop(work);
  return { maxMs, cpuMs };
}

/**
 * Fails when the loop was held longer than the bound (`what` names the request in the message):
 * a delay over the bound counts unless the longest turn's own CPU time was within the bound.
 */
export function assertLoop(r: LoopReading, what = 'event loop'): void {
  const text = `${what}: event loop delayed ${r.maxMs.toFixed(0)} ms, longest turn ${r.cpuMs.toFixed(0)} ms of CPU (bound ${LOOP_BOUND_MS} ms)`;
  if (r.maxMs > LOOP_BOUND_MS && r.cpuMs <= LOOP_BOUND_MS)
    process.stdout.write(`# ${text}: the delay was the machine's load\n`);
  assert.ok(r.maxMs <= LOOP_BOUND_MS || r.cpuMs <= LOOP_BOUND_MS, text);
}
