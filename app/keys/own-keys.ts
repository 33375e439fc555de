/**
 * Own keys: generation (v4 EdDSA + ECDH Curve25519Legacy), import of secret keys, export, the
 * revocation certificate, renewal (extend expiry or rotate) and the backup state.
 *
 * Policy: one 'active' key per address signs and is announced (Autocrypt header, export). A
 * rotation retires the old key (kept to decrypt old mail). Secret keys are stored unprotected
 * inside the encrypted store and leave it only through exportSecret() or a Setup Message, which
 * are the two things that mark a key as backed up.
 */
import * as openpgp from 'openpgp';
import { ConflictError, NotFoundError, UserError } from '../shared/errors.ts';
import { canonicalAddress } from './address.ts';
import type { KeyringDeps } from './deps.ts';
import { fingerprintOf, inspectKey, keyEmails } from './key-info.ts';
import { KeyedMutex } from '../shared/keyed-mutex.ts';
import { DEFAULT_OWN_KEY_DAYS, INTEROP_CONFIG, OWN_KEY_TYPE } from './pgp-config.ts';
import type { OwnKeyRecord, PreferEncrypt } from './types.ts';

const DAY = 86_400_000;

export interface GenerateOptions {
  name?: string;
  /** Lifetime in days; 0 = never expires. Default 3 years. */
  days?: number;
  preferEncrypt?: PreferEncrypt;
}

export type RenewMode = 'extend' | 'rotate';

export class OwnKeys {
  readonly #d: KeyringDeps;
  readonly #lock = new KeyedMutex();
  constructor(deps: KeyringDeps) {
    this.#d = deps;
  }

  /** The key that signs and is announced for this address, or null. */
  active(email: string): OwnKeyRecord | null {
    const addr = canonicalAddress(email);
    return this.#d.repo.listOwnKeys(addr).find((k) => k.status === 'active') ?? null;
  }

  list(email?: string): OwnKeyRecord[] {
    return this.#d.repo.listOwnKeys(email === undefined ? undefined : canonicalAddress(email));
  }

  /** True until the active key of the address was exported with its secret or put in a Setup Message. */
  needsBackup(email: string): boolean {
    const k = this.active(email);
    return k !== null && k.backedUpAt === null;
  }

  async generate(email: string, opts: GenerateOptions = {}): Promise<OwnKeyRecord> {
    const addr = canonicalAddress(email);
    return this.#lock.run(addr, () => this.#generate(addr, opts));
  }

