// BridgeHost with an OS keychain (what the desktop app runs): a store created through
// `initialize('')` is wrapped by the keychain only and unlocks by itself at the next start; where
// the keychain is unavailable (Linux basic_text) an empty passphrase is refused and a passphrase
// store stays locked until `unlock`. Also: one host per directory, and events outlive the lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createBridgeHost, type BridgeHost } from '../../../app/host.ts';
import { LogRing } from '../../../app/config/logging.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { KeychainWrapper } from '../../../native/keychain.ts';
import type { BridgeEvent } from '../../../app/control/contract.ts';

function fakeKeychain(available: boolean): KeychainWrapper {
  const secret = randomBytes(32);
  return {
    available: () => available,
    wrap(key) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', secret, iv);
      const body = Buffer.concat([c.update(key), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    unwrap(blob) {
      const d = createDecipheriv('aes-256-gcm', secret, blob.subarray(0, 12));
      d.setAuthTag(blob.subarray(12, 28));
      return Buffer.concat([d.update(blob.subarray(28)), d.final()]);
    },
  };
}

function host(home: string, keychain: KeychainWrapper): BridgeHost {
  return createBridgeHost({
    home,
    keychain,
    logger: silentLogger,
    logs: new LogRing(),
    offline: true,
    serve: { imapPort: 0, smtpPort: 0 },
    control: false,
  });
}

test('keychain-only store: initialize("") then auto-unlock at the next start', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'lb-host-kc-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const kc = fakeKeychain(true);

  const first = host(home, kc);
  const events: BridgeEvent[] = [];
  first.subscribe((e) => events.push(e));
  await first.start();
  let st = await first.api.status();
  assert.equal(st.initialized, false);
  assert.deepEqual(st.unlockMethods, { keychain: true, passphrase: true });
  await assert.rejects(first.api.listKeys(), { code: 'locked' });
  const creds = await first.api.initialize('');
  assert.ok(creds.password.length >= 16);
  assert.equal(first.locked, false);
  st = await first.api.status();
  assert.deepEqual(st.unlockMethods, { keychain: true, passphrase: false });
  assert.ok(typeof st.ports.imap === 'number' && st.ports.imap > 0);
  assert.ok(
    events.some((e) => e.type === 'status' && !e.status.locked),
    'subscribers see the unlock',
  );
  const wrap = JSON.parse(readFileSync(join(home, 'keywrap.json'), 'utf8'));
  assert.equal(wrap.passphrase, null, 'no passphrase wrap was made');
  assert.ok(wrap.keychain);

  // the lock: a second host on the same directory is refused while the first runs
  const second = host(home, kc);
  await assert.rejects(second.start(), /already using/);
  await first.close();

  const again = host(home, kc);
  await again.start();
  assert.equal(again.locked, false, 'the keychain unlocks by itself');
  // a keychain-only store may get a passphrase (nothing to check against yet)
  await again.api.changePassphrase('', 'now with a passphrase');
  assert.deepEqual((await again.api.status()).unlockMethods, { keychain: true, passphrase: true });
  await again.close();

  // the same store on a machine without a usable keychain: locked until the passphrase is given
  const noKc = host(home, fakeKeychain(false));
  await noKc.start();
  assert.equal(noKc.locked, true);
  assert.deepEqual((await noKc.api.status()).unlockMethods, { keychain: false, passphrase: true });
  await assert.rejects(noKc.api.unlock('wrong passphrase!'), { code: 'wrong-passphrase' });
  assert.equal((await noKc.api.unlock('now with a passphrase')).locked, false);
  await noKc.close();
});

test('without a usable keychain an empty passphrase is refused', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'lb-host-nokc-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const h = host(home, fakeKeychain(false));
  await h.start();
  assert.deepEqual((await h.api.status()).unlockMethods, { keychain: false, passphrase: true });
  await assert.rejects(h.api.initialize(''), { code: 'weak-passphrase' });
  assert.equal((await h.api.status()).initialized, false);
  await h.close();
});
