/**
 * The keyring's storage (tables own_keys, contacts, contact_keys, key_changes, autocrypt_peers)
 * for app/keys. It satisfies app/keys/types.ts `KeyringRepo` structurally (the store layer may
 * not import app/keys; app/index.ts hands it to the keyring as the port, so the type check
 * proves it). The records are declared once, in keyring-records.ts; keys re-exports them.
 */
import { STORE_SQL, type StoreDb } from '../sql.ts';
import type { Store } from '../store.ts';
import type {
  AutocryptPeerRecord,
  ContactKeyRecord,
  ContactRecord,
  KeyChangeRecord,
  KeySource,
  KeyTrust,
  OwnKeyRecord,
  PreferEncrypt,
} from './keyring-records.ts';

interface OwnSql {
  fingerprint: string;
  email: string;
  name: string;
  armored_secret: string;
  armored_public: string;
  revocation_cert: string;
  created_at: number;
  expires_at: number | null;
  status: OwnKeyRecord['status'];
  backed_up_at: number | null;
  prefer_encrypt: string;
}
interface ContactSql {
  email: string;
  encrypt: string | null;
  sign: number | null;
  attach_key: number | null;
  created_at: number;
}
interface ContactKeySql {
  email: string;
  fingerprint: string;
  armored: string;
  source: string;
  trust: string;
  status: string;
  first_seen: number;
  last_seen: number;
  created_at: number;
  expires_at: number | null;
  revoked: number;
}
interface ChangeSql {
  id: string;
  email: string;
  old_fingerprint: string;
  new_fingerprint: string;
  source: string;
  seen_at: number;
  resolved_at: number | null;
  resolution: string | null;
}
interface PeerSql {
  email: string;
  last_seen: number;
  autocrypt_timestamp: number | null;
  public_key: Buffer | null;
  prefer_encrypt: string;
  gossip_timestamp: number | null;
  gossip_key: Buffer | null;
}

const pe = (v: string): PreferEncrypt => (v === 'mutual' ? 'mutual' : 'nopreference');
const bool = (v: number | null): boolean | null => (v === null ? null : v !== 0);
const int = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
const bytes = (v: Buffer | null): Uint8Array | null => (v === null ? null : new Uint8Array(v));
const blob = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v));

function ownFrom(r: OwnSql): OwnKeyRecord {
  return {
    fingerprint: r.fingerprint,
    email: r.email,
    name: r.name,
    armoredSecret: r.armored_secret,
    armoredPublic: r.armored_public,
    revocationCert: r.revocation_cert,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    status: r.status,
    backedUpAt: r.backed_up_at,
    preferEncrypt: pe(r.prefer_encrypt),
  };
}
function contactFrom(r: ContactSql): ContactRecord {
  return {
    email: r.email,
    encrypt: (r.encrypt as ContactRecord['encrypt']) ?? null,
    sign: bool(r.sign),
    attachKey: bool(r.attach_key),
    createdAt: r.created_at,
  };
}
function contactKeyFrom(r: ContactKeySql): ContactKeyRecord {
  return {
    email: r.email,
    fingerprint: r.fingerprint,
    armored: r.armored,
    source: r.source as KeySource,
    trust: r.trust as KeyTrust,
    status: r.status as ContactKeyRecord['status'],
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revoked: r.revoked !== 0,
  };
}
function changeFrom(r: ChangeSql): KeyChangeRecord {
  return {
    id: r.id,
    email: r.email,
    oldFingerprint: r.old_fingerprint,
    newFingerprint: r.new_fingerprint,
    source: r.source as KeySource,
    seenAt: r.seen_at,
    resolvedAt: r.resolved_at,
    resolution: (r.resolution as KeyChangeRecord['resolution']) ?? null,
  };
}
function peerFrom(r: PeerSql): AutocryptPeerRecord {
  return {
    email: r.email,
    lastSeen: r.last_seen,
    autocryptTimestamp: r.autocrypt_timestamp,
    publicKey: bytes(r.public_key),
    preferEncrypt: pe(r.prefer_encrypt),
    gossipTimestamp: r.gossip_timestamp,
    gossipKey: bytes(r.gossip_key),
  };
}

