/**
 * Each message row records when it was saved into its mailbox (`saved_at`, ms since the epoch):
 * IMAP SAVEDATE (RFC 8514). It is set when the row is made — APPEND, a copy or move in, a sync or
 * import insert — while `internal_date` is the message's own date, which a copy keeps. Rows stored
 * before this step get their internal date, the best this store knows of when they came in.
 */
import type { Migration } from './types.ts';

export const migration0007: Migration = {
  version: 7,
  name: 'save-date',
  up(db) {
    db.exec(`
      ALTER TABLE messages ADD COLUMN saved_at INTEGER NOT NULL DEFAULT 0;
      UPDATE messages SET saved_at = internal_date;
    `);
  },
};
