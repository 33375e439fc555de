/**
 * Summary header blocks: per stored message, the lines of the fields mail clients fetch when they
 * list a folder (app/mime/header-fields.ts SUMMARY_FIELDS), in their own table. A header sync
 * (Thunderbird's UID FETCH 1:* (... BODY.PEEK[HEADER.FIELDS (From To ...)])) then reads these
 * instead of whole header blocks: real mail's headers are mostly Received, DKIM and ARC lines, so
 * the pages read (and decrypted) per message drop several-fold, and the field scan with them.
 * Filled here from message_heads for every stored message; new messages get theirs at insert.
 */
import { summaryHeader } from '../../mime/header-fields.ts';
import type { Migration } from './types.ts';

const BATCH = 2000;

export const migration0005: Migration = {
  version: 5,
  name: 'message-summaries',
  up(db) {
    db.exec(`
      CREATE TABLE message_summaries (
        blob_id INTEGER PRIMARY KEY REFERENCES message_blobs(id) ON DELETE CASCADE,
        head BLOB NOT NULL
      ) STRICT;
    `);
    const read = db
      .prepare('SELECT blob_id, head FROM message_heads WHERE blob_id > ? ORDER BY blob_id LIMIT ?')
      .raw(true);
    const insert = db.prepare('INSERT INTO message_summaries (blob_id, head) VALUES (?, ?)');
    let last = 0;
    for (;;) {
      const rows = read.all(last, BATCH) as Array<[number, Buffer]>;
      for (const [blobId, head] of rows) insert.run(blobId, summaryHeader(head));
      if (rows.length < BATCH) break;
      last = rows[rows.length - 1]![0];
    }
  },
};
