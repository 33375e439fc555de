/**
 * Outbound S/MIME (issue 19): what a correspondent's certificate was last seen announcing in the
 * SMIMECapabilities of a validly signed message (algorithm OIDs, space-separated, preferred first;
 * NULL when unknown). Outgoing mail uses AES-256-GCM only for recipients that announce it.
 */
import type { Migration } from './types.ts';

export const migration0014: Migration = {
  version: 14,
  name: 'smime-capabilities',
  up(db) {
    db.exec(`ALTER TABLE smime_certs ADD COLUMN capabilities TEXT;`);
  },
};
