/**
 * Mailbox ids are never reused. SQLite gives a new row max(rowid) + 1, so deleting the newest
 * mailbox and creating another handed the new one the old id — and the provider changes still
 * queued for the old mailbox (by mailbox id and UID) then acted on the new one's messages.
 * `mailbox_ids` is an AUTOINCREMENT sequence (its rows are deleted at once; sqlite_sequence keeps
 * the high-water mark), started above every id in use.
 */
import type { Migration } from './types.ts';

export const migration0011: Migration = {
  version: 11,
  name: 'mailbox-ids',
  up(db) {
    db.exec(`
      CREATE TABLE mailbox_ids (id INTEGER PRIMARY KEY AUTOINCREMENT);
      INSERT INTO mailbox_ids (id) SELECT max(id) FROM mailboxes WHERE id IS NOT NULL HAVING count(*) > 0;
      DELETE FROM mailbox_ids;
    `);
  },
};
