/**
 * Keys: the storage port (`KeyringRepo`) the keyring needs, the events it emits and the summaries
 * the control API shows.
 *
 * The key records (own keys, contacts, contact keys, key changes, Autocrypt peers) are rows of the
 * store's tables and are declared once, in app/store/repos/keyring-records.ts (the store sits
 * below keys and may not import it); they are re-exported here, so the rest of the code names
 * them from keys. app/store/repos/keyring.ts implements the port over SQLCipher,
 * `InMemoryKeyringRepo` (test/helpers/memory-keyring-repo.ts) in memory. All operations are
 * synchronous, like better-sqlite3.
 *
 * Conventions: e-mail addresses are canonical (see address.ts: lowercased, IDNA domain);
 * fingerprints are uppercase hex without spaces; times are ms since the epoch.
 */
import type * as records from '../store/repos/keyring-records.ts';

export type * from '../store/repos/keyring-records.ts';

export interface KeySummary {
  email: string;
  fingerprint: string;
  own: boolean;
  source: records.KeySource;
  trust: records.KeyTrust;
  created: string;
  expires: string | null;
  revoked: boolean;
  /** Own keys only: true until the user exported the secret key or made a Setup Message. */
  needsBackup?: boolean;
  /**
   * Contacts' keys only: 'active' = the key mail to this address is encrypted to; 'pending' = a
   * different key seen later, not used until the user accepts the key change; 'superseded' = an
   * earlier key, replaced.
   */
  use?: 'active' | 'pending' | 'superseded';
}

export interface KeyChangeWarning {
  id: string;
  email: string;
  oldFingerprint: string;
  newFingerprint: string;
  source: records.KeySource;
  seenAt: string;
}

/** The storage the keyring needs. Upserts replace the whole record. */
export interface KeyringRepo {
  listOwnKeys(email?: string): records.OwnKeyRecord[];
  getOwnKey(fingerprint: string): records.OwnKeyRecord | null;
  putOwnKey(rec: records.OwnKeyRecord): void;
  deleteOwnKey(fingerprint: string): void;

  getContact(email: string): records.ContactRecord | null;
  putContact(rec: records.ContactRecord): void;
  listContacts(): records.ContactRecord[];

  /** All keys of one address, or of every address; ordered by email, then firstSeen. */
  listContactKeys(email?: string): records.ContactKeyRecord[];
  getContactKey(email: string, fingerprint: string): records.ContactKeyRecord | null;
  putContactKey(rec: records.ContactKeyRecord): void;
  deleteContactKey(email: string, fingerprint: string): void;

  addKeyChange(rec: records.KeyChangeRecord): void;
  getKeyChange(id: string): records.KeyChangeRecord | null;
  /** Ordered by seenAt. */
  listKeyChanges(opts?: { email?: string; unresolvedOnly?: boolean }): records.KeyChangeRecord[];
  putKeyChange(rec: records.KeyChangeRecord): void;

  getPeer(email: string): records.AutocryptPeerRecord | null;
  putPeer(rec: records.AutocryptPeerRecord): void;
  listPeers(): records.AutocryptPeerRecord[];

  /** Runs fn atomically (better-sqlite3 transaction); nested calls join the outer one. */
  transaction<T>(fn: () => T): T;
}

/** Events the keyring emits (the control layer forwards key-change as a BridgeEvent). */
export type KeyringEvent =
  | { type: 'key-change'; change: records.KeyChangeRecord }
  | {
      type: 'own-key';
      email: string;
      fingerprint: string;
      action: 'generated' | 'imported' | 'renewed' | 'rotated';
    }
  | { type: 'backup-needed'; email: string; fingerprint: string };

/** An S/MIME certificate as the control API shows it (keys/smime.ts). */
/** One of the user's own S/MIME certificates that has expired or expires soon (status, certs list). */
export interface CertificateWarning {
  fingerprint: string;
  emails: string[];
  notAfter: string;
  expired: boolean;
  /** whole days left (0 when expired or expiring today) */
  daysLeft: number;
}

/** An imported certificate revocation list: its issuer's name, dates (ISO), how many it revokes. */
export interface CrlSummary {
  issuer: string;
  thisUpdate: string;
  nextUpdate?: string;
  revoked: number;
}

export interface CertificateSummary {
  fingerprint: string;
  subject: string;
  /** the issuer's common name (or organisation) */
  issuer: string;
  emails: string[];
  notAfter: string;
  expired: boolean;
  isCa: boolean;
  trusted: boolean;
  /**
   * own certificates: 'imported' or 'issued' (by Lockbridge); others: 'imported', 'learned' (from
   * signed mail), 'directory' (found in the S/MIME directory at send time), 'own-chain'
   */
  source: 'imported' | 'issued' | 'learned' | 'directory' | 'own-chain';
}