export class StoreKeyringRepo {
  readonly #s: StoreDb;
  constructor(store: Store) {
    this.#s = store[STORE_SQL];
  }

  listOwnKeys(email?: string): OwnKeyRecord[] {
    const rows =
      email === undefined
        ? this.#s.prepare<OwnSql>('SELECT * FROM own_keys ORDER BY email, created_at').all()
        : this.#s.prepare<OwnSql>('SELECT * FROM own_keys WHERE email = ? ORDER BY created_at').all(email);
    return rows.map(ownFrom);
  }
  getOwnKey(fingerprint: string): OwnKeyRecord | null {
    const r = this.#s.prepare<OwnSql>('SELECT * FROM own_keys WHERE fingerprint = ?').get(fingerprint);
    return r ? ownFrom(r) : null;
  }
  putOwnKey(k: OwnKeyRecord): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO own_keys (fingerprint, email, name, armored_secret, armored_public, revocation_cert, created_at, expires_at, status, backed_up_at, prefer_encrypt)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(fingerprint) DO UPDATE SET email = excluded.email, name = excluded.name, armored_secret = excluded.armored_secret,
             armored_public = excluded.armored_public, revocation_cert = excluded.revocation_cert, created_at = excluded.created_at,
             expires_at = excluded.expires_at, status = excluded.status, backed_up_at = excluded.backed_up_at, prefer_encrypt = excluded.prefer_encrypt`,
        )
        .run(
          k.fingerprint,
          k.email,
          k.name,
          k.armoredSecret,
          k.armoredPublic,
          k.revocationCert,
          k.createdAt,
          k.expiresAt,
          k.status,
          k.backedUpAt,
          k.preferEncrypt,
        ),
    );
  }
  deleteOwnKey(fingerprint: string): void {
    this.#s.write(() => this.#s.prepare('DELETE FROM own_keys WHERE fingerprint = ?').run(fingerprint));
  }

  getContact(email: string): ContactRecord | null {
    const r = this.#s.prepare<ContactSql>('SELECT * FROM contacts WHERE email = ?').get(email);
    return r ? contactFrom(r) : null;
  }
  putContact(c: ContactRecord): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO contacts (email, encrypt, sign, attach_key, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(email) DO UPDATE SET encrypt = excluded.encrypt, sign = excluded.sign, attach_key = excluded.attach_key, created_at = excluded.created_at`,
        )
        .run(c.email, c.encrypt, int(c.sign), int(c.attachKey), c.createdAt),
    );
  }
  listContacts(): ContactRecord[] {
    return this.#s.prepare<ContactSql>('SELECT * FROM contacts ORDER BY email').all().map(contactFrom);
  }

  listContactKeys(email?: string): ContactKeyRecord[] {
    const rows =
      email === undefined
        ? this.#s.prepare<ContactKeySql>('SELECT * FROM contact_keys ORDER BY email, first_seen').all()
        : this.#s
            .prepare<ContactKeySql>('SELECT * FROM contact_keys WHERE email = ? ORDER BY first_seen')
            .all(email);
    return rows.map(contactKeyFrom);
  }
  getContactKey(email: string, fingerprint: string): ContactKeyRecord | null {
    const r = this.#s
      .prepare<ContactKeySql>('SELECT * FROM contact_keys WHERE email = ? AND fingerprint = ?')
      .get(email, fingerprint);
    return r ? contactKeyFrom(r) : null;
  }
  putContactKey(k: ContactKeyRecord): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO contact_keys (email, fingerprint, armored, source, trust, status, first_seen, last_seen, created_at, expires_at, revoked)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(email, fingerprint) DO UPDATE SET armored = excluded.armored, source = excluded.source, trust = excluded.trust,
             status = excluded.status, first_seen = excluded.first_seen, last_seen = excluded.last_seen, created_at = excluded.created_at,
             expires_at = excluded.expires_at, revoked = excluded.revoked`,
        )
        .run(
          k.email,
          k.fingerprint,
          k.armored,
          k.source,
          k.trust,
          k.status,
          k.firstSeen,
          k.lastSeen,
          k.createdAt,
          k.expiresAt,
          k.revoked ? 1 : 0,
        ),
    );
  }
  deleteContactKey(email: string, fingerprint: string): void {
    this.#s.write(() =>
      this.#s.prepare('DELETE FROM contact_keys WHERE email = ? AND fingerprint = ?').run(email, fingerprint),
    );
  }

  /** A new key change: an id already recorded is an error (putKeyChange replaces). */
  addKeyChange(c: KeyChangeRecord): void {
    this.#writeKeyChange(c, '');
  }
  getKeyChange(id: string): KeyChangeRecord | null {
    const r = this.#s.prepare<ChangeSql>('SELECT * FROM key_changes WHERE id = ?').get(id);
    return r ? changeFrom(r) : null;
  }
  listKeyChanges(opts: { email?: string; unresolvedOnly?: boolean } = {}): KeyChangeRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.email !== undefined) {
      where.push('email = ?');
      args.push(opts.email);
    }
    if (opts.unresolvedOnly) where.push('resolution IS NULL');
    const sql = `SELECT * FROM key_changes${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY seen_at, rowid`;
    return this.#s
      .prepare<ChangeSql>(sql)
      .all(...args)
      .map(changeFrom);
  }
  putKeyChange(c: KeyChangeRecord): void {
    this.#writeKeyChange(
      c,
      `ON CONFLICT(id) DO UPDATE SET email = excluded.email, old_fingerprint = excluded.old_fingerprint, new_fingerprint = excluded.new_fingerprint,
         source = excluded.source, seen_at = excluded.seen_at, resolved_at = excluded.resolved_at, resolution = excluded.resolution`,
    );
  }
  #writeKeyChange(c: KeyChangeRecord, onConflict: string): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO key_changes (id, email, old_fingerprint, new_fingerprint, source, seen_at, resolved_at, resolution) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${onConflict}`,
        )
        .run(
          c.id,
          c.email,
          c.oldFingerprint,
          c.newFingerprint,
          c.source,
          c.seenAt,
          c.resolvedAt,
          c.resolution,
        ),
    );
  }

  getPeer(email: string): AutocryptPeerRecord | null {
    const r = this.#s.prepare<PeerSql>('SELECT * FROM autocrypt_peers WHERE email = ?').get(email);
    return r ? peerFrom(r) : null;
  }
  putPeer(p: AutocryptPeerRecord): void {
    this.#s.write(() =>
      this.#s
        .prepare(
          `INSERT INTO autocrypt_peers (email, last_seen, autocrypt_timestamp, public_key, prefer_encrypt, gossip_timestamp, gossip_key) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(email) DO UPDATE SET last_seen = excluded.last_seen, autocrypt_timestamp = excluded.autocrypt_timestamp, public_key = excluded.public_key,
             prefer_encrypt = excluded.prefer_encrypt, gossip_timestamp = excluded.gossip_timestamp, gossip_key = excluded.gossip_key`,
        )
        .run(
          p.email,
          p.lastSeen,
          p.autocryptTimestamp,
          blob(p.publicKey),
          p.preferEncrypt,
          p.gossipTimestamp,
          blob(p.gossipKey),
        ),
    );
  }
  listPeers(): AutocryptPeerRecord[] {
    return this.#s.prepare<PeerSql>('SELECT * FROM autocrypt_peers ORDER BY email').all().map(peerFrom);
  }

  transaction<T>(fn: () => T): T {
    return this.#s.write(fn);
  }
}
