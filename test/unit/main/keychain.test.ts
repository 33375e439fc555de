// The safeStorage keychain: available only with real encryption (never Linux 'basic_text' or an
// unknown backend), and wrap/unwrap round-trip a 32-byte key through safeStorage's string API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSafeStorageKeychain,
  keychainAvailable,
  type SafeStorageLike,
} from '../../../main/keychain.ts';

function fake(available: boolean, backend?: string, throws = false): SafeStorageLike & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    isEncryptionAvailable: () => {
      if (throws) throw new Error('not ready');
      return available;
    },
    ...(backend !== undefined ? { getSelectedStorageBackend: () => backend } : {}),
    // a reversible stand-in for the OS encryption
    encryptString: (s: string) => {
      calls.push('encrypt');
      return Buffer.from(`enc:${Buffer.from(s).toString('hex')}`);
    },
    decryptString: (b: Buffer) => {
      calls.push('decrypt');
      const t = b.toString();
      if (!t.startsWith('enc:')) throw new Error('cannot decrypt');
      return Buffer.from(t.slice(4), 'hex').toString();
    },
  };
}

test('availability rules per platform and backend', () => {
  assert.equal(keychainAvailable(fake(true), 'darwin'), true);
  assert.equal(keychainAvailable(fake(true), 'win32'), true);
  assert.equal(keychainAvailable(fake(false), 'darwin'), false);
  assert.equal(keychainAvailable(fake(true, 'gnome_libsecret'), 'linux'), true);
  assert.equal(keychainAvailable(fake(true, 'kwallet5'), 'linux'), true);
  assert.equal(keychainAvailable(fake(true, 'basic_text'), 'linux'), false);
  assert.equal(keychainAvailable(fake(true, 'unknown'), 'linux'), false);
  assert.equal(keychainAvailable(fake(true), 'linux'), false, 'no backend API: cannot tell, so no');
  assert.equal(keychainAvailable(fake(false, 'gnome_libsecret'), 'linux'), false);
  assert.equal(
    keychainAvailable(fake(true, 'gnome_libsecret', true), 'linux'),
    false,
    'a throwing API is unavailable',
  );
});

test('wrap/unwrap round-trips a key; nothing of the key is in the blob in clear', () => {
  const ss = fake(true, 'gnome_libsecret');
  const kc = createSafeStorageKeychain(ss, 'linux');
  assert.equal(kc.available(), true);
  const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const blob = kc.wrap(key);
  assert.ok(!blob.includes(key));
  assert.deepEqual(kc.unwrap(blob), key);
  assert.deepEqual(ss.calls, ['encrypt', 'decrypt']);
});

test('with basic_text the wrapper refuses to wrap or unwrap (the app asks for a passphrase)', () => {
  const ss = fake(true, 'basic_text');
  const kc = createSafeStorageKeychain(ss, 'linux');
  assert.equal(kc.available(), false);
  assert.throws(() => kc.wrap(Buffer.alloc(32)), /not available/);
  assert.throws(() => kc.unwrap(Buffer.from('enc:00')), /not available/);
  assert.deepEqual(ss.calls, [], 'safeStorage was never used');
});
