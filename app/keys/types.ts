/**
 * Keys: record shapes and the storage port (`KeyringRepo`) the keyring needs.
 *
 * The STORE's tables (own_keys, contacts, contact_keys, autocrypt_peers) back the real
 * implementation in app/store/repos/keyring.ts, which satisfies this interface structurally (the
 * store layer may not import app/keys). `InMemoryKeyringRepo` (test/helpers/memory-keyring-repo.ts) is the test
 * implementation. All operations are synchronous, like better-sqlite3.
 *
 * Conventions: e-mail addresses are canonical (see address.ts: lowercased, IDNA domain);
 * fingerprints are uppercase hex without spaces; times are ms since the epoch.
 */
export type KeySource = 'own' | 'manual' | 'autocrypt' | 'gossip' | 'attached' | 'wkd' | 'vks' | 'hkp';
export type KeyTrust = 'unverified' | 'verified';

export interface KeySummary {
  email: string;
  fingerprint: string;
  own: boolean;
  source: KeySource;
  trust: KeyTrust;
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
  source: KeySource;
  seenAt: string;
}

export type PreferEncrypt = 'mutual' | 'nopreference';

/** An own key pair. The secret key is kept unprotected, but only inside the encrypted store. */
export interface OwnKeyRecord {
  fingerprint: string;
  email: string;
  /** Display name put in the User ID ('' for none). */
  name: string;
  /** Armored transferable secret key (unprotected; the store database is encrypted). */
  armoredSecret: string;
  /** Armored transferable public key. */
  armoredPublic: string;
  /** Armored revocation certificate made at generation (or renewal) time. */
  revocationCert: string;
  createdAt: number;
  /** Expiry of the primary key, null = never. */
  expiresAt: number | null;
  /**
   * 'active' = the key used to sign and announced (one per address); 'retired' = kept to decrypt
   * older mail after a rotation; 'revoked' = revoked by the user (kept to decrypt).
   */
  status: 'active' | 'retired' | 'revoked';
  /** When the secret key was last exported or put in a Setup Message; null = never (needs backup). */
  backedUpAt: number | null;
  preferEncrypt: PreferEncrypt;
}

/** Per-contact settings; null fields inherit the account's settings. */
export interface ContactRecord {
  email: string;
  encrypt: 'when-possible' | 'always' | 'never' | null;
  sign: boolean | null;
  attachKey: boolean | null;
  createdAt: number;
}

/**
 * One public key seen for a contact address.
 * status: 'active' = the key used for this address (at most one per address);
 * 'pending' = a new key that differs from the active one and waits for the user (key-change warning);
 * 'superseded' = an older key replaced by an accepted/automatic change; 'rejected' = the user refused it.
 */
export interface ContactKeyRecord {
  email: string;
  fingerprint: string;
  armored: string;
  source: KeySource;
  trust: KeyTrust;
  status: 'active' | 'pending' | 'superseded' | 'rejected';
  firstSeen: number;
  lastSeen: number;
  createdAt: number;
  expiresAt: number | null;
  revoked: boolean;
}

/** A new key for a known contact that was flagged instead of being used. */
export interface KeyChangeRecord {
  id: string;
  email: string;
  oldFingerprint: string;
  newFingerprint: string;
  source: KeySource;
  seenAt: number;
  resolvedAt: number | null;
  resolution: 'accepted' | 'rejected' | null;
}

/** Autocrypt Level 1 peer state (spec "peers[addr]"), keydata kept as the binary key. */
export interface AutocryptPeerRecord {
  email: string;
  lastSeen: number;
  autocryptTimestamp: number | null;
  publicKey: Uint8Array | null;
  preferEncrypt: PreferEncrypt;
  gossipTimestamp: number | null;
  gossipKey: Uint8Array | null;
}

/** The storage the keyring needs. Upserts replace the whole record. */
export interface KeyringRepo {
  listOwnKeys(email?: string): OwnKeyRecord[];
  getOwnKey(fingerprint: string): OwnKeyRecord | null;
  putOwnKey(rec: OwnKeyRecord): void;
  deleteOwnKey(fingerprint: string): void;

  getContact(email: string): ContactRecord | null;
  putContact(rec: ContactRecord): void;
  listContacts(): ContactRecord[];

  /** All keys of one address, or of every address; ordered by email, then firstSeen. */
  listContactKeys(email?: string): ContactKeyRecord[];
  getContactKey(email: string, fingerprint: string): ContactKeyRecord | null;
  putContactKey(rec: ContactKeyRecord): void;
  deleteContactKey(email: string, fingerprint: string): void;

  addKeyChange(rec: KeyChangeRecord): void;
  getKeyChange(id: string): KeyChangeRecord | null;
  /** Ordered by seenAt. */
  listKeyChanges(opts?: { email?: string; unresolvedOnly?: boolean }): KeyChangeRecord[];
  putKeyChange(rec: KeyChangeRecord): void;

  getPeer(email: string): AutocryptPeerRecord | null;
  putPeer(rec: AutocryptPeerRecord): void;
  listPeers(): AutocryptPeerRecord[];

  /** Runs fn atomically (better-sqlite3 transaction); nested calls join the outer one. */
  transaction<T>(fn: () => T): T;
}

/** Events the keyring emits (the control layer forwards key-change as a BridgeEvent). */
export type KeyringEvent =
  | { type: 'key-change'; change: KeyChangeRecord }
  | {
      type: 'own-key';
      email: string;
      fingerprint: string;
      action: 'generated' | 'imported' | 'renewed' | 'rotated';
    }
  | { type: 'backup-needed'; email: string; fingerprint: string };

/** An S/MIME certificate as the control API shows it (keys/smime.ts). */
export interface CertificateSummary {
  fingerprint: string;
  subject: string;
  emails: string[];
  notAfter: string;
  expired: boolean;
  isCa: boolean;
  trusted: boolean;
  source: 'imported' | 'learned' | 'own-chain';
}
