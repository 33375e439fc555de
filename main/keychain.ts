/**
 * The OS keychain for the store key: Electron's safeStorage (macOS Keychain, Windows DPAPI,
 * Linux libsecret/kwallet). Where safeStorage has no real keyring — Linux `basic_text`, which
 * "encrypts" with a hard-coded key — it reports unavailable, and the app asks for a passphrase.
 */
import type { KeychainWrapper } from '../native/keychain.ts';

/** The part of Electron's `safeStorage` this uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  getSelectedStorageBackend?(): string;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export function keychainAvailable(safeStorage: SafeStorageLike, platform: NodeJS.Platform): boolean {
  let ok: boolean;
  try {
    ok = safeStorage.isEncryptionAvailable();
  } catch {
    return false;
  }
  if (!ok) return false;
  if (platform === 'linux') {
    let backend: string;
    try {
      backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    } catch {
      return false;
    }
    // 'basic_text' is a fixed key in the binary; 'unknown' means the backend is not chosen yet.
    if (backend === 'basic_text' || backend === 'unknown') return false;
  }
  return true;
}

/**
 * A KeychainWrapper over safeStorage. The key travels as base64 inside safeStorage's string API
 * (it takes strings only); nothing of it is logged.
 */
export function createSafeStorageKeychain(
  safeStorage: SafeStorageLike,
  platform: NodeJS.Platform = process.platform,
): KeychainWrapper {
  return {
    available: () => keychainAvailable(safeStorage, platform),
    wrap(key: Buffer): Buffer {
      if (!keychainAvailable(safeStorage, platform)) throw new Error('the OS keychain is not available');
      return safeStorage.encryptString(key.toString('base64'));
    },
    unwrap(blob: Buffer): Buffer {
      if (!keychainAvailable(safeStorage, platform)) throw new Error('the OS keychain is not available');
      return Buffer.from(safeStorage.decryptString(blob), 'base64');
    },
  };
}
