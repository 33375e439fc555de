/**
 * The outbox keeps each message's bytes in their own table. State changes (queued → sending →
 * sent, retries) then update a small row instead of rewriting the whole message — a 1 MB copy
 * was re-encrypted and re-written twice per relay. `size` is kept on the outbox row for listings.
 */
import type { Migration } from './types.ts';

export const migration0003: Migration = {
  version: 3,
  name: 'outbox-raw',
  up(db) {
    db.exec(`
      CREATE TABLE outbox_raw (
        id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
        raw BLOB NOT NULL
      ) STRICT;
      ALTER TABLE outbox ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
      UPDATE outbox SET size = length(raw);
      INSERT INTO outbox_raw (id, raw) SELECT id, raw FROM outbox;
      ALTER TABLE outbox DROP COLUMN raw;
    `);
  },
};
