/**
 * test/helpers/event-loop.ts sees a hold of the event loop that starts at once: monitorEventLoopDelay
 * records nothing before its timer first runs (a 300 ms hold right after enable() read as 14 ms), so
 * the watch also times its own timer from the moment it starts.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { assertLoop, startLoopWatch } from '../../helpers/event-loop.ts';

/** Holds the thread until it has spent `ms` of CPU time (the same hold however loaded the machine). */
function holdCpu(ms: number): void {
  const cpu = (): number => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  const start = cpu();
  while (cpu() - start < ms);
}

it('a hold of the loop right after the watch starts is seen, and fails the bound', async () => {
  const watch = startLoopWatch();
  holdCpu(300);
  const r = await watch.stop();
  assert.ok(r.maxMs >= 300 && r.cpuMs >= 300, JSON.stringify(r));
  assert.throws(() => assertLoop(r, 'a 300 ms hold'), /event loop delayed/);
});
