/**
 * Store health for bug reports: SQLite's integrity check and what the store holds (messages per
 * folder, pending changes), plus the subjects of the newest messages, which a report redacts by
 * exact match wherever they turn up in log text.
 */
import { randomBytes } from 'node:crypto';
import { constants, truncateSync } from 'node:fs';
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { freeBytes } from '../config/disk.ts';
import { STORE_KEY, STORE_SQL } from './sql.ts';
import { DB_FILE, type Store } from './store.ts';

/** The worker entry next to this file (.ts when run from source, .js once compiled for Electron). */
const CHECK_WORKER_URL = new URL(
  `./integrity-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);
/** The copies the check reads are named so, in the data directory (removed after each check). */
const COPY_PREFIX = `${DB_FILE}.check-`;
/** Free space the disk must keep beyond a copy of the store (for the store's own writes), at least. */
const SPARE_BYTES = 16 * 1024 * 1024;

export interface FolderCount {
  accountId: number;
  name: string;
  specialUse: string | null;
  messages: number;
}

export interface StoreHealth {
  /**
   * `PRAGMA integrity_check` rows: ['ok'] when the database is sound; an error of the check itself
   * (a page that does not decrypt) as one line; one line beginning 'not checked:' when it could not
   * run (no room on the disk for the copy, the store closed meanwhile).
   */
  integrity: string[];
  messages: number;
  folders: FolderCount[];
  pendingChanges: number;
  outbox: number;
  /** Messages not yet in the full-text index (searches check them directly, at a cost). */
  searchBacklog: number;
}

/** Runs the integrity check (see integrityCheck: the event loop stays free) and counts. */
export async function storeHealth(store: Store, maxErrors = 100): Promise<StoreHealth> {
  const integrity = await integrityCheck(store, maxErrors);
  type Row = { account_id: number; name: string; special_use: string | null; n: number };
  const folders = store[STORE_SQL].prepare<Row>(
    `SELECT b.account_id, b.name, b.special_use, count(m.id) AS n
         FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id
        GROUP BY b.id ORDER BY b.account_id, b.name`,
  )
    .all()
    .map((r: Row) => ({ accountId: r.account_id, name: r.name, specialUse: r.special_use, messages: r.n }));
  const one = (sql: string): number => store[STORE_SQL].prepare<{ n: number }>(sql).get()?.n ?? 0;
  return {
    integrity,
    messages: one('SELECT count(*) AS n FROM messages'),
    folders,
    pendingChanges: one('SELECT count(*) AS n FROM pending_changes'),
    outbox: one('SELECT count(*) AS n FROM outbox'),
    searchBacklog: store.messages.ftsBacklog(),
  };
}

/** The distinct subjects of the newest `limit` stored messages (for exact-match redaction). */
export function recentSubjects(store: Store, limit = 2000): string[] {
  return store[STORE_SQL].prepare<{ subject: string }>(
    `SELECT DISTINCT subject FROM (SELECT subject FROM message_blobs ORDER BY id DESC LIMIT ?)
        WHERE subject IS NOT NULL AND subject <> ''`,
  )
    .all(limit)
    .map((r: { subject: string }) => r.subject);
}

/** The check running for a store, which a second caller waits for rather than start another. */
const running = new WeakMap<Store, Promise<string[]>>();

/**
 * `PRAGMA integrity_check` without holding the event loop: on a byte copy of the database file,
 * in a worker thread. Why a copy: the check reads the whole database in one call (300-500 ms for
 * 45 MB, seconds for gigabytes), and no other connection can open the live database
 * (locking_mode=EXCLUSIVE keeps the WAL index in this connection's memory); after a full checkpoint
 * the database file alone is the store as of that moment, and it is not written again before the
 * next checkpoint, which waits until the copy is made. The copy is encrypted as the store is (page
 * by page, same key), lives in the data directory and is removed after the check.
 */
export function integrityCheck(store: Store, maxErrors = 100): Promise<string[]> {
  let p = running.get(store);
  if (!p) {
    p = checkOnCopy(store, Math.max(1, Math.floor(maxErrors))).finally(() => running.delete(store));
    running.set(store, p);
  }
  return p;
}

async function checkOnCopy(store: Store, maxErrors: number): Promise<string[]> {
  const sql = store[STORE_SQL];
  const file = join(store.dir, DB_FILE);
  await removeCopies(store.dir); // left by a process that died during a check
  const size = (await stat(file)).size;
  const free = freeBytes(store.dir);
  const needed = size + Math.max(SPARE_BYTES, size / 4);
  if (free !== null && free < needed)
    return [
      `not checked: the check reads a copy of the store, which needs ${mib(needed)} MiB free on its disk (${mib(free)} MiB are)`,
    ];
  if (store.closed) return ['not checked: the store closed'];
  const copy = join(store.dir, `${COPY_PREFIX}${randomBytes(6).toString('hex')}`);
  let stopped = false;
  let worker: Worker | null = null;
  // closing the store: the copy is cut to nothing, so the check ends at its next read, and the
  // worker is stopped (it must not hold the process's exit for the rest of a long check)
  const stop = (): void => {
    stopped = true;
    try {
      truncateSync(copy, 0);
    } catch {
      // not made yet, or gone
    }
    void worker?.terminate();
  };
  sql.closing.add(stop);
  try {
    const release = sql.checkpoints.hold(); // in the same turn as the checkpoint below
    try {
      const [cp] = sql.db.pragma('wal_checkpoint(TRUNCATE)') as {
        busy: number;
        log: number;
        checkpointed: number;
      }[];
      if (!cp || cp.busy !== 0 || cp.log !== cp.checkpointed) return ['not checked: the store was busy'];
      await copyFile(file, copy, constants.COPYFILE_FICLONE);
    } finally {
      release();
    }
    if (stopped) return ['not checked: the store closed'];
    const rows = await new Promise<string[]>((resolve) => {
      const key = store[STORE_KEY];
      try {
        worker = new Worker(CHECK_WORKER_URL, { workerData: { file: copy, key, maxErrors } });
      } finally {
        key.fill(0); // the worker has its own copy
      }
      worker.once('message', (m: { rows: string[] } | { error: string }) =>
        resolve('rows' in m ? m.rows : [m.error]),
      );
      worker.once('error', (err) => resolve([`not checked: ${err.message}`]));
      worker.once('exit', () => resolve(['not checked: the check stopped']));
    });
    return stopped ? ['not checked: the store closed'] : rows;
  } finally {
    sql.closing.delete(stop);
    await (worker as Worker | null)?.terminate();
    await removeCopy(copy);
  }
}

async function removeCopy(copy: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(copy + suffix, { force: true });
}

async function removeCopies(dir: string): Promise<void> {
  for (const name of await readdir(dir))
    if (name.startsWith(COPY_PREFIX)) await rm(join(dir, name), { force: true });
}

function mib(bytes: number): number {
  return Math.ceil(bytes / (1024 * 1024));
}
