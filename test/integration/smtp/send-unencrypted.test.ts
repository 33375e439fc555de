/**
 * "Send without encryption" from the outbox (issue 17 item 9), through the one outgoing path
 * (createOutgoingMail, as the runtime assembles it) against the real provider (Postfix + Dovecot):
 * a message refused because a recipient has no key while the policy requires encryption is kept
 * in the outbox as a failed item; sending it without encryption is refused while the policy (the
 * account's or the contact's own) requires encryption, and once it allows it the message is
 * delivered signed (gpg verifies it), not encrypted, exactly once, and its Sent copy is filed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerInbox, startProvider, type Provider } from '../../helpers/provider.ts';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import type { Settings } from '../../../app/control/contract.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startSmtpServer, type RunningSmtpServer } from '../../../app/smtp/server.ts';
import { createOutgoingMail, type OutgoingMail } from '../../../app/control/adapters/submission.ts';
import { sentMailbox } from '../../../app/outgoing/sent-recorder.ts';
import { Gpg } from './pgp-tools.ts';
import { plainSmtp } from '../../helpers/runtime-bridge.ts';

const D = 'example.test';
const ALICE = `alice@${D}`;
const DAN = `dan@${D}`; // no key anywhere
const LOCAL_PW = 'local-pw';

describe('outbox: send a refused message without encryption', () => {
  let p: Provider;
  let dir: string;
  let store: Store;
  let smtp: RunningSmtpServer;
  let outgoing: OutgoingMail;
  let keyring: Keyring;
  let settings: Settings;
  let gpg: Gpg;
  let accountId: number;

  before(async () => {
    p = await startProvider({ domain: D });
    for (const u of [ALICE, DAN]) await p.addUser(u, 'pw-' + u);
    dir = mkdtempSync(join(tmpdir(), 'lb-send-plain-'));
    store = await newStore(dir);
    accountId = store.accounts.create({
      email: ALICE,
      imap: { host: '127.0.0.1', port: p.imapPort },
      smtp: { host: '127.0.0.1', port: p.smtpPort },
      security: 'starttls',
      username: ALICE,
      providerPassword: 'pw-' + ALICE,
      caPem: p.caPem,
    }).id;
    store.credentials.set(LOCAL_PW);
    keyring = new Keyring({ repo: new InMemoryKeyringRepo() });
    const own = await keyring.own.generate(ALICE);
    gpg = new Gpg();
    gpg.importKey(own.armoredPublic);
    settings = { ...DEFAULT_SETTINGS, encryptPolicy: 'always', sign: true, fileSentCopies: false };
    // offline: the relay is not started; each test runs it (runOnce) when it wants mail to go out
    outgoing = createOutgoingMail({
      store,
      keyring,
      settings: () => settings,
      logger: silentLogger,
      offline: true,
    });
    smtp = await startSmtpServer({ submission: outgoing.adapter, logger: silentLogger, port: 0 });
  });

  after(async () => {
    await outgoing?.stop();
    await smtp?.close();
    store?.close();
    gpg?.close();
    await p?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const send = (subject: string, messageId: string) => {
    const t = plainSmtp(smtp.port, ALICE, LOCAL_PW);
    return t
      .sendMail({ from: ALICE, to: DAN, subject, text: 'the plain words\n', messageId })
      .finally(() => t.close());
  };

  it('refused under "always": kept as a failed item, never relayed; sending it unencrypted is refused while the policy requires encryption', async () => {
    await assert.rejects(
      send('needs a key', `<plain-1@${D}>`),
      (err: Error & { responseCode?: number; response?: string }) =>
        err.responseCode === 550 && /<dan@example\.test>/.test(err.response ?? ''),
    );
    const items = store.outbox.list(accountId);
    assert.equal(items.length, 1);
    const item = items[0]!;
    assert.equal(item.state, 'failed');
    assert.match(item.lastError ?? '', /no OpenPGP key found for dan@example\.test.*requires encryption/);
    assert.equal(await outgoing.worker.runOnce(), 0, 'a kept refusal is never relayed');
    // "Retry now" puts it through the pipeline again as it is: still no key, still refused, and
    // the kept item stays the only one (it is never relayed as kept)
    await assert.rejects(
      outgoing.adapter.resend(item.id, { withoutEncryption: false }),
      (err: Error & { code?: string }) =>
        err.code === 'encryption-required' && /<dan@example\.test>/.test(err.message),
    );
    assert.deepEqual(
      store.outbox.list(accountId).map((o) => [o.id, o.state]),
      [[item.id, 'failed']],
    );
    // the account's policy requires encryption: refused, with a clear reason; the item stays
    await assert.rejects(
      outgoing.adapter.resend(item.id, { withoutEncryption: true }),
      (err: Error & { code?: string }) =>
        err.code === 'encryption-required' &&
        /your encryption policy requires encryption to dan@example\.test: the message was not sent/.test(
          err.message,
        ),
    );
    // the account allows it, but the contact's own setting requires encryption: refused too
    settings = { ...settings, encryptPolicy: 'when-possible' };
    keyring.setContactSettings(DAN, { encrypt: 'always' });
    await assert.rejects(
      outgoing.adapter.resend(item.id, { withoutEncryption: true }),
      (err: Error & { code?: string }) => err.code === 'encryption-required',
    );
    keyring.setContactSettings(DAN, { encrypt: null });
    assert.deepEqual(
      store.outbox.list(accountId).map((o) => [o.id, o.state]),
      [[item.id, 'failed']],
      'nothing queued, the kept item unchanged',
    );
    assert.equal(await outgoing.worker.runOnce(), 0);
    assert.equal((await providerInbox(p, DAN)).length, 0, 'nothing reached the provider');
  });

  it('once the policy allows it: delivered signed, not encrypted, exactly once, with its Sent copy', async () => {
    const item = store.outbox.list(accountId)[0]!;
    await outgoing.adapter.resend(item.id, { withoutEncryption: true });
    const queued = store.outbox.list(accountId);
    assert.deepEqual(
      queued.map((o) => [o.state, o.envelope['protection'], o.envelope.to]),
      [['queued', 'sign', [DAN]]],
      'the kept item replaced by one signed copy',
    );
    assert.equal(store.outbox.get(item.id), null);
    // a second click finds nothing to send again
    await assert.rejects(outgoing.adapter.resend(item.id, { withoutEncryption: true }), /not found/);
    assert.equal(await outgoing.worker.runOnce(), 1);
    assert.equal(await outgoing.worker.runOnce(), 0, 'sent once');
    let got: Buffer[] = [];
    for (let i = 0; got.length === 0; i++) {
      assert.ok(i < 300, `delivered to dan\n${p.logTail(30)}`);
      got = await providerInbox(p, DAN);
      if (!got.length) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(got.length, 1, 'exactly one copy at the provider');
    const msg = got[0]!.toString();
    assert.doesNotMatch(msg, /BEGIN PGP MESSAGE/, 'not encrypted');
    assert.match(msg, /Content-Type: multipart\/signed;/);
    assert.match(msg, /the plain words/);
    assert.match(msg, /Message-ID: <plain-1@example\.test>/);
    const v = gpg.verifySigned(got[0]!);
    assert.ok(v.ok, v.stderr);
    // the client's own send failed, so it filed no Sent copy: the bridge files one
    await outgoing.sentRecorder.flush();
    const sent = sentMailbox(store, accountId);
    assert.ok(store.messages.hasMessageId(sent.id, '<plain-1@example.test>'), 'Sent copy filed');
  });
});
