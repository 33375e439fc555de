/**
 * A new body joins the body cache (migration 15) when it is added to the full-text index, not when
 * it is stored: a body is evicted only once indexed, so until then it needs no `body_cache` row
 * and no place in the LRU index. Its stored size waits in its `fts_queue` row (`bytes`) meanwhile,
 * and the status sums that with `body_cache_totals`. An APPEND then writes one page less for the
 * `body_cache` row, one for its LRU index entry and one for the totals row (of ~18 encrypted 16 KiB
 * pages); the indexer moves the rows in batches.
 *
 * Every stored body is counted once: in `body_cache`, or in its queue row's `bytes` (never both).
 * Queue rows from before this step have no `bytes` (NULL): their bodies have `body_cache` rows.
 */
import type { Migration } from './types.ts';

/** The stored (packed) bytes of the message_raw row `r` (`new` or `old`): inline or in chunks. */
const bytes = (r: string): string =>
  `length(${r}.body) + coalesce((SELECT sum(length(data)) FROM body_chunks WHERE body_id = ${r}.chunks), 0)`;

export const migration0019: Migration = {
  version: 19,
  name: 'body-cache-at-index',
  up(db) {
    db.exec(`
      ALTER TABLE fts_queue ADD COLUMN bytes INTEGER;

      DROP TRIGGER message_raw_cache_insert;
      CREATE TRIGGER message_raw_cache_insert AFTER INSERT ON message_raw BEGIN
        UPDATE fts_queue SET bytes = ${bytes('new')}
         WHERE blob_id = new.blob_id AND NOT EXISTS (SELECT 1 FROM body_cache WHERE blob_id = new.blob_id);
        INSERT INTO body_cache (blob_id, read_at, bytes, evicted)
          SELECT new.blob_id, coalesce((SELECT date FROM message_blobs WHERE id = new.blob_id), 0),
                 ${bytes('new')}, new.compression = -1
           WHERE NOT EXISTS (SELECT 1 FROM fts_queue WHERE blob_id = new.blob_id AND bytes IS NOT NULL)
        ON CONFLICT (blob_id) DO UPDATE SET bytes = excluded.bytes, evicted = excluded.evicted;
      END;

      DROP TRIGGER message_raw_cache_update;
      CREATE TRIGGER message_raw_cache_update AFTER UPDATE OF compression, body, chunks ON message_raw BEGIN
        UPDATE body_cache SET bytes = ${bytes('new')}, evicted = new.compression = -1 WHERE blob_id = new.blob_id;
        UPDATE fts_queue SET bytes = ${bytes('new')} WHERE blob_id = new.blob_id AND bytes IS NOT NULL;
      END;
    `);
  },
};
