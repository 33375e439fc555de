/**
 * Signing out and back in without a full resync (issue 20): an account signed out keeps its
 * folders, messages, flags, remote mappings and waiting local changes, but no provider
 * credentials and no sync. `signed_out_at` (ms) is set while it is signed out, NULL otherwise.
 */
import type { Migration } from './types.ts';

export const migration0020: Migration = {
  version: 20,
  name: 'account-signed-out',
  up(db) {
    db.exec(`ALTER TABLE accounts ADD COLUMN signed_out_at INTEGER;`);
  },
};
