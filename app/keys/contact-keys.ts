/**
 * Others' public keys, per address, with source, first-seen time and trust.
 *
 * Key-change policy (TOFU with explicit acceptance):
 * - First key for an address → it becomes the address's 'active' key.
 * - Same fingerprint again → merged (new signatures: extended expiry, revocation) and lastSeen updated.
 * - A different, usable key while the active key is still usable → stored as 'pending', a
 *   KeyChangeRecord is written and a 'key-change' event emitted; the OLD key stays the one used
 *   until the user accepts (acceptChange) or rejects (rejectChange).
 * - A different, usable key while the active key is expired, revoked or cannot encrypt → it
 *   replaces the old one at once (old → 'superseded'), recorded as an already-accepted change.
 *   The same happens at use time: if the active key has become unusable, the newest usable
 *   pending key is promoted.
 * - A key the user imports by hand (source 'manual') is an explicit choice and replaces at once.
 * - A key from any source but gossip replaces an unverified active key known only from gossip at
 *   once: gossip is a third party's claim (anyone writing to the user and that address can make it),
 *   the person's own Autocrypt header, attached key or WKD entry outranks it (Autocrypt Level 1: the
 *   gossip key is used only while there is no public_key).
 * - A new key that is itself expired/revoked/unable to encrypt is kept as 'superseded' (for
 *   signature checks) and never flagged or used.
 * Encryption keys come only from encryptionKeyFor(), which re-checks expiry and revocation at the
 * time of use: an expired or revoked key is never returned.
 */
import * as openpgp from 'openpgp';
import { NotFoundError, UserError } from '../shared/errors.ts';
import { canonicalAddress } from './address.ts';
import type { KeyringDeps } from './deps.ts';
import { fingerprintOf, inspectKey } from './key-info.ts';
import { KeyedMutex } from '../shared/keyed-mutex.ts';
import type { ContactKeyRecord, KeyChangeRecord, KeySource, KeyTrust } from './types.ts';

export type RecordOutcome =
  | { result: 'added'; record: ContactKeyRecord }
  | { result: 'updated'; record: ContactKeyRecord }
  | { result: 'flagged'; record: ContactKeyRecord; change: KeyChangeRecord }
  | { result: 'replaced'; record: ContactKeyRecord; change: KeyChangeRecord }
  | { result: 'ignored'; record: ContactKeyRecord; reason: string };

export interface UsableKey {
  record: ContactKeyRecord;
  key: openpgp.PublicKey;
}

export class ContactKeys {
  readonly #d: KeyringDeps;
  readonly #lock = new KeyedMutex();
  constructor(deps: KeyringDeps) {
    this.#d = deps;
  }

  /** Records a public key seen for `email` from `source`, applying the key-change policy above. */
  async record(
    email: string,
    input: openpgp.Key,
    source: KeySource,
    opts: { seenAt?: number; trust?: KeyTrust } = {},
  ): Promise<RecordOutcome> {
    const addr = canonicalAddress(email);
    return this.#lock.run(addr, () => this.#record(addr, input, source, opts));
  }

