/**
 * Finding the key that made a signature: by its issuer key ID in the whole
 * keyring — own keys (their public part) and every contact key the user has not rejected, under
 * whatever address it is stored — and, for a key attached to the message, only when the keyring
 * would take it as the sender's key.
 *
 * The key IDs of a stored key are read once per (fingerprint, armored text) and remembered: a
 * lookup lists the records (no parsing) and parses only keys it has not seen yet, so a keyring of
 * thousands of keys costs one parse per key per process, not per message. Parsing is synchronous
 * work (~1 ms a key; 1,000 keys held the event loop 1.2 s in one go), so it yields every SLICE_MS.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as openpgp from 'openpgp';
import { canonicalAddress } from './address.ts';
import { fingerprintOf, keyEmails } from './key-info.ts';
import type { KeyringRepo } from './types.ts';

const SLICE_MS = 10;

interface Indexed {
  armored: string;
  ids: Set<string>;
}

/** Uppercase 16-hex key IDs of a key's primary key and subkeys. */
function keyIdsOf(key: openpgp.Key): Set<string> {
  return new Set(
    [key.getKeyID(), ...key.getSubkeys().map((s) => s.getKeyID())].map((id) => id.toHex().toUpperCase()),
  );
}

export class SignerKeys {
  readonly #repo: KeyringRepo;
  readonly #index = new Map<string, Indexed>();

  constructor(repo: KeyringRepo) {
    this.#repo = repo;
  }

  /** Armored public keys in the keyring with a (sub)key whose ID is one of `keyIds`. */
  async byKeyIds(keyIds: readonly string[]): Promise<string[]> {
    const wanted = new Set(keyIds.map((k) => k.toUpperCase()));
    if (wanted.size === 0) return [];
    const stored = new Map<string, string>();
    for (const k of this.#repo.listOwnKeys()) stored.set(k.fingerprint, k.armoredPublic);
    for (const k of this.#repo.listContactKeys())
      if (k.status !== 'rejected' && !stored.has(k.fingerprint)) stored.set(k.fingerprint, k.armored);
    for (const fpr of [...this.#index.keys()]) if (!stored.has(fpr)) this.#index.delete(fpr);
    const out: string[] = [];
    let slice = performance.now();
    for (const [fpr, armored] of stored) {
      let entry = this.#index.get(fpr);
      if (!entry || entry.armored !== armored) {
        if (performance.now() - slice > SLICE_MS) {
          await nextTurn();
          slice = performance.now();
        }
        let ids = new Set<string>();
        try {
          ids = keyIdsOf(await openpgp.readKey({ armoredKey: armored }));
        } catch {
          // an unreadable stored key signs nothing
        }
        entry = { armored, ids };
        this.#index.set(fpr, entry);
      }
      for (const id of entry.ids)
        if (wanted.has(id)) {
          out.push(armored);
          break;
        }
    }
    return out;
  }

  /**
   * The attached keys (application/pgp-keys of the message) that may vouch for a signature from
   * `fromEmail`: a public key with a (sub)key ID in `keyIds`, a User ID with that address, and no
   * other key stored for the address (own or a contact's, rejected ones included). A key attached
   * under the address of someone the user already has a key for verifies nothing: anyone can make a
   * key with any address, so it is the TOFU rule of the keyring (the first key seen for an address)
   * and nothing more.
   */
  async attachedFor(
    fromEmail: string,
    attached: readonly string[],
    keyIds: readonly string[],
  ): Promise<string[]> {
    if (attached.length === 0) return [];
    const addr = canonicalAddress(fromEmail);
    const wanted = new Set(keyIds.map((k) => k.toUpperCase()));
    const known = new Set([
      ...this.#repo.listOwnKeys(addr).map((k) => k.fingerprint),
      ...this.#repo.listContactKeys(addr).map((k) => k.fingerprint),
    ]);
    const out: string[] = [];
    for (const armored of attached) {
      let keys: openpgp.Key[];
      try {
        keys = await openpgp.readKeys({ armoredKeys: armored });
      } catch {
        continue;
      }
      for (const key of keys) {
        if (key.isPrivate() || !keyEmails(key).includes(addr)) continue;
        if ([...known].some((f) => f !== fingerprintOf(key))) continue;
        if (![...keyIdsOf(key)].some((id) => wanted.has(id))) continue;
        out.push(key.armor());
      }
    }
    return out;
  }
}
