/**
 * One local login for IMAP and SMTP (issue 16 item 1): the IMAP backend and the SMTP submission
 * adapter accept exactly the same user name and password pairs. Before, SMTP alone trimmed the
 * user name and also took a per-account password row that IMAP refused.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import { createOutgoingMail } from '../../../app/control/adapters/submission.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { newStore, tempDir } from '../store/helpers.ts';

const { dir, cleanup } = tempDir('lb-local-login-');
after(cleanup);

test('IMAP and SMTP take the same local logins', async () => {
  const store = await newStore(dir);
  after(() => store.close());
  for (const email of ['alice@example.test', 'bob@example.test'])
    store.accounts.create({
      email,
      imap: { host: 'imap.example.test', port: 993 },
      smtp: { host: 'smtp.example.test', port: 465 },
      security: 'tls',
      providerPassword: 'provider',
    });
  store.credentials.set('the-local-password');
  store.credentials.set('a-row-for-bob-alone', 'bob@example.test');
  const imap = createImapBackend(store, { logger: silentLogger });
  after(() => imap.dispose());
  const smtp = createOutgoingMail({
    store,
    keyring: {} as never, // a login never reaches the keyring
    settings: () => DEFAULT_SETTINGS,
    logger: silentLogger,
    checkDomains: false,
  }).adapter;
  const cases: Array<[string, string, string | null]> = [
    ['alice@example.test', 'the-local-password', 'alice@example.test'],
    ['bob@example.test', 'the-local-password', 'bob@example.test'],
    [' alice@example.test ', 'the-local-password', 'alice@example.test'],
    ['alice@example.test', 'wrong', null],
    ['alice@example.test', '', null],
    ['carol@example.test', 'the-local-password', null],
    ['bob@example.test', 'a-row-for-bob-alone', null],
  ];
  for (const [user, pass, want] of cases) {
    const viaImap = await imap.authenticate(user, pass);
    const viaSmtp = await smtp.authenticate(user, pass);
    const label = JSON.stringify([user, pass]);
    assert.equal(viaImap?.username ?? null, want, 'IMAP ' + label);
    const smtpEmail = viaSmtp === null ? null : (store.accounts.get(Number(viaSmtp))?.email ?? null);
    assert.equal(smtpEmail, want, 'SMTP ' + label);
  }
});