  async #record(
    addr: string,
    input: openpgp.Key,
    source: KeySource,
    opts: { seenAt?: number; trust?: KeyTrust },
  ): Promise<RecordOutcome> {
    const now = this.#d.now();
    const seenAt = opts.seenAt ?? now;
    const key = input.toPublic();
    const fpr = fingerprintOf(key);
    const existing = this.#d.repo.getContactKey(addr, fpr);
    if (existing) {
      const old = await openpgp.readKey({ armoredKey: existing.armored });
      const merged = await old.update(key, new Date(now));
      const info = await inspectKey(merged, new Date(now));
      const record: ContactKeyRecord = {
        ...existing,
        armored: merged.armor(),
        lastSeen: Math.max(existing.lastSeen, seenAt),
        firstSeen: Math.min(existing.firstSeen, seenAt),
        expiresAt: info.expiresAt,
        revoked: info.revoked,
        trust: opts.trust === 'verified' ? 'verified' : existing.trust,
      };
      this.#d.repo.putContactKey(record);
      return { result: 'updated', record };
    }
    // judge a new key no earlier than its creation time (tolerates a sender's clock running ahead)
    const info = await inspectKey(key, new Date(Math.max(now, key.getCreationTime().getTime())));
    const base: ContactKeyRecord = {
      email: addr,
      fingerprint: fpr,
      armored: key.armor(),
      source,
      trust: opts.trust ?? 'unverified',
      status: 'active',
      firstSeen: seenAt,
      lastSeen: seenAt,
      createdAt: info.createdAt,
      expiresAt: info.expiresAt,
      revoked: info.revoked,
    };
    const active = this.#active(addr);
    if (!info.canEncrypt) {
      const record: ContactKeyRecord = { ...base, status: active ? 'superseded' : 'active' };
      this.#d.repo.putContactKey(record);
      return {
        result: 'ignored',
        record,
        reason: info.revoked ? 'revoked' : info.expired ? 'expired' : 'no usable encryption key',
      };
    }
    if (!active) {
      this.#d.repo.putContactKey(base);
      return { result: 'added', record: base };
    }
    const activeUsable = await this.#usable(active, now);
    const change: KeyChangeRecord = {
      id: this.#d.newId(),
      email: addr,
      oldFingerprint: active.fingerprint,
      newFingerprint: fpr,
      source,
      seenAt,
      resolvedAt: null,
      resolution: null,
    };
    const outranksGossip = source !== 'gossip' && active.source === 'gossip' && active.trust !== 'verified';
    if (!activeUsable || source === 'manual' || outranksGossip) {
      const resolved: KeyChangeRecord = { ...change, resolvedAt: now, resolution: 'accepted' };
      this.#d.repo.transaction(() => {
        this.#d.repo.putContactKey({ ...active, status: 'superseded' });
        this.#d.repo.putContactKey(base);
        this.#d.repo.addKeyChange(resolved);
      });
      this.#d.logger.info({ email: addr, old: active.fingerprint, new: fpr, source }, 'contact key replaced');
      return { result: 'replaced', record: base, change: resolved };
    }
    const pending: ContactKeyRecord = { ...base, status: 'pending' };
    this.#d.repo.transaction(() => {
      this.#d.repo.putContactKey(pending);
      this.#d.repo.addKeyChange(change);
    });
    this.#d.logger.warn({ email: addr, old: active.fingerprint, new: fpr, source }, 'key change flagged');
    this.#d.emit({ type: 'key-change', change });
    return { result: 'flagged', record: pending, change };
  }

  /**
   * The key to encrypt to for `email` at time `at`, or null. Never returns an expired, revoked
   * or encryption-incapable key; never a pending key while the active one is usable.
   */
  async encryptionKeyFor(email: string, at?: number): Promise<UsableKey | null> {
    const addr = canonicalAddress(email);
    return this.#lock.run(addr, () => this.#encryptionKeyFor(addr, at ?? this.#d.now()));
  }

  async #encryptionKeyFor(addr: string, when: number): Promise<UsableKey | null> {
    const active = this.#active(addr);
    if (active) {
      const key = await this.#usableKey(active, when);
      if (key) return { record: active, key };
    }
    // the active key is gone or unusable: promote the newest usable pending key (documented policy)
    const pendings = this.#d.repo
      .listContactKeys(addr)
      .filter((k) => k.status === 'pending')
      .sort((a, b) => b.firstSeen - a.firstSeen);
    for (const p of pendings) {
      const key = await this.#usableKey(p, when);
      if (!key) continue;
      const now = this.#d.now();
      const promoted: ContactKeyRecord = { ...p, status: 'active' };
      this.#d.repo.transaction(() => {
        if (active) this.#d.repo.putContactKey({ ...active, status: 'superseded' });
        this.#d.repo.putContactKey(promoted);
        for (const c of this.#d.repo.listKeyChanges({ email: addr, unresolvedOnly: true })) {
          if (c.newFingerprint === p.fingerprint)
            this.#d.repo.putKeyChange({ ...c, resolvedAt: now, resolution: 'accepted' });
        }
      });
      return { record: promoted, key };
    }
    return null;
  }

  /** Every stored key of an address except rejected ones (for signature verification). */
  async verificationKeysFor(email: string): Promise<openpgp.PublicKey[]> {
    const addr = canonicalAddress(email);
    const recs = this.#d.repo.listContactKeys(addr).filter((k) => k.status !== 'rejected');
    return Promise.all(
      recs.map(async (r) => (await openpgp.readKey({ armoredKey: r.armored })) as openpgp.PublicKey),
    );
  }

  /** Accepts a flagged key: it becomes the active key and is marked verified. */
  acceptChange(id: string): ContactKeyRecord {
    return this.#d.repo.transaction(() => {
      const c = this.#openChange(id);
      const next = this.#d.repo.getContactKey(c.email, c.newFingerprint);
      if (!next) throw new NotFoundError(`key ${c.newFingerprint}`);
      const active = this.#active(c.email);
      if (active && active.fingerprint !== next.fingerprint)
        this.#d.repo.putContactKey({ ...active, status: 'superseded' });
      const rec: ContactKeyRecord = { ...next, status: 'active', trust: 'verified' };
      this.#d.repo.putContactKey(rec);
      this.#d.repo.putKeyChange({ ...c, resolvedAt: this.#d.now(), resolution: 'accepted' });
      return rec;
    });
  }

  /** Rejects a flagged key: it is never used; the current key stays. */
  rejectChange(id: string): void {
    this.#d.repo.transaction(() => {
      const c = this.#openChange(id);
      const rec = this.#d.repo.getContactKey(c.email, c.newFingerprint);
      if (rec) this.#d.repo.putContactKey({ ...rec, status: 'rejected' });
      this.#d.repo.putKeyChange({ ...c, resolvedAt: this.#d.now(), resolution: 'rejected' });
    });
  }

  /** Sets the trust of every stored copy of a fingerprint; returns how many records changed. */
  setTrust(fingerprint: string, trust: KeyTrust): number {
    const fpr = fingerprint.replace(/\s+/g, '').toUpperCase();
    const recs = this.#d.repo.listContactKeys().filter((k) => k.fingerprint === fpr);
    if (recs.length === 0) throw new NotFoundError(`key ${fpr}`);
    this.#d.repo.transaction(() => {
      for (const r of recs) this.#d.repo.putContactKey({ ...r, trust });
    });
    return recs.length;
  }

  unresolvedChanges(): KeyChangeRecord[] {
    return this.#d.repo.listKeyChanges({ unresolvedOnly: true });
  }

  #openChange(id: string): KeyChangeRecord {
    const c = this.#d.repo.getKeyChange(id);
    if (!c) throw new NotFoundError(`key-change warning ${id}`);
    if (c.resolution !== null)
      throw new UserError('already-resolved', `key-change warning ${id} was already ${c.resolution}`);
    return c;
  }

  #active(addr: string): ContactKeyRecord | null {
    return this.#d.repo.listContactKeys(addr).find((k) => k.status === 'active') ?? null;
  }

  async #usable(rec: ContactKeyRecord, at: number): Promise<boolean> {
    return (await this.#usableKey(rec, at)) !== null;
  }

  async #usableKey(rec: ContactKeyRecord, at: number): Promise<openpgp.PublicKey | null> {
    if (rec.revoked) return null;
    if (rec.expiresAt !== null && rec.expiresAt <= at) return null;
    try {
      const key = (await openpgp.readKey({ armoredKey: rec.armored })) as openpgp.PublicKey;
      const info = await inspectKey(key, new Date(at));
      return info.canEncrypt ? key : null;
    } catch {
      return null;
    }
  }
}
