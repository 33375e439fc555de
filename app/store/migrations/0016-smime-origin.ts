/**
 * S/MIME (issue 19): where each of the user's own certificates with a private key came from —
 * 'imported' (a PKCS#12 file; every one held before this step), 'issued' (a user certificate
 * Lockbridge issued for an address) or 'ca' (the root and intermediate CA of this installation
 * that issue them; their keys are held here, never used for mail).
 */
import type { Migration } from './types.ts';

export const migration0016: Migration = {
  version: 16,
  name: 'smime-origin',
  up(db) {
    db.exec(`ALTER TABLE smime_identities ADD COLUMN origin TEXT NOT NULL DEFAULT 'imported';`);
  },
};
