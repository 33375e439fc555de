/**
 * OAuth 2.0 sign-in: an account may sign in with tokens instead of a password. The
 * credential (endpoints, client id, refresh and access token; JSON) is kept here, inside the
 * encrypted store and nowhere else; NULL for a password account.
 */
import type { Migration } from './types.ts';

export const migration0013: Migration = {
  version: 13,
  name: 'account-oauth',
  up(db) {
    db.exec(`ALTER TABLE accounts ADD COLUMN oauth TEXT;`);
  },
};
