/**
 * The one seam to the SQLCipher binding (better-sqlite3-multiple-ciphers). Opens a database file
 * with a raw 32-byte key in SQLCipher v4 mode and applies the store's pragmas.
 *
 * Durability: journal_mode=WAL + synchronous=NORMAL. A killed process (SIGKILL, crash) loses
 * nothing that was committed; a power loss / OS crash may lose the last few commits but never
 * corrupts the database (WAL frames are checksummed and replayed only when complete).
 *
 * temp_store=MEMORY keeps sort/temp b-trees out of plaintext temp files.
 * cache_size: 16 MiB by default (store caller may pass cacheKiB).
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import type { Logger } from '../app/shared/logger.ts';

export type SqlDatabase = Database.Database;

/**
 * SQLCipher page size, fixed for every store (it must be the same at every open). 16 KiB instead
 * of 4 KiB: ~12% less import CPU for 20 KB messages (fewer per-page HMACs/IVs), measured.
 * (sqlcipher CLI: PRAGMA cipher_page_size = 16384.)
 */
export const PAGE_SIZE = 16384;
export type SqlStatement<P extends unknown[] | object = unknown[], R = unknown> = Database.Statement<P, R>;

export interface OpenOptions {
  /** Page cache in KiB (default 32 MiB). */
  cacheKiB?: number;
  readonly?: boolean;
  /** Refuse to create the file when it does not exist (default true). */
  mustExist?: boolean;
}

/** Thrown when the key does not decrypt the file (or the file is not a database). */
export class WrongKeyError extends Error {
  override name = 'WrongKeyError';
}

export function openEncryptedDatabase(
  file: string,
  key: Buffer,
  logger: Logger,
  opts: OpenOptions = {},
): SqlDatabase {
  if (key.length !== 32) throw new Error('the database key must be 32 bytes');
  if (!opts.readonly) ownerOnly(file, opts.mustExist ?? true);
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.mustExist ?? true });
  try {
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    db.pragma(`legacy_page_size=${PAGE_SIZE}`);
    db.pragma(`key="x'${key.toString('hex')}'"`);
    // One process, one connection per store (the dir lock refuses a second): no shared-memory
    // wal-index and no file lock per statement (syscalls; about half a primary-key lookup's cost
    // here). Set before the first read, or an existing WAL store opens with the shared index.
    db.pragma('locking_mode = EXCLUSIVE');
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      throw new WrongKeyError('the database key does not open this store', { cause: err });
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // The commit that takes the WAL past this many pages copies the WAL into the database and
    // fsyncs it, in that (synchronous) call: at SQLite's default of 1000 pages (16 MiB here) that
    // held the event loop 230-380 ms, at 256 pages (4 MiB) 60-90 ms (115-195 ms at load average
    // 13 on 2 cores), for about the same total write time (15 MB written in 256 KiB transactions).
    // The open store replaces this with a threshold that adapts (app/store/wal-checkpoint.ts).
    db.pragma('wal_autocheckpoint = 128');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    db.pragma(`cache_size = -${opts.cacheKiB ?? 16384}`);
    db.pragma('busy_timeout = 5000');
    const versions = cipherVersions(db);
    logger.info({ sqlite: versions.sqlite, cipher: versions.cipher }, 'store database opened');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The database and its -wal/-shm files readable by the owner only: SQLite creates them with 0644
 * (less the umask) and gives the -wal/-shm files the database file's mode, so the file is made
 * 0600 before SQLite first opens it, and files of an older store are set to 0600.
 */
function ownerOnly(file: string, mustExist: boolean): void {
  if (!mustExist && !existsSync(file)) closeSync(openSync(file, 'wx', 0o600));
  for (const f of [file, file + '-wal', file + '-shm']) {
    try {
      chmodSync(f, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

export function cipherVersions(db: SqlDatabase): { sqlite: string; cipher: string } {
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  let cipher = 'unknown';
  try {
    const row = db.prepare('SELECT sqlite3mc_version() AS v').get() as { v: string } | undefined;
    if (row?.v) cipher = row.v;
  } catch {
    // not a SQLite3MultipleCiphers build
  }
  return { sqlite, cipher };
}
