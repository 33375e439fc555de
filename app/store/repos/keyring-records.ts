/**
 * The keyring's records: one row each of the tables own_keys, contacts, contact_keys, key_changes
 * and autocrypt_peers, as StoreKeyringRepo reads and writes them. Declared once, here: the store
 * owns these tables and sits below app/keys, which re-exports the records from keys/types.ts
 * beside the port (`KeyringRepo`) and the summaries it builds from them. No imports, so the
 * renderer's type check of control/contract.ts never reaches the engine.
 *
 * Conventions: e-mail addresses are canonical (lowercased, IDNA domain); fingerprints are
 * uppercase hex without spaces; times are ms since the epoch.
 */
export type KeySource = 'own' | 'manual' | 'autocrypt' | 'gossip' | 'attached' | 'wkd' | 'vks' | 'hkp';
export type KeyTrust = 'unverified' | 'verified';
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
