/** What a data directory can be unlocked with, for `status().unlockMethods` and the first-run UI. */
import { join } from 'node:path';
import { readKeyWrap } from '../store/unlock/keywrap.ts';
import { KEYWRAP_FILE, storeExists } from '../store/store.ts';
import type { KeychainWrapper } from '../../native/keychain.ts';
import { UserError } from '../shared/errors.ts';

export function unlockMethods(
  home: string,
  keychain: KeychainWrapper | undefined,
): { keychain: boolean; passphrase: boolean } {
  const keychainUp = keychain?.available() ?? false;
  if (!storeExists(home)) return { keychain: keychainUp, passphrase: true };
  try {
    const file = readKeyWrap(join(home, KEYWRAP_FILE));
    return { keychain: keychainUp && file.keychain !== null, passphrase: file.passphrase !== null };
  } catch {
    return { keychain: false, passphrase: true };
  }
}

export const MIN_PASSPHRASE = 8;

/** A new passphrase must be long enough; '' is allowed only where the keychain wraps the key. */
export function checkNewPassphrase(passphrase: unknown, allowEmpty: boolean): string {
  if (typeof passphrase !== 'string')
    throw new UserError('invalid-argument', 'the passphrase must be a string');
  if (passphrase === '' && allowEmpty) return passphrase;
  if (passphrase.length < MIN_PASSPHRASE)
    throw new UserError('weak-passphrase', `the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  if (passphrase.length > 1024) throw new UserError('invalid-argument', 'the passphrase is too long');
  return passphrase;
}
