/**
 * One bridge per data directory: `bridge.lock` is a small (unencrypted, empty) SQLite database
 * that the owner holds an EXCLUSIVE transaction on for as long as it runs. The lock is the
 * operating system's file lock under SQLite, so it goes away with the process however it ends
 * (SIGKILL, crash, power loss): nothing ever has to decide whether a pid is still the owner, and a
 * reused pid cannot keep a dead bridge's lock alive. SQLite's locking instead of a hand-written
 * fcntl call: Node has no file-lock API, and the binding is already loaded for the store.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { ConflictError } from '../../shared/errors.ts';

export const LOCK_FILE = 'bridge.lock';

export interface DirLock {
  readonly path: string;
  release(): void;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** True for a lock file written by an older Lockbridge (its text was a pid), which no one can hold. */
function isLegacyPidFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n > 0 && head.subarray(0, n).toString('latin1') !== SQLITE_MAGIC.slice(0, n);
  } finally {
    closeSync(fd);
  }
}

export function acquireDirLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  if (isLegacyPidFile(path)) rmSync(path, { force: true });
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY')
      throw new ConflictError('locked', `another Lockbridge is already using ${dir} (${LOCK_FILE} is held)`);
    throw err;
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      db.close(); // rolls the transaction back and lets the OS lock go; the file stays
    },
  };
}
