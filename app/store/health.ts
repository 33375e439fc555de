/**
 * Store health for bug reports: SQLite's integrity check and what the store holds (messages per
 * folder, pending changes), plus the subjects of the newest messages, which a report redacts by
 * exact match wherever they turn up in log text.
 */
import { STORE_SQL } from './sql.ts';
import type { Store } from './store.ts';

export interface FolderCount {
  accountId: number;
  name: string;
  specialUse: string | null;
  messages: number;
}

export interface StoreHealth {
  /** `PRAGMA integrity_check` rows: ['ok'] when the database is sound. */
  integrity: string[];
  messages: number;
  folders: FolderCount[];
  pendingChanges: number;
  outbox: number;
  /** Messages not yet in the full-text index (searches check them directly, at a cost). */
  searchBacklog: number;
}

/** Runs the integrity check (the whole database is read: seconds for a large store) and counts. */
export function storeHealth(store: Store, maxErrors = 100): StoreHealth {
  const integrity = store[STORE_SQL].db
    .prepare(`PRAGMA integrity_check(${Math.max(1, Math.floor(maxErrors))})`)
    .pluck()
    .all() as string[];
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
