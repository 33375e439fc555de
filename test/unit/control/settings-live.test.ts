// Settings changed through the ControlApi (the UI's settings page) apply to a running bridge at
// once: the SMTP server's encryption policy flips without a restart, and "encrypt at rest" reaches
// every account's sync engine. Own keys close to expiry are renewed when the bridge starts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Bridge } from '../../../app/index.ts';
import { addStoreAccount, bridgeSmtp, initBridge } from '../../helpers/runtime-bridge.ts';

const home = mkdtempSync(join(tmpdir(), 'lb-settings-'));
const PASS = 'settings live passphrase';
const LOCAL = 'settings-live-local';
const ME = 'me@example.test';
const SHORT = 'expiring@example.test';
const DAY = 24 * 3600 * 1000;
let bridge: Bridge;
let smtpPort = 0;
let caPem = '';

before(async () => {
  ({ bridge, caPem } = await initBridge({ home, passphrase: PASS, localPassword: LOCAL, offline: true }));
  addStoreAccount(bridge, ME);
  await bridge.keyring.own.generate(ME);
  await bridge.keyring.own.generate(SHORT, { days: 20 });
  const info = await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
  smtpPort = info.smtp;
});

after(async () => {
  await bridge.close();
  rmSync(home, { recursive: true, force: true });
});

function send(to: string) {
  return bridgeSmtp(smtpPort, caPem, ME, LOCAL).sendMail({
    from: ME,
    to,
    subject: 'policy check',
    text: 'hello\n',
  });
}

test('the encryption policy applies to the next message without a restart', async () => {
  await bridge.api.updateSettings({ encryptPolicy: 'always' });
  await assert.rejects(send('nokey@nowhere.test'), (err: Error & { responseCode?: number }) => {
    assert.equal(err.responseCode, 550);
    assert.match(err.message, /nokey@nowhere\.test/);
    return true;
  });
  await bridge.api.updateSettings({ encryptPolicy: 'when-possible' });
  const ok = await send('nokey@nowhere.test');
  assert.match(ok.response, /^250/);
});

test('encrypt at rest reaches every account and is validated', async () => {
  const id = bridge.store.accounts.getByEmail(ME)!.id;
  assert.notEqual(bridge.store.accounts.get(id)!.settings.encryptAtRest, true);
  await bridge.api.updateSettings({ encryptAtRest: true });
  assert.equal(bridge.store.accounts.get(id)!.settings.encryptAtRest, true);
  assert.equal((await bridge.api.getSettings()).encryptAtRest, true);
  await bridge.api.updateSettings({ encryptAtRest: false });
  assert.equal(bridge.store.accounts.get(id)!.settings.encryptAtRest, false);
  await assert.rejects(bridge.api.updateSettings({ encryptAtRest: 'yes' } as never), /boolean/);
});

test('an own key close to expiry is renewed when the bridge starts', async () => {
  const deadline = Date.now() + 20_000;
  let expires = bridge.keyring.own.active(SHORT)?.expiresAt ?? 0;
  while (expires < Date.now() + 300 * DAY && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    expires = bridge.keyring.own.active(SHORT)?.expiresAt ?? 0;
  }
  assert.ok(expires > Date.now() + 300 * DAY, `expiry extended (now ${new Date(expires).toISOString()})`);
  // the key that was far from expiry is left alone
  const mine = bridge.keyring.own.active(ME)!;
  assert.ok(mine.expiresAt === null || mine.expiresAt > Date.now() + 300 * DAY);
});
