/**
 * Reading keys and judging whether they are usable at a given time. Every decision that uses a
 * key (encrypting to it, announcing it) re-evaluates it here instead of trusting cached columns.
 */
import * as openpgp from 'openpgp';
import { UserError } from '../shared/errors.ts';
import { tryCanonicalAddress } from './address.ts';

export interface KeyInfo {
  fingerprint: string;
  /** Canonical addresses of the key's User IDs (in key order, deduplicated). */
  emails: string[];
  /** User ID strings as in the key. */
  userIds: string[];
  version: number;
  algorithm: string;
  isPrivate: boolean;
  createdAt: number;
  expiresAt: number | null;
  revoked: boolean;
  expired: boolean;
  /** A valid (unexpired, unrevoked) encryption-capable key or subkey exists at `at`. */
  canEncrypt: boolean;
  canSign: boolean;
}

export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}

/** Canonical addresses in the User IDs of a key. */
export function keyEmails(key: openpgp.Key): string[] {
  const out: string[] = [];
  for (const u of key.users) {
    const raw = u.userID?.email || u.userID?.userID || '';
    const c = raw ? tryCanonicalAddress(raw) : null;
    if (c && !out.includes(c)) out.push(c);
  }
  return out;
}

export async function inspectKey(key: openpgp.Key, at: Date = new Date()): Promise<KeyInfo> {
  const revoked = await key.isRevoked(undefined, undefined, at).catch(() => false);
  let expiresAt: number | null = null;
  let expired = false;
  try {
    const exp = await key.getExpirationTime();
    if (exp instanceof Date) {
      expiresAt = exp.getTime();
      expired = expiresAt <= at.getTime();
    } else if (exp === null) {
      // no valid self-signature at all: treat as unusable
      expired = true;
    }
  } catch {
    expired = true;
  }
  const canEncrypt = await key.getEncryptionKey(undefined, at).then(
    () => true,
    () => false,
  );
  const canSign = await key.getSigningKey(undefined, at).then(
    () => true,
    () => false,
  );
  return {
    fingerprint: fingerprintOf(key),
    emails: keyEmails(key),
    userIds: key.getUserIDs(),
    version: key.keyPacket.version,
    algorithm: String(key.getAlgorithmInfo().algorithm),
    isPrivate: key.isPrivate(),
    createdAt: key.getCreationTime().getTime(),
    expiresAt,
    revoked,
    expired,
    canEncrypt: canEncrypt && !revoked && !expired,
    canSign: canSign && !revoked && !expired,
  };
}

/** Reads one or more armored or binary keys; throws a UserError when nothing parses. */
export async function readAnyKeys(input: string | Uint8Array): Promise<openpgp.Key[]> {
  try {
    if (typeof input === 'string') {
      const text = input.trim();
      if (!text.includes('-----BEGIN PGP')) throw new Error('no armored OpenPGP key block');
      // several armored blocks may follow each other (e.g. a concatenated export)
      const blocks = text.match(
        /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g,
      );
      if (!blocks) throw new Error('no armored OpenPGP key block');
      const out: openpgp.Key[] = [];
      for (const b of blocks) out.push(...(await openpgp.readKeys({ armoredKeys: b })));
      return out;
    }
    return await openpgp.readKeys({ binaryKeys: input });
  } catch (err) {
    throw new UserError(
      'bad-key',
      `not a readable OpenPGP key: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * A copy of the key keeping only the User IDs whose address equals `email` (canonical).
 * Returns null when no such User ID exists.
 */
export async function keepOnlyUserIdsFor(key: openpgp.Key, email: string): Promise<openpgp.PublicKey | null> {
  const copy = await openpgp.readKey({ binaryKey: key.toPublic().write() });
  copy.users = copy.users.filter((u) => {
    const raw = u.userID?.email || u.userID?.userID || '';
    return raw !== '' && tryCanonicalAddress(raw) === email;
  });
  if (copy.users.length === 0) return null;
  // re-read so internal caches match the filtered packet list
  return (await openpgp.readKey({ binaryKey: copy.write() })) as openpgp.PublicKey;
}
