/**
 * keywrap.json: the random 32-byte data key that encrypts store.db, wrapped
 *  - by AES-256-GCM under Argon2id(passphrase, salt) (parameters kept in the file), and/or
 *  - by the OS keychain (an opaque blob from KeychainWrapper.wrap).
 * Changing the passphrase rewraps only this key: one Argon2 run, independent of the mailbox size.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import argon2 from 'argon2';
import type { KeychainWrapper } from '../../../native/keychain.ts';
import { UnlockError } from '../../shared/errors.ts';
import { writeFileAtomic } from './atomic-file.ts';

export interface KdfParams {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** ~160 ms on a 2-core build machine (measured): 64 MiB, t=3, p=1. */
export const DEFAULT_KDF: KdfParams = { memoryCost: 65536, timeCost: 3, parallelism: 1 };

interface PassphraseWrap {
  kdf: 'argon2id';
  salt: string;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface KeyWrapFile {
  version: 1;
  passphrase: PassphraseWrap | null;
  /** blob from KeychainWrapper.wrap; check = HMAC-SHA256(key, label)[0..16] to detect a wrong key. */
  keychain: { blob: string; check: string } | null;
}

const AAD = Buffer.from('lockbridge keywrap v1');

async function deriveKek(passphrase: string, salt: Buffer, p: KdfParams): Promise<Buffer> {
  return argon2.hash(passphrase, {
    type: argon2.argon2id,
    memoryCost: p.memoryCost,
    timeCost: p.timeCost,
    parallelism: p.parallelism,
    salt,
    hashLength: 32,
    raw: true,
  });
}

export async function wrapWithPassphrase(
  dataKey: Buffer,
  passphrase: string,
  params: KdfParams = DEFAULT_KDF,
): Promise<PassphraseWrap> {
  if (!passphrase) throw new UnlockError('passphrase-empty', 'the passphrase must not be empty');
  const salt = randomBytes(16);
  const kek = await deriveKek(passphrase, salt, params);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(AAD);
  const ct = Buffer.concat([c.update(dataKey), c.final()]);
  kek.fill(0);
  return {
    kdf: 'argon2id',
    salt: salt.toString('base64'),
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    iv: iv.toString('base64'),
    ciphertext: ct.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
  };
}

export async function unwrapWithPassphrase(file: KeyWrapFile, passphrase: string): Promise<Buffer> {
  const w = file.passphrase;
  if (!w) throw new UnlockError('no-passphrase-wrap', 'this store is not protected by a passphrase');
  const kek = await deriveKek(passphrase, Buffer.from(w.salt, 'base64'), w);
  try {
    const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(w.iv, 'base64'));
    d.setAAD(AAD);
    d.setAuthTag(Buffer.from(w.tag, 'base64'));
    const key = Buffer.concat([d.update(Buffer.from(w.ciphertext, 'base64')), d.final()]);
    if (key.length !== 32) throw new Error('bad key length');
    return key;
  } catch {
    throw new UnlockError('wrong-passphrase', 'wrong passphrase: the store could not be unlocked');
  } finally {
    kek.fill(0);
  }
}

export function unwrapWithKeychain(file: KeyWrapFile, keychain: KeychainWrapper): Buffer {
  if (!file.keychain)
    throw new UnlockError('no-keychain-wrap', 'this store is not protected by the OS keychain');
  if (!keychain.available())
    throw new UnlockError('keychain-unavailable', 'the OS keychain is not available');
  let key: Buffer;
  try {
    key = keychain.unwrap(Buffer.from(file.keychain.blob, 'base64'));
  } catch (err) {
    throw new UnlockError('keychain-failed', 'the OS keychain could not unlock the store', { cause: err });
  }
  if (key.length !== 32 || !timingSafeEqual(keyCheck(key), Buffer.from(file.keychain.check, 'base64')))
    throw new UnlockError(
      'keychain-failed',
      'the OS keychain returned a key that does not unlock this store',
    );
  return key;
}

function keyCheck(key: Buffer): Buffer {
  return createHmac('sha256', key).update('lockbridge key check').digest().subarray(0, 16);
}

export function wrapWithKeychain(
  dataKey: Buffer,
  keychain: KeychainWrapper,
): { blob: string; check: string } {
  return { blob: keychain.wrap(dataKey).toString('base64'), check: keyCheck(dataKey).toString('base64') };
}

export function readKeyWrap(path: string): KeyWrapFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UnlockError('no-store', `no store here (${path} is missing); run \`lockbridge init\` first`);
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UnlockError('keywrap-corrupt', `${path} is damaged (not JSON)`);
  }
  const f = parsed as KeyWrapFile;
  if (!f || f.version !== 1 || (f.passphrase === undefined && f.keychain === undefined))
    throw new UnlockError(
      'keywrap-corrupt',
      `${path} is not a Lockbridge key file (or from a newer version)`,
    );
  return { version: 1, passphrase: f.passphrase ?? null, keychain: f.keychain ?? null };
}

export function writeKeyWrap(path: string, file: KeyWrapFile): void {
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', 0o600);
}
