/**
 * End to end with the real provider (Postfix + Dovecot, test/helpers/provider.ts) and a real
 * loopback HTTPS WKD server: local SMTP → createOutgoingMail (KEYS' KeyDiscovery) → outbox →
 * OutboxWorker → Postfix (STARTTLS, SASL AUTH, private CA) → Dovecot; what arrives is checked with
 * real gpg.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SendMailOptions } from 'nodemailer';
import * as openpgp from 'openpgp';
import { providerInbox, providerInboxOf, startProvider, type Provider } from '../../helpers/provider.ts';
import { createTestCa } from '../../helpers/https-ca.ts';
import { startHttpsServer, type TestHttpsServer } from '../../helpers/https-server.ts';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { KeyDiscovery } from '../../../app/keys/discovery/discover.ts';
import { wkdAdvancedUrl } from '../../../app/keys/discovery/wkd-url.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import type { Settings } from '../../../app/control/contract.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startSmtpServer, type RunningSmtpServer } from '../../../app/smtp/server.ts';
import { createOutgoingMail, type OutgoingMail } from '../../../app/control/adapters/submission.ts';
import type { OutboxWorker } from '../../../app/sync/outbox/worker.ts';
import { Gpg, makeKey, type TestKey } from './pgp-tools.ts';
import { plainSmtp } from '../../helpers/runtime-bridge.ts';

const D = 'example.test';
const ALICE = `alice@${D}`;
const BOB = `bob@${D}`; // key on WKD
const CAROL = `carol@${D}`; // key known through Autocrypt
const DAN = `dan@${D}`; // no key
const ERIN = `erin@${D}`; // Bcc, key in the keyring
const LOCAL_PW = 'local-pw';

describe('SMTP e2e with Postfix + Dovecot + WKD', () => {
  let p: Provider;
  let wkd: TestHttpsServer;
  let dir: string;
  let store: Store;
  let smtp: RunningSmtpServer;
  let worker: OutboxWorker;
  let outgoing: OutgoingMail | undefined;
  let settings: Settings;
  let gpg: Gpg;
  let bob: TestKey, carol: TestKey, erin: TestKey;
  let accountId: number;

  before(async () => {
    p = await startProvider({ domain: D });
    for (const u of [ALICE, BOB, CAROL, DAN, ERIN]) await p.addUser(u, 'pw-' + u);
    [bob, carol, erin] = await Promise.all([makeKey(BOB), makeKey(CAROL), makeKey(ERIN)]);
    // WKD for bob on a loopback HTTPS server trusted through a test CA
    const ca = await createTestCa();
    const cert = await ca.issue([`openpgpkey.${D}`, D]);
    wkd = await startHttpsServer(cert);
    const bobBin = (await openpgp.readKey({ armoredKey: bob.armoredPublic })).write();
    const adv = new URL(wkdAdvancedUrl(BOB));
    wkd.routes.set(adv.hostname + adv.pathname, { body: bobBin });

    dir = mkdtempSync(join(tmpdir(), 'lb-smtp-e2e-'));
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
    const repo = new InMemoryKeyringRepo();
    const keyring = new Keyring({ repo });
    const own = await keyring.own.generate(ALICE);
    await keyring.importKeys(erin.armoredPublic, { source: 'manual' });
    repo.putPeer({
      email: CAROL,
      lastSeen: Date.now(),
      autocryptTimestamp: Date.now(),
      publicKey: (await openpgp.readKey({ armoredKey: carol.armoredPublic })).write(),
      preferEncrypt: 'mutual',
      gossipTimestamp: null,
      gossipKey: null,
    });
    const discovery = new KeyDiscovery({
      keyring,
      repo,
      http: { resolve: async () => '127.0.0.1', ca: ca.caPem, port: wkd.port },
      sources: { vks: false },
    });
    gpg = new Gpg();
    for (const k of [bob, carol, erin]) gpg.importKey(k.armoredSecret);
    gpg.importKey(own.armoredPublic);
    settings = { ...DEFAULT_SETTINGS, keyLookupTimeoutMs: 4000 };
    // The product's assembly; the relay is not started: each test runs it with worker.runOnce().
    outgoing = createOutgoingMail({
      store,
      keyring,
      keyringRepo: repo,
      discovery,
      settings: () => settings,
      logger: silentLogger,
      checkDomains: false, // example.test is not in DNS
      relay: { backoff: { baseMs: 100, maxMs: 300 }, pollMs: 100000 },
    });
    worker = outgoing.worker;
    smtp = await startSmtpServer({ submission: outgoing.adapter, logger: silentLogger, port: 0 });
  });

  after(async () => {
    await outgoing?.stop();
    await smtp?.close();
    store?.close();
    await wkd?.close();
    gpg?.close();
    await p?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const send = (mail: SendMailOptions) => {
    const t = plainSmtp(smtp.port, ALICE, LOCAL_PW);
    return t.sendMail(mail).finally(() => t.close());
  };

  it('three recipients (WKD, Autocrypt, no key) + one Bcc arrive as gpg-checkable separate copies', async () => {
    const info = await send({
      from: ALICE,
      to: [BOB, CAROL],
      cc: DAN,
      bcc: ERIN,
      subject: 'Project Falcon',
      text: 'Launch code: 7-4-1.\n',
      messageId: `<falcon@${D}>`,
    });
    assert.match(info.response, /^250 /);
    assert.equal(await worker.runOnce(), 3, 'encrypted To/Cc copy, signed copy for dan, Bcc copy for erin');
    const [b, c, d, e] = [
      await providerInboxOf(p, BOB, 1),
      await providerInboxOf(p, CAROL, 1),
      await providerInboxOf(p, DAN, 1),
      await providerInboxOf(p, ERIN, 1),
    ];
    for (const box of [b, c, d, e]) assert.equal(box.length, 1);
    const bobMsg = b[0]!;
    const carolMsg = c[0]!;
    assert.ok(bobMsg.toString().includes(`Message-ID: <falcon@${D}>`));
    for (const [msg] of [[bobMsg], [carolMsg]] as const) {
      const dec = gpg.decrypt(msg);
      assert.ok(dec.ok, dec.stderr);
      assert.match(dec.plaintext, /Launch code: 7-4-1\./);
      assert.match(dec.plaintext, /Subject: Project Falcon/);
    }
    assert.match(bobMsg.toString(), /^Subject: \.\.\.\r$/m);
    // erin's (Bcc) copy is separate, encrypted to erin (+ the sender) only
    const erinMsg = e[0]!;
    assert.match(gpg.decrypt(erinMsg).plaintext, /Launch code/);
    assert.ok(gpg.pkeskKeyIds(erinMsg).includes(erin.encKeyId));
    assert.ok(!gpg.pkeskKeyIds(erinMsg).includes(bob.encKeyId));
    // no trace of the Bcc recipient in the others' copies: headers, bodies, PKESKs
    for (const msg of [bobMsg, carolMsg, d[0]!]) {
      const text = msg.toString() + (msg.includes('BEGIN PGP MESSAGE') ? gpg.decrypt(msg).plaintext : '');
      assert.doesNotMatch(text, /erin/i);
      if (msg.includes('BEGIN PGP MESSAGE')) assert.ok(!gpg.pkeskKeyIds(msg).includes(erin.encKeyId));
    }
    // dan (no key) gets a signed copy that gpg verifies, exactly as delivered
    const danMsg = d[0]!;
    assert.match(danMsg.toString(), /Content-Type: multipart\/signed;/);
    const v = gpg.verifySigned(danMsg);
    assert.ok(v.ok, v.stderr);
    assert.ok(
      wkd.requests.some((r) => r.path.includes('/.well-known/openpgpkey/')),
      'WKD was asked',
    );
  });

  it('require-encryption: 550 naming the recipient, nothing reaches Postfix (kept as a failed outbox item)', async () => {
    settings = { ...settings, encryptPolicy: 'always' };
    const before = store.outbox.list(accountId).length;
    await assert.rejects(
      send({ from: ALICE, to: [BOB, DAN], subject: 'secret', text: 'x' }),
      (err: Error & { responseCode?: number; response?: string }) =>
        err.responseCode === 550 && /<dan@example\.test>/.test(err.response ?? ''),
    );
    settings = { ...settings, encryptPolicy: 'when-possible' };
    // kept as a failed item for the Outbox, never relayed as it is
    const kept = store.outbox.list(accountId).slice(before);
    assert.deepEqual(
      kept.map((o) => o.state),
      ['failed'],
    );
    assert.equal(await worker.runOnce(), 0);
    store.outbox.remove(kept[0]!.id);
    // nothing was relayed (runOnce sent none); what Postfix holds is delivered before counting
    await p.postfixDrained();
    assert.equal((await providerInbox(p, BOB)).length, 1);
    assert.equal((await providerInbox(p, DAN)).length, 1);
  });

  it('Postfix stopped: waits in the outbox, delivered exactly once after it starts', async () => {
    await p.stopPostfix();
    await send({ from: ALICE, to: BOB, subject: 'while down', text: 'queued', messageId: `<down@${D}>` });
    assert.equal(await worker.runOnce(), 1);
    const row = store.outbox.list(accountId).find((r) => r.envelope['messageId'] === `<down@${D}>`)!;
    assert.equal(store.outbox.get(row.id)!.state, 'queued');
    assert.ok(store.outbox.get(row.id)!.lastError);
    assert.equal(worker.status(accountId).queued, 1);
    await p.startPostfix();
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await worker.runOnce(), 1);
    assert.equal(store.outbox.get(row.id)!.state, 'sent');
    const msgs = await providerInboxOf(p, BOB, 2);
    // nothing left to relay, and what Postfix accepted is delivered: a second copy would be in INBOX now
    assert.equal(await worker.runOnce(), 0);
    await p.postfixDrained();
    const again = await providerInbox(p, BOB);
    assert.equal(again.length, msgs.length);
    assert.equal(again.filter((m) => m.includes(`<down@${D}>`)).length, 1, 'delivered exactly once');
  });
});
