/**
 * S/MIME certificates (issue 19): the user's own certificates with their private keys
 * (`smime_identities`), and every other certificate the bridge holds (`smime_certs`) — correspondents'
 * certificates learned from their signed mail or imported, the chains of the user's own, and the
 * certificates the user trusts as anchors (`trusted`). `smime_cert_addresses` indexes a certificate
 * under each email address it names, for the lookup by sender. The store is SQLCipher-encrypted, so
 * the private keys (PKCS#8) rest encrypted like the OpenPGP secret keys.
 */
import type { Migration } from './types.ts';

export const migration0010: Migration = {
  version: 10,
  name: 'smime',
  up(db) {
    db.exec(`
      CREATE TABLE smime_identities (
        fingerprint TEXT PRIMARY KEY,
        cert_der BLOB NOT NULL,
        key_pkcs8 BLOB NOT NULL,
        emails TEXT NOT NULL,
        subject TEXT NOT NULL,
        not_after INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE smime_certs (
        fingerprint TEXT PRIMARY KEY,
        cert_der BLOB NOT NULL,
        subject TEXT NOT NULL,
        is_ca INTEGER NOT NULL,
        trusted INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL,
        not_after INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE smime_cert_addresses (
        email TEXT NOT NULL,
        fingerprint TEXT NOT NULL REFERENCES smime_certs(fingerprint) ON DELETE CASCADE,
        PRIMARY KEY (email, fingerprint)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
