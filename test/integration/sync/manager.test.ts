// The manager runs one engine per account and follows account additions and removals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider } from '../../helpers/provider.ts';
import { localFor, msg, testLogger, until } from './setup.ts';
import { createSyncManager } from '../../../app/sync/manager.ts';
import { connectProvider } from '../../../app/sync/remote/connect.ts';

test('one engine per account; a new account starts syncing, a removed one stops', async () => {
  const p = await startProvider({ postfix: false });
  try {
    await p.addUser('alice@example.test', 'a');
    await p.addUser('bob@example.test', 'b');
    await p.deliver(msg(1, { subject: 'for alice' }), { to: ['alice@example.test'], via: 'lmtp' });
    await p.deliver(msg(2, { subject: 'for bob' }), { to: ['bob@example.test'], via: 'lmtp' });
    const local = await localFor(p, 'alice@example.test');
    const events: string[] = [];
    const m = createSyncManager({
      store: local.store,
      logger: testLogger,
      connect: connectProvider,
      pollIntervalMs: 300,
      onEvent: (email, e) => events.push(`${email}:${e.type}`),
    });
    try {
      m.start();
      await m.engine('alice@example.test')!.whenSynced(30_000);
      assert.equal(m.status('alice@example.test')?.connection, 'online');
      const bob = p.account('bob@example.test');
      const acc = local.store.accounts.create({
        email: 'bob@example.test',
        imap: { host: bob.host, port: bob.port },
        smtp: { host: bob.host, port: 25 },
        security: 'starttls',
        providerPassword: bob.password,
        caPem: bob.ca,
      });
      await until(() => m.engine('bob@example.test') !== null, 5000, 'bob engine');
      await m.engine('bob@example.test')!.whenSynced(30_000);
      const inbox = local.store.mailboxes.getByName(acc.id, 'INBOX')!;
      assert.equal(local.store.mailboxes.status(inbox.id).messages, 1);
      assert.ok(events.includes('bob@example.test:connection'));
      local.store.accounts.remove(acc.id);
      await until(() => m.engine('bob@example.test') === null, 5000, 'bob engine stopped');
      assert.equal(m.status('bob@example.test'), null);
    } finally {
      await m.stop();
      await local.close();
    }
  } finally {
    await p.close();
  }
});
