/**
 * S/MIME (issue 19): certificate revocation lists the user added (lockbridge certs, the control
 * API's importCertificates), keyed by the SHA-256 of their DER. A signer certificate a CRL here (or one the
 * message carries) revokes makes its signature invalid.
 */
import type { Migration } from './types.ts';

export const migration0018: Migration = {
  version: 18,
  name: 'smime-crls',
  up(db) {
    db.exec(`
      CREATE TABLE smime_crls (
        fingerprint TEXT PRIMARY KEY,
        crl_der BLOB NOT NULL,
        issuer TEXT NOT NULL,
        imported_at INTEGER NOT NULL
      );
    `);
  },
};
