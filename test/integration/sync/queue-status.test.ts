// Issue 13 item 10: what waits for the provider is visible. Local messages not yet uploaded show
// as pending uploads (count, oldest age) in the control API's status, and outbox mail that the
// provider's SMTP refuses shows why it waits (lastError) instead of `queued: 1, lastError: null`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createBridge, initHome, type Bridge } from '../../../app/index.ts';
import { LogRing } from '../../../app/config/logging.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { freePort } from '../../helpers/provider.ts';
import { until } from './setup.ts';

const ME = 'me@example.test';
const home = mkdtempSync(join(tmpdir(), 'lb-queue-status-'));
let bridge: Bridge;
let deadPort = 0;

before(async () => {
  await initHome({ home, passphrase: 'queue status', localPassword: 'local-pw', logger: silentLogger });
  bridge = await createBridge({
    home,
    passphrase: 'queue status',
    logger: silentLogger,
    logs: new LogRing(),
  });
  deadPort = await freePort(); // nothing listens: the provider refuses connections
  bridge.store.accounts.create({
    email: ME,
    imap: { host: '127.0.0.1', port: deadPort },
    smtp: { host: '127.0.0.1', port: deadPort },
    security: 'starttls',
    username: ME,
    providerPassword: 'pw',
    caPem: null,
  });
  await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
});

after(async () => {
  await bridge?.close();
  rmSync(home, { recursive: true, force: true });
});

test('status shows pending uploads and why outbox mail waits', async () => {
  const id = bridge.store.accounts.getByEmail(ME)!.id;
  const inbox = bridge.store.mailboxes.ensure(id, 'INBOX');
  for (let i = 0; i < 3; i++) {
    const raw = Buffer.from(`From: ${ME}\r\nTo: ${ME}\r\nSubject: local ${i}\r\n\r\nbody ${i}\r\n`);
    bridge.store.messages.insert(inbox.id, { raw, analysis: analyzeMessage(raw) });
  }
  const raw = Buffer.from(`From: ${ME}\r\nTo: bob@example.test\r\nSubject: out\r\n\r\nhi\r\n`);
  bridge.store.outbox.enqueue(id, { from: ME, to: ['bob@example.test'] }, raw);

  let s = (await bridge.api.status()).accounts[0]!;
  assert.equal(s.pending.uploads, 3);
  assert.ok(s.pending.changes >= 3);
  assert.ok(s.pending.oldestAgeSec !== null && s.pending.oldestAgeSec >= 0);
  // The relay tries at once and is refused: the status says so.
  await until(
    async () => (await bridge.api.status()).accounts[0]!.outbox.lastError !== null,
    60_000,
    'the outbox to record why it waits',
  );
  s = (await bridge.api.status()).accounts[0]!;
  assert.equal(s.outbox.queued, 1);
  assert.match(s.outbox.lastError!, /ECONNREFUSED|refused/i);
  assert.ok(s.outbox.oldestAgeSec !== null && s.outbox.oldestAgeSec >= 0);
});