  async #generate(addr: string, opts: GenerateOptions): Promise<OwnKeyRecord> {
    if (this.active(addr))
      throw new ConflictError('key-exists', `${addr} already has a key (renew or rotate it instead)`);
    const rec = await this.#make(addr, opts);
    this.#d.repo.putOwnKey(rec);
    this.#d.logger.info({ fingerprint: rec.fingerprint }, 'own key generated');
    this.#d.emit({ type: 'own-key', email: addr, fingerprint: rec.fingerprint, action: 'generated' });
    this.#d.emit({ type: 'backup-needed', email: addr, fingerprint: rec.fingerprint });
    return rec;
  }

  async #make(addr: string, opts: GenerateOptions): Promise<OwnKeyRecord> {
    const now = this.#d.now();
    const days = opts.days ?? DEFAULT_OWN_KEY_DAYS;
    const name = (opts.name ?? '').trim();
    const { privateKey, publicKey, revocationCertificate } = await openpgp.generateKey({
      ...OWN_KEY_TYPE,
      userIDs: [name ? { name, email: addr } : { email: addr }],
      keyExpirationTime: days > 0 ? Math.round(days * 86400) : 0,
      date: new Date(now),
      format: 'object',
      config: INTEROP_CONFIG,
    });
    return {
      fingerprint: fingerprintOf(privateKey),
      email: addr,
      name,
      armoredSecret: privateKey.armor(),
      armoredPublic: publicKey.armor(),
      revocationCert: revocationCertificate,
      createdAt: privateKey.getCreationTime().getTime(),
      expiresAt: days > 0 ? privateKey.getCreationTime().getTime() + Math.round(days * 86400) * 1000 : null,
      status: 'active',
      backedUpAt: null,
      preferEncrypt: opts.preferEncrypt ?? 'mutual',
    };
  }

  /**
   * Imports a secret key as an own key (from a backup or a Setup Message). A protected key needs
   * its passphrase. The imported key becomes the active key of its first address (a previous
   * active key is retired, never deleted). It counts as backed up: it came from a copy.
   */
  async importSecret(
    key: openpgp.PrivateKey,
    opts: { passphrase?: string; preferEncrypt?: PreferEncrypt } = {},
  ): Promise<OwnKeyRecord> {
    const priv = await unlockSecretKey(key, opts.passphrase);
    const now = this.#d.now();
    const info = await inspectKey(priv, new Date(now));
    const addr = info.emails[0];
    if (!addr) throw new UserError('bad-key', 'the secret key has no User ID with an e-mail address');
    if (info.revoked) throw new UserError('bad-key', `the secret key ${info.fingerprint} is revoked`);
    const existing = this.#d.repo.getOwnKey(info.fingerprint);
    let merged = priv;
    if (existing) {
      const old = await openpgp.readPrivateKey({ armoredKey: existing.armoredSecret });
      merged = await old.update(priv, new Date(now));
    }
    const mergedInfo = await inspectKey(merged, new Date(now));
    const uid = merged.users[0]?.userID;
    const rec: OwnKeyRecord = {
      fingerprint: info.fingerprint,
      email: addr,
      name: uid?.name ?? '',
      armoredSecret: merged.armor(),
      armoredPublic: merged.toPublic().armor(),
      revocationCert: existing?.revocationCert ?? (await this.#revocationCertFor(merged, now)),
      createdAt: info.createdAt,
      expiresAt: mergedInfo.expiresAt,
      status: 'active',
      backedUpAt: now,
      preferEncrypt: opts.preferEncrypt ?? existing?.preferEncrypt ?? 'mutual',
    };
    this.#d.repo.transaction(() => {
      for (const k of this.#d.repo.listOwnKeys(addr)) {
        if (k.status === 'active' && k.fingerprint !== rec.fingerprint)
          this.#d.repo.putOwnKey({ ...k, status: 'retired' });
      }
      this.#d.repo.putOwnKey(rec);
    });
    this.#d.emit({ type: 'own-key', email: addr, fingerprint: rec.fingerprint, action: 'imported' });
    return rec;
  }

  async #revocationCertFor(priv: openpgp.PrivateKey, now: number): Promise<string> {
    const { publicKey } = await openpgp.revokeKey({
      key: priv,
      reasonForRevocation: { flag: openpgp.enums.reasonForRevocation.noReason, string: '' },
      date: new Date(now),
      format: 'object',
      config: INTEROP_CONFIG,
    });
    // keep only the revocation signature, armored as gpg/openpgp.js do ("PGP PUBLIC KEY BLOCK" with the sig)
    const sig = publicKey.revocationSignatures[0];
    if (!sig) throw new Error('revocation signature missing');
    const list = new openpgp.PacketList<openpgp.SignaturePacket>();
    list.push(sig);
    return openpgp.armor(
      openpgp.enums.armor.publicKey,
      list.write(),
      undefined,
      undefined,
      'This is a revocation certificate',
    );
  }

  exportPublic(email: string): string {
    const k = this.active(email);
    if (!k) throw new NotFoundError(`own key for ${canonicalAddress(email)}`);
    return k.armoredPublic;
  }

  /**
   * Exports the secret keys of an address (active first, then retired/revoked ones, so old mail
   * stays readable), protected with AES-256 + iterated S2K when a passphrase is given. Marks them
   * backed up.
   */
  async exportSecret(email: string, opts: { passphrase?: string } = {}): Promise<string> {
    const addr = canonicalAddress(email);
    const keys = this.#d.repo
      .listOwnKeys(addr)
      .sort((a, b) => (a.status === 'active' ? -1 : b.status === 'active' ? 1 : 0));
    if (keys.length === 0) throw new NotFoundError(`own key for ${addr}`);
    const parts: string[] = [];
    for (const k of keys) parts.push(await this.armoredSecret(k, opts.passphrase));
    this.markBackedUp(keys.map((k) => k.fingerprint));
    return parts.join('\n');
  }

  /** One key's armored secret key, protected (AES-256, iterated S2K) when a passphrase is given. */
  async armoredSecret(
    rec: OwnKeyRecord,
    passphrase?: string,
    headers: Record<string, string> = {},
  ): Promise<string> {
    let priv = await openpgp.readPrivateKey({ armoredKey: rec.armoredSecret });
    if (passphrase) priv = await openpgp.encryptKey({ privateKey: priv, passphrase, config: INTEROP_CONFIG });
    return addArmorHeaders(priv.armor(), headers);
  }

  markBackedUp(fingerprints: string[]): void {
    const at = this.#d.now();
    this.#d.repo.transaction(() => {
      for (const f of fingerprints) {
        const k = this.#d.repo.getOwnKey(f);
        if (k) this.#d.repo.putOwnKey({ ...k, backedUpAt: at });
      }
    });
  }

  /** The decrypted private key of a record (for signing / decrypting). */
  async privateKey(rec: OwnKeyRecord): Promise<openpgp.PrivateKey> {
    return openpgp.readPrivateKey({ armoredKey: rec.armoredSecret });
  }

  /** Every own private key (active, retired, revoked), e.g. as decryption keys. */
  async allPrivateKeys(): Promise<openpgp.PrivateKey[]> {
    return Promise.all(this.#d.repo.listOwnKeys().map((k) => this.privateKey(k)));
  }

  /**
   * Renews the active key: 'extend' re-signs User IDs and subkeys with a new expiry (same
   * fingerprint, so correspondents keep using it after merging the update); 'rotate' makes a new key
   * and retires the old one. Either way the Autocrypt header of the next mail carries the result.
   */
  async renew(email: string, opts: { mode?: RenewMode; days?: number } = {}): Promise<OwnKeyRecord> {
    const addr = canonicalAddress(email);
    return this.#lock.run(addr, () => this.#renew(addr, opts));
  }

  async #renew(addr: string, opts: { mode?: RenewMode; days?: number }): Promise<OwnKeyRecord> {
    const cur = this.active(addr);
    if (!cur) throw new NotFoundError(`own key for ${addr}`);
    const days = opts.days ?? DEFAULT_OWN_KEY_DAYS;
    const now = this.#d.now();
    if ((opts.mode ?? 'extend') === 'rotate') {
      const rec = await this.#make(addr, { name: cur.name, days, preferEncrypt: cur.preferEncrypt });
      this.#d.repo.transaction(() => {
        this.#d.repo.putOwnKey({ ...cur, status: 'retired' });
        this.#d.repo.putOwnKey(rec);
      });
      this.#d.emit({ type: 'own-key', email: addr, fingerprint: rec.fingerprint, action: 'rotated' });
      this.#d.emit({ type: 'backup-needed', email: addr, fingerprint: rec.fingerprint });
      return rec;
    }
    const priv = await this.privateKey(cur);
    const userIDs = priv.users
      .map((u) => u.userID)
      .filter((u): u is openpgp.UserIDPacket => u !== null)
      .map((u) => (u.name ? { name: u.name, email: u.email } : { email: u.email }));
    const re = await openpgp.reformatKey({
      privateKey: priv,
      userIDs: userIDs.length ? userIDs : [{ email: addr }],
      keyExpirationTime: days > 0 ? Math.round(days * 86400) : 0,
      date: new Date(now),
      format: 'object',
      config: INTEROP_CONFIG,
    });
    const info = await inspectKey(re.privateKey, new Date(now));
    const rec: OwnKeyRecord = {
      ...cur,
      armoredSecret: re.privateKey.armor(),
      armoredPublic: re.publicKey.armor(),
      revocationCert: re.revocationCertificate,
      expiresAt: info.expiresAt,
    };
    this.#d.repo.putOwnKey(rec);
    this.#d.emit({ type: 'own-key', email: addr, fingerprint: rec.fingerprint, action: 'renewed' });
    return rec;
  }

  /** Renews the active key when it expires within `withinDays`; returns the renewed record or null. */
  async renewIfExpiring(
    email: string,
    opts: { withinDays?: number; mode?: RenewMode; days?: number } = {},
  ): Promise<OwnKeyRecord | null> {
    const cur = this.active(email);
    if (!cur || cur.expiresAt === null) return null;
    if (cur.expiresAt - this.#d.now() > (opts.withinDays ?? 30) * DAY) return null;
    return this.renew(email, opts);
  }

  /** renewIfExpiring for every own address (the runtime calls this at start and daily). */
  async renewAllExpiring(
    opts: { withinDays?: number; mode?: RenewMode; days?: number } = {},
  ): Promise<OwnKeyRecord[]> {
    const out: OwnKeyRecord[] = [];
    for (const addr of this.addresses()) {
      const r = await this.renewIfExpiring(addr, opts);
      if (r) out.push(r);
    }
    return out;
  }

  /** Revokes the active key with its stored revocation certificate (kept, to decrypt old mail). */
  async revoke(email: string): Promise<OwnKeyRecord> {
    const cur = this.active(email);
    if (!cur) throw new NotFoundError(`own key for ${canonicalAddress(email)}`);
    const priv = await this.privateKey(cur);
    const { privateKey, publicKey } = await openpgp.revokeKey({
      key: priv,
      revocationCertificate: cur.revocationCert,
      date: new Date(this.#d.now()),
      format: 'object',
    });
    const rec: OwnKeyRecord = {
      ...cur,
      status: 'revoked',
      armoredSecret: privateKey.armor(),
      armoredPublic: publicKey.armor(),
    };
    this.#d.repo.putOwnKey(rec);
    return rec;
  }

  /** The addresses own keys exist for. */
  addresses(): string[] {
    return [...new Set(this.#d.repo.listOwnKeys().map((k) => k.email))];
  }

  /** True when the key (any of its User IDs) belongs to one of our own addresses. */
  isOwnAddress(key: openpgp.Key): boolean {
    const own = new Set(this.addresses());
    return keyEmails(key).some((e) => own.has(e));
  }
}

/**
 * The unlocked copy of a secret key, as gpg and Thunderbird export them (protected with a
 * passphrase: S2K + AES/CAST5, every secret (sub)key). An unprotected key comes back as it is. The
 * unlocked key is what the store keeps (under the store's encryption); the passphrase is used here
 * and nowhere else: it is never stored, logged or put in an error.
 */
export async function unlockSecretKey(
  key: openpgp.PrivateKey,
  passphrase?: string,
): Promise<openpgp.PrivateKey> {
  if (key.isDecrypted()) return key;
  if (!passphrase)
    throw new UserError('passphrase-required', 'this secret key is protected: a passphrase is needed');
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch (err) {
    if (/incorrect key passphrase/i.test((err as Error).message ?? ''))
      throw new UserError('bad-passphrase', 'wrong passphrase for this secret key');
    throw new UserError('bad-key', `cannot unlock this secret key: ${(err as Error).message ?? String(err)}`);
  }
}

/** Inserts armor headers (e.g. Autocrypt-Prefer-Encrypt) after the BEGIN line of an armored block. */
export function addArmorHeaders(armored: string, headers: Record<string, string>): string {
  const entries = Object.entries(headers);
  if (entries.length === 0) return armored;
  const nl = armored.indexOf('\n');
  const lines = entries.map(([k, v]) => `${k}: ${v}`).join('\n');
  // BEGIN line, [existing headers], blank line, body: new headers go right after BEGIN
  return armored.slice(0, nl + 1) + lines + '\n' + armored.slice(nl + 1);
}
