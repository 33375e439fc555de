/**
 * The keyring: own keys + contacts' keys + contact settings over a KeyringRepo.
 * `keyring.own` and `keyring.contacts` hold the detailed operations; this class adds armored
 * import, summaries for the control API / CLI, and contact settings.
 */
import type * as openpgp from 'openpgp';
import type { KeyChangeWarning, KeySummary } from './types.ts';
import { UserError } from '../shared/errors.ts';
import { canonicalAddress } from './address.ts';
import { ContactKeys, type RecordOutcome } from './contact-keys.ts';
import { type KeyringDeps, type KeyringOptions, resolveDeps } from './deps.ts';
import { keyEmails, readAnyKeys } from './key-info.ts';
import { OwnKeys, unlockSecretKey } from './own-keys.ts';
import { SignerKeys } from './signer-keys.ts';
import { SmimeCertificates } from './smime.ts';
import type { ContactRecord, KeyChangeRecord, KeySource, OwnKeyRecord } from './types.ts';

export interface ImportedKey {
  fingerprint: string;
  emails: string[];
  own: boolean;
  /** Contact keys: the key-change policy's result per address. */
  outcomes: { email: string; result: RecordOutcome['result'] }[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class Keyring {
  readonly own: OwnKeys;
  readonly contacts: ContactKeys;
  /** Signers' keys by key ID (whole keyring) and attached to a message. */
  readonly signers: SignerKeys;
  /** S/MIME certificates (own with keys, correspondents', trust anchors); null without a repo. */
  readonly smime: SmimeCertificates | null;
  readonly #d: KeyringDeps;

  constructor(opts: KeyringOptions) {
    this.#d = resolveDeps(opts);
    this.own = new OwnKeys(this.#d);
    this.contacts = new ContactKeys(this.#d);
    this.signers = new SignerKeys(this.#d.repo);
    this.smime = opts.smimeRepo ? new SmimeCertificates({ repo: opts.smimeRepo, now: this.#d.now }) : null;
  }

  now(): number {
    return this.#d.now();
  }

  /**
   * Imports armored (or binary) keys. Secret keys become own keys (protected ones need
   * `passphrase`: 'passphrase-required' without it, 'bad-passphrase' when wrong); public keys are
   * recorded for every address in their User IDs with `source`. Every protected key is unlocked
   * before anything is imported, so a missing or wrong passphrase imports nothing.
   */
  async importKeys(
    input: string | Uint8Array,
    opts: { source?: KeySource; passphrase?: string; seenAt?: number } = {},
  ): Promise<ImportedKey[]> {
    const keys: openpgp.Key[] = [];
    for (const key of await readAnyKeys(input))
      keys.push(key.isPrivate() ? await unlockSecretKey(key, opts.passphrase) : key);
    const out: ImportedKey[] = [];
    for (const key of keys) out.push(await this.importKey(key, opts));
    return out;
  }

  async importKey(
    key: openpgp.Key,
    opts: { source?: KeySource; passphrase?: string; seenAt?: number } = {},
  ): Promise<ImportedKey> {
    if (key.isPrivate()) {
      const passphrase = opts.passphrase;
      const rec = await this.own.importSecret(key, passphrase === undefined ? {} : { passphrase });
      return { fingerprint: rec.fingerprint, emails: [rec.email], own: true, outcomes: [] };
    }
    const emails = keyEmails(key);
    if (emails.length === 0)
      throw new UserError(
        'bad-key',
        `key ${key.getFingerprint().toUpperCase()} has no User ID with an e-mail address`,
      );
    const outcomes: ImportedKey['outcomes'] = [];
    for (const email of emails) {
      const r = await this.contacts.record(
        email,
        key,
        opts.source ?? 'manual',
        opts.seenAt === undefined ? {} : { seenAt: opts.seenAt },
      );
      outcomes.push({ email, result: r.result });
    }
    return { fingerprint: key.getFingerprint().toUpperCase(), emails, own: false, outcomes };
  }

  /**
   * A public key attached to an incoming message (application/pgp-keys): recorded with source
   * 'attached' only for the sender's address, and only when one of its User IDs is that address.
   */
  async importAttachedKey(
    fromEmail: string,
    data: string | Uint8Array,
    seenAt?: number,
  ): Promise<RecordOutcome | null> {
    const from = canonicalAddress(fromEmail);
    let keys: openpgp.Key[];
    try {
      keys = await readAnyKeys(data);
    } catch {
      return null;
    }
    for (const k of keys) {
      if (k.isPrivate() || !keyEmails(k).includes(from)) continue;
      return this.contacts.record(from, k.toPublic(), 'attached', seenAt === undefined ? {} : { seenAt });
    }
    return null;
  }

  /** Own keys (all states) and contacts' keys (all but rejected), as the control API shows them. */
  listKeys(): KeySummary[] {
    const now = this.#d.now();
    const own: KeySummary[] = this.#d.repo.listOwnKeys().map((k) => ownSummary(k, now));
    const theirs: KeySummary[] = this.#d.repo
      .listContactKeys()
      .filter((k) => k.status !== 'rejected')
      .map((k) => ({
        email: k.email,
        fingerprint: k.fingerprint,
        own: false,
        source: k.source,
        trust: k.trust,
        created: new Date(k.createdAt).toISOString(),
        expires: iso(k.expiresAt),
        revoked: k.revoked,
        use: k.status as 'active' | 'pending' | 'superseded',
      }));
    return [...own, ...theirs];
  }

  keyWarnings(): KeyChangeWarning[] {
    return this.contacts.unresolvedChanges().map(toWarning);
  }

  acceptKeyChange(id: string): void {
    this.contacts.acceptChange(id);
  }

  rejectKeyChange(id: string): void {
    this.contacts.rejectChange(id);
  }

  getContact(email: string): ContactRecord | null {
    return this.#d.repo.getContact(canonicalAddress(email));
  }

  setContactSettings(
    email: string,
    patch: Partial<Pick<ContactRecord, 'encrypt' | 'sign' | 'attachKey'>>,
  ): ContactRecord {
    const addr = canonicalAddress(email);
    const cur = this.#d.repo.getContact(addr) ?? {
      email: addr,
      encrypt: null,
      sign: null,
      attachKey: null,
      createdAt: this.#d.now(),
    };
    const next: ContactRecord = { ...cur, ...patch, email: addr };
    this.#d.repo.putContact(next);
    return next;
  }
}

export function ownSummary(k: OwnKeyRecord, now: number): KeySummary {
  return {
    email: k.email,
    fingerprint: k.fingerprint,
    own: true,
    source: 'own',
    trust: 'verified',
    created: new Date(k.createdAt).toISOString(),
    expires: iso(k.expiresAt),
    revoked: k.status === 'revoked',
    needsBackup:
      k.status === 'active' && k.backedUpAt === null && (k.expiresAt === null || k.expiresAt > now),
  };
}

export function toWarning(c: KeyChangeRecord): KeyChangeWarning {
  return {
    id: c.id,
    email: c.email,
    oldFingerprint: c.oldFingerprint,
    newFingerprint: c.newFingerprint,
    source: c.source,
    seenAt: new Date(c.seenAt).toISOString(),
  };
}
