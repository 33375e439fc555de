/**
 * For the full-disk tests (a small tmpfs under the data directory): filling the disk, and text that
 * no compression makes smaller.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

/** Incompressible but deterministic text (no randomness): hex of a hash chain, CRLF lines. */
export function hashNoise(bytes: number, label: string): string {
  const parts: string[] = [];
  let h = createHash('sha256').update(label).digest();
  for (let n = 0; n < bytes; n += 64) {
    h = createHash('sha256').update(h).digest();
    parts.push(h.toString('hex'));
  }
  return parts.join('\r\n');
}

/** Writes `file` until the disk refuses (ENOSPC). */
export function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}
