/**
 * What a provider message looked like at the provider (issue 20, point 4: nothing downloaded
 * twice): its size (RFC822.SIZE) and the SHA-256 of its header block (BODY[HEADER], which holds
 * its Message-ID, Date and the provider's Received lines), recorded when sync stores it. A message
 * that reappears at the provider under another UID (a restored backup, a copy made by another
 * device) is recognised from its size and header block alone, fetched without its body, and the
 * local copy is reused. Rows from before this step have none (NULL): they are matched as before.
 */
import type { Migration } from './types.ts';

export const migration0017: Migration = {
  version: 17,
  name: 'remote-identity',
  up(db) {
    db.exec(`
      ALTER TABLE remote_map ADD COLUMN remote_size INTEGER;
      ALTER TABLE remote_map ADD COLUMN remote_head BLOB;
      CREATE INDEX remote_map_identity ON remote_map(account_id, remote_size) WHERE remote_size IS NOT NULL;
    `);
  },
};
