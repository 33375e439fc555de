/**
 * Big bodies in chunks. Writing a 20 MB message's body as one row holds the event loop for
 * 0.4-1.1 s (SQLCipher encrypts every page of it in the one synchronous statement, and the commit
 * then checkpoints it); so bodies from 1 MiB on are cut into slices of 256 KiB of the message,
 * each packed on its own, and written one slice per transaction (`body_chunks`) before the
 * message row that links them (`message_raw.chunks`) is committed in one short transaction.
 *
 * `loose_bodies` lists the chunked bodies no message links: a body being written (its id is taken
 * here before the first chunk is), and the body of a deleted message. Linking a body removes its
 * row; a background sweep deletes the chunks of the others one transaction at a time. A crash
 * while a body is written thus leaves only a loose body, which the next open sweeps; a message is
 * visible only once its body is whole. AUTOINCREMENT: a body id is never handed out twice.
 */
import type { Migration } from './types.ts';

export const migration0009: Migration = {
  version: 9,
  name: 'body-chunks',
  up(db) {
    db.exec(`
      CREATE TABLE loose_bodies (body_id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE body_chunks (
        body_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        compression INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (body_id, seq)
      ) STRICT;
      ALTER TABLE message_raw ADD COLUMN chunks INTEGER;
      CREATE UNIQUE INDEX message_raw_chunks ON message_raw(chunks) WHERE chunks IS NOT NULL;
      CREATE TRIGGER message_raw_chunks_delete AFTER DELETE ON message_raw WHEN old.chunks IS NOT NULL BEGIN
        INSERT OR IGNORE INTO loose_bodies (body_id) VALUES (old.chunks);
      END;
      CREATE TRIGGER message_raw_chunks_update AFTER UPDATE OF chunks ON message_raw
      WHEN old.chunks IS NOT NULL AND old.chunks IS NOT new.chunks BEGIN
        INSERT OR IGNORE INTO loose_bodies (body_id) VALUES (old.chunks);
      END;
    `);
  },
};
