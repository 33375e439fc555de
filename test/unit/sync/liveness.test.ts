// The sleep detector behind "recover at once after a resume from sleep": a wall clock that moved
// further than the monotonic clock (which stops while the machine is suspended) is a wake-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SleepDetector } from '../../../app/sync/remote/liveness.ts';

test('a wall-clock jump beyond the monotonic clock is reported once, ordinary ticks are not', () => {
  let wall = 1_000_000;
  let mono = 5_000;
  const woke: number[] = [];
  const d = new SleepDetector((ms) => woke.push(ms), {
    clocks: { wall: () => wall, mono: () => mono },
    jumpMs: 20_000,
  });
  for (let i = 0; i < 10; i++) {
    wall += 5000 + (i % 3); // a little drift
    mono += 5000;
    d.check();
  }
  assert.deepEqual(woke, []);
  wall += 3_600_000; // an hour asleep: the monotonic clock did not move
  mono += 5;
  d.check();
  assert.equal(woke.length, 1);
  assert.ok(woke[0]! > 3_500_000);
  wall += 5000;
  mono += 5000;
  d.check();
  assert.equal(woke.length, 1, 'reported once');
});

test('a busy event loop (both clocks move together) is not a wake-up', () => {
  let wall = 0;
  let mono = 0;
  let woke = 0;
  const d = new SleepDetector(() => woke++, { clocks: { wall: () => wall, mono: () => mono } });
  wall += 60_000;
  mono += 60_000;
  d.check();
  assert.equal(woke, 0);
});
