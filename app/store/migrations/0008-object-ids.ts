/**
 * Object identifiers (IMAP OBJECTID, RFC 8474): every mailbox gets a MAILBOXID (`object_id`) and
 * every stored message blob an EMAILID (`email_id`), random (96 bits, hex, prefixed `F` / `M` as in
 * the RFC's examples), so they name nothing about the mailbox or the message and are never reused.
 * A mailbox keeps its id through renames; copies and moves share their blob, so a message keeps its
 * EMAILID wherever it is copied or moved. Rows stored before this step get theirs here.
 */
import type { Migration } from './types.ts';

export const migration0008: Migration = {
  version: 8,
  name: 'object-ids',
  up(db) {
    db.exec(`
      ALTER TABLE mailboxes ADD COLUMN object_id TEXT;
      UPDATE mailboxes SET object_id = 'F' || lower(hex(randomblob(12)));
      CREATE UNIQUE INDEX mailboxes_object_id ON mailboxes(object_id);
      ALTER TABLE message_blobs ADD COLUMN email_id TEXT;
      UPDATE message_blobs SET email_id = 'M' || lower(hex(randomblob(12)));
    `);
  },
};
