// Issue 13 item 8: the provider password changes under a running bridge (real Dovecot); sync stops
// at `auth-failed`; `setProviderPassword` refuses a wrong new password, takes the right one, keeps
// every local message, and sync resumes at once (new mail arrives) without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Provider } from '../../helpers/provider.ts';
import type { Bridge } from '../../../app/index.ts';
import { bridgeWithProvider, until, type BridgeSide } from './setup.ts';

const ME = 'me@example.test';
let side: BridgeSide;
let p: Provider;
let bridge: Bridge;

function mail(subject: string): string {
  return `From: a@example.test\r\nTo: ${ME}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.test>\r\n\r\nbody\r\n`;
}

async function connection(): Promise<string> {
  return (await bridge.api.status()).accounts[0]?.connection ?? 'none';
}

function localCount(): number {
  const id = bridge.store.accounts.getByEmail(ME)!.id;
  const inbox = bridge.store.mailboxes.list(id).find((m) => m.name === 'INBOX');
  return inbox ? bridge.store.mailboxes.status(inbox.id).messages : 0;
}

before(async () => {
  side = await bridgeWithProvider(ME, { providerPassword: 'old-pw', passphrase: 'sign in again' });
  ({ p, bridge } = side);
  await side.addAccount();
});

after(async () => {
  await side?.close();
});

test('sign in again after the provider password changed: local mail kept, sync resumes at once', async () => {
  await p.deliver(mail('before'), { via: 'lmtp' });
  await until(() => localCount() === 1, 60_000, 'the first message synced');

  await p.changePassword(ME, 'new-pw');
  // Reconnect (as after a network change): the old password is now refused.
  await bridge.api.pauseSync(ME);
  await bridge.api.resumeSync(ME);
  await until(async () => (await connection()) === 'auth-failed', 60_000, 'auth-failed');

  await assert.rejects(
    bridge.api.setProviderPassword(ME, 'still-wrong'),
    /rejected the username or password/,
  );
  assert.equal(await connection(), 'auth-failed');
  await bridge.api.setProviderPassword(ME, 'new-pw');
  assert.equal(localCount(), 1, 'local mail kept');
  await until(async () => (await connection()) === 'online', 60_000, 'online again');
  await p.deliver(mail('after'), { via: 'lmtp' });
  await until(() => localCount() === 2, 60_000, 'new mail synced after signing in again');
  assert.equal(bridge.store.accounts.getByEmail(ME)!.providerPassword, 'new-pw');
});
