/**
 * One bridge per data directory: `bridge.lock` is created with O_EXCL and holds the owner's pid.
 * A lock whose pid is no longer alive is stale and taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError } from '../../shared/errors.ts';

export const LOCK_FILE = 'bridge.lock';

export interface DirLock {
  readonly path: string;
  release(): void;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding the directory's lock, or null when there is none (or it is stale). */
export function lockOwner(dir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return pidAlive(pid) ? pid : null;
}

export function acquireDirLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue; // vanished in between: retry
      }
      const pid = Number.parseInt(text.trim(), 10);
      if (pidAlive(pid) || (text === '' && attempt === 0)) {
        if (pidAlive(pid))
          throw new ConflictError('locked', `another Lockbridge is already using ${dir} (pid ${pid})`);
        // empty file: another process is between create and write; give it a moment
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      rmSync(path, { force: true }); // stale
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        try {
          const owner = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
          if (owner === process.pid) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }
  throw new ConflictError('locked', `could not lock ${dir} (${LOCK_FILE} keeps changing)`);
}
