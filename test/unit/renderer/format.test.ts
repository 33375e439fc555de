// Display formatting used across the UI: fingerprints in readable groups, percentages, sizes, dates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fileSafe,
  fingerprintGroups,
  formatBytes,
  formatDay,
  formatEta,
  formatFingerprint,
  formatTime,
  percent,
} from '../../../renderer/src/format.ts';

const FPR = '0123456789abcdef0123456789ABCDEF01234567';

test('fingerprints are grouped by four, upper case, with a gap in the middle', () => {
  assert.deepEqual(fingerprintGroups(FPR).slice(0, 3), ['0123', '4567', '89AB']);
  assert.equal(fingerprintGroups(FPR).length, 10);
  assert.equal(formatFingerprint(FPR), '0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567');
  assert.equal(formatFingerprint('01 23:45-67'), '0123  4567', 'separators ignored');
  assert.equal(fingerprintGroups('A'.repeat(64)).length, 16, 'v6 fingerprints');
});

test('percent: whole numbers, clamped, empty total is complete', () => {
  assert.equal(percent(0, 10), 0);
  assert.equal(percent(5, 10), 50);
  assert.equal(percent(999, 1000), 99, 'never rounds up to 100 before done');
  assert.equal(percent(10, 10), 100);
  assert.equal(percent(12, 10), 100);
  assert.equal(percent(0, 0), 100);
  assert.equal(percent(-3, 10), 0);
});

test('sizes, days, times, ETAs, file names', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(50 * 1024 * 1024), '50 MB');
  assert.equal(formatDay('2026-03-14T10:00:00.000Z'), '2026-03-14');
  assert.equal(formatDay(null), '');
  assert.equal(formatDay('nonsense'), '');
  assert.equal(formatTime('2026-03-14T10:11:12.345Z'), '2026-03-14 10:11:12');
  assert.equal(formatEta(null), '');
  assert.equal(formatEta(30), '30 s');
  assert.equal(formatEta(600), '10 min');
  assert.equal(formatEta(3900), '1 h 5 min');
  assert.equal(fileSafe('a b/c@d.org'), 'a_b_c@d.org');
});
