/**
 * Header blocks get their own table, so a header-only FETCH (Thunderbird's header sync) reads
 * dense pages of headers instead of every page of message_raw, where each header shares its
 * pages with its body. With 10,000 messages of 20 KB the header fetch decrypted ~90 MB of pages
 * (the store outgrew the page cache); the header blocks alone are ~10 MB.
 *
 * From now on raw = message_heads.head || decoded message_raw.body. New rows store an empty
 * message_raw.head; rows copied here keep their old copy there (clearing it would rewrite every
 * page of message_raw during the upgrade), and it is never read again.
 */
import type { Migration } from './types.ts';

export const migration0004: Migration = {
  version: 4,
  name: 'message-heads',
  up(db) {
    db.exec(`
      CREATE TABLE message_heads (
        blob_id INTEGER PRIMARY KEY REFERENCES message_blobs(id) ON DELETE CASCADE,
        head BLOB NOT NULL
      ) STRICT;
      INSERT INTO message_heads (blob_id, head) SELECT blob_id, head FROM message_raw ORDER BY blob_id;
    `);
  },
};
