/**
 * A bounded local body cache (issue 20): a message's body bytes may be dropped ("evicted") while
 * everything else of it stays — its row, flags, size, ENVELOPE/BODYSTRUCTURE, header block, summary
 * fields, full-text index entry and provider mapping — and be fetched again from the provider.
 *
 * `body_cache` has one row per stored body (message_raw row): the stored (packed) bytes of the body
 * inline or in chunks, whether it is evicted, and when it was last read (ms since the epoch; a
 * message never read counts from its Date header, so old unread mail goes first). The partial
 * index walks the bodies still held, least recently read first. `body_cache_totals` keeps the sums
 * (kept by triggers), so `status` reads one row. An evicted body is a message_raw row with
 * `compression = -1` and an empty body (its chunks, if any, are swept as a loose body).
 *
 * Existing bodies are counted here: one read of message_raw's record headers and of body_chunks
 * (length() does not read a blob's overflow pages).
 */
import type { Migration } from './types.ts';

export const migration0015: Migration = {
  version: 15,
  name: 'body-cache',
  up(db) {
    db.exec(`
      CREATE TABLE body_cache (
        blob_id INTEGER PRIMARY KEY REFERENCES message_blobs(id) ON DELETE CASCADE,
        read_at INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        evicted INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX body_cache_lru ON body_cache(read_at) WHERE evicted = 0;
      CREATE TABLE body_cache_totals (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        stored INTEGER NOT NULL,
        evicted INTEGER NOT NULL
      ) STRICT;

      INSERT INTO body_cache (blob_id, read_at, bytes, evicted)
        SELECT mr.blob_id, coalesce(b.date, 0),
               length(mr.body) + coalesce((SELECT sum(length(c.data)) FROM body_chunks c WHERE c.body_id = mr.chunks), 0),
               0
          FROM message_raw mr JOIN message_blobs b ON b.id = mr.blob_id;
      INSERT INTO body_cache_totals (id, stored, evicted)
        SELECT 1, coalesce(sum(bytes), 0), 0 FROM body_cache;

      CREATE TRIGGER body_cache_insert AFTER INSERT ON body_cache BEGIN
        UPDATE body_cache_totals SET stored = stored + new.bytes, evicted = evicted + new.evicted WHERE id = 1;
      END;
      CREATE TRIGGER body_cache_delete AFTER DELETE ON body_cache BEGIN
        UPDATE body_cache_totals SET stored = stored - old.bytes, evicted = evicted - old.evicted WHERE id = 1;
      END;
      CREATE TRIGGER body_cache_update AFTER UPDATE OF bytes, evicted ON body_cache BEGIN
        UPDATE body_cache_totals SET stored = stored + new.bytes - old.bytes,
          evicted = evicted + new.evicted - old.evicted WHERE id = 1;
      END;

      CREATE TRIGGER message_raw_cache_insert AFTER INSERT ON message_raw BEGIN
        INSERT INTO body_cache (blob_id, read_at, bytes, evicted) VALUES (
          new.blob_id,
          coalesce((SELECT date FROM message_blobs WHERE id = new.blob_id), 0),
          length(new.body) + coalesce((SELECT sum(length(data)) FROM body_chunks WHERE body_id = new.chunks), 0),
          new.compression = -1)
        ON CONFLICT (blob_id) DO UPDATE SET bytes = excluded.bytes, evicted = excluded.evicted;
      END;
      CREATE TRIGGER message_raw_cache_update AFTER UPDATE OF compression, body, chunks ON message_raw BEGIN
        UPDATE body_cache SET
          bytes = length(new.body) + coalesce((SELECT sum(length(data)) FROM body_chunks WHERE body_id = new.chunks), 0),
          evicted = new.compression = -1
        WHERE blob_id = new.blob_id;
      END;
    `);
  },
};
