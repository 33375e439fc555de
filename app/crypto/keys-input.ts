/**
 * Keys as the crypto API accepts them: openpgp.js key objects, armored strings or binary
 * (Uint8Array, what the worker pool ships across threads). Parsed keys are cached by content so
 * repeated operations with the same key (a worker decrypting many messages) parse it once.
 */
import * as openpgp from 'openpgp';
import type { Key, PrivateKey, PublicKey } from 'openpgp';
import { createHash } from 'node:crypto';
import { CryptoKeyError } from './errors.ts';

export type KeyInput = Key | string | Uint8Array;

const cache = new Map<string, Key[]>();
const CACHE_MAX = 512;

async function parseMany(input: string | Uint8Array): Promise<Key[]> {
  const id = createHash('sha256')
    .update(typeof input === 'string' ? Buffer.from(input, 'utf8') : input)
    .digest('base64');
  const hit = cache.get(id);
  if (hit) return hit;
  let keys: Key[];
  try {
    keys =
      typeof input === 'string'
        ? await openpgp.readKeys({ armoredKeys: input })
        : await openpgp.readKeys({ binaryKeys: input });
  } catch (err) {
    throw new CryptoKeyError('unreadable OpenPGP key', { cause: err });
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(id, keys);
  return keys;
}

export async function toKeys(inputs: readonly KeyInput[] | undefined): Promise<Key[]> {
  const out: Key[] = [];
  for (const k of inputs ?? []) {
    if (typeof k === 'string' || k instanceof Uint8Array) out.push(...(await parseMany(k)));
    else out.push(k);
  }
  return out;
}

export async function toPublicKeys(inputs: readonly KeyInput[] | undefined): Promise<PublicKey[]> {
  return (await toKeys(inputs)).map((k) => (k.isPrivate() ? k.toPublic() : (k as PublicKey)));
}

/** Private keys, which must already be decrypted (unlocked) by the caller. */
export async function toPrivateKeys(inputs: readonly KeyInput[] | undefined): Promise<PrivateKey[]> {
  const out: PrivateKey[] = [];
  for (const k of await toKeys(inputs)) {
    if (!k.isPrivate())
      throw new CryptoKeyError(`key ${k.getFingerprint().toUpperCase()} has no secret part`);
    if (!k.isDecrypted()) throw new CryptoKeyError(`key ${k.getFingerprint().toUpperCase()} is locked`);
    out.push(k);
  }
  return out;
}

/** Serialize a key input for another thread (binary; private keys keep their unlocked secrets). */
const serialized = new WeakMap<Key, Uint8Array>();

export function keyToTransfer(k: KeyInput): string | Uint8Array {
  if (typeof k === 'string' || k instanceof Uint8Array) return k;
  let bin = serialized.get(k);
  if (!bin) {
    bin = k.write();
    serialized.set(k, bin);
  }
  return bin;
}

/** Lowercase e-mail addresses found in a key's user IDs. */
export function keyAddresses(key: Key): string[] {
  const out: string[] = [];
  for (const u of key.users) {
    const uid = u.userID;
    if (!uid) continue;
    const email = uid.email || /<([^>]+)>/.exec(uid.userID)?.[1] || '';
    if (email) out.push(email.toLowerCase());
  }
  return out;
}
