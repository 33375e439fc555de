/**
 * The outgoing pipeline end to end on the real store (SQLCipher), real crypto and real gpg, with a
 * recording SMTP server standing in for the provider: local SMTP → the product's assembly
 * (createOutgoingMail: pipeline, Sent recorder) → outbox → OutboxWorker → provider.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import type { Settings } from '../../../app/control/contract.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startSmtpServer, type RunningSmtpServer } from '../../../app/smtp/server.ts';
import { createOutgoingMail, type OutgoingMail } from '../../../app/control/adapters/submission.ts';
import { OutboxWorker } from '../../../app/sync/outbox/worker.ts';
import type { OutboxCopyEnvelope } from '../../../app/outgoing/queued-copy.ts';
import { type SentRecorder, sentMailbox } from '../../../app/outgoing/sent-recorder.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { Gpg, makeKey, type TestKey } from './pgp-tools.ts';
import { SinkServer } from './sink-server.ts';
import { plainSmtp } from '../../helpers/runtime-bridge.ts';

/** Polls `cond` until true (a hang guard of 60 s, not a speed limit). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; !cond();) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ALICE = 'alice@example.org';
const LOCAL_PW = 'local-pw-123';

describe('outgoing pipeline: per-recipient encryption, Bcc copies, relay', () => {
  let dir: string;
  let store: Store;
  let keyring: Keyring;
  let repo: InMemoryKeyringRepo;
  let sink: SinkServer;
  let smtp: RunningSmtpServer;
  let worker: OutboxWorker;
  let settings: Settings;
  let gpg: Gpg;
  let bob: TestKey, dave: TestKey, frank: TestKey;
  let aliceFpr: string;
  let accountId: number;
  let sent: SentRecorder;
  let outgoing: OutgoingMail;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lb-smtp-pipe-'));
    store = await newStore(dir);
    sink = new SinkServer();
    await sink.start();
    accountId = store.accounts.create({
      email: ALICE,
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: sink.port },
      security: 'none',
      username: 'provider-user',
      providerPassword: 'provider-pass',
    }).id;
    store.credentials.set(LOCAL_PW);
    repo = new InMemoryKeyringRepo();
    keyring = new Keyring({ repo });
    const own = await keyring.own.generate(ALICE);
    aliceFpr = own.fingerprint;
    [bob, dave, frank] = await Promise.all([
      makeKey('bob@example.net'),
      makeKey('dave@example.com'),
      makeKey('frank@example.com'),
    ]);
    await keyring.importKeys(bob.armoredPublic, { source: 'manual' });
    await keyring.importKeys(dave.armoredPublic, { source: 'manual' });
    // frank is known only through Autocrypt peer state
    const frankKey = await (await import('openpgp')).readKey({ armoredKey: frank.armoredPublic });
    repo.putPeer({
      email: 'frank@example.com',
      lastSeen: Date.now(),
      autocryptTimestamp: Date.now(),
      publicKey: frankKey.write(),
      preferEncrypt: 'mutual',
      gossipTimestamp: null,
      gossipKey: null,
    });
    gpg = new Gpg();
    for (const k of [bob, dave, frank]) gpg.importKey(k.armoredSecret);
    gpg.importKey(own.armoredPublic);
    settings = { ...DEFAULT_SETTINGS, keyLookupTimeoutMs: 2000 };
    // The relay is not started: each test runs it with worker.runOnce().
    outgoing = createOutgoingMail({
      store,
      keyring,
      keyringRepo: repo,
      domainCheck: async (d) => (d === 'no-such-domain.example' ? 'missing' : 'unknown'),
      settings: () => settings,
      logger: silentLogger,
      relay: { backoff: { baseMs: 50, maxMs: 200 }, pollMs: 100000 },
      sentGraceMs: 150,
    });
    worker = outgoing.worker;
    sent = outgoing.sentRecorder;
    smtp = await startSmtpServer({ submission: outgoing.adapter, logger: silentLogger, port: 0 });
  });

  after(async () => {
    await outgoing.stop();
    await smtp.close();
    await sink.close();
    store.close();
    gpg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    settings = { ...DEFAULT_SETTINGS, keyLookupTimeoutMs: 2000 };
    sink.received.length = 0;
    sink.refuse.clear();
    sink.dataReplies.length = 0;
  });

  function client() {
    return plainSmtp(smtp.port, ALICE, LOCAL_PW);
  }

  function outboxFor(messageId: string) {
    return store.outbox
      .list(accountId)
      .filter((r) => (r.envelope as OutboxCopyEnvelope).messageId === messageId);
  }

  it('splits To/Cc by key, one copy per Bcc; gpg decrypts each; no trace of Bcc elsewhere', async () => {
    const t = client();
    const info = await t.sendMail({
      from: `Alice <${ALICE}>`,
      to: ['Bob <bob@example.net>', 'carol@example.net'],
      cc: 'frank@example.com',
      bcc: ['dave@example.com', 'erin@example.org'],
      subject: 'Quarterly numbers',
      text: 'The secret number is 42.\n',
      messageId: '<m-split@example.org>',
    });
    t.close();
    assert.match(info.response, /^250 2\.6\.0 queued as \d+$/);
    const rows = outboxFor('<m-split@example.org>');
    assert.equal(rows.length, 4, 'encrypted To/Cc copy, signed copy for carol, two Bcc copies');
    assert.ok(rows.every((r) => r.state === 'queued'));

    assert.equal(await worker.runOnce(), 4);
    assert.equal(sink.received.length, 4);
    assert.ok(sink.received.every((r) => r.user === 'provider-user' && r.from === ALICE));
    const byTo = new Map(sink.received.map((r) => [r.to.join(','), r.raw]));
    assert.deepEqual([...byTo.keys()].sort(), [
      'bob@example.net,frank@example.com',
      'carol@example.net',
      'dave@example.com',
      'erin@example.org',
    ]);
    for (const r of sink.received) {
      const s = r.raw.toString();
      assert.match(s, /^Message-ID: <m-split@example\.org>\r$/m, 'all copies share the Message-ID');
      assert.doesNotMatch(s, /^Bcc:/im);
      assert.match(s, /^Autocrypt: addr=alice@example\.org; prefer-encrypt=mutual; keydata=/m);
    }
    // the To/Cc encrypted copy: bob and frank (Autocrypt) decrypt; PKESKs only for bob, frank, alice
    const main = byTo.get('bob@example.net,frank@example.com')!;
    assert.match(main.toString(), /^Subject: \.\.\.\r$/m, 'outer subject obscured');
    assert.match(main.toString(), /Content-Type: multipart\/encrypted;/);
    const dec = gpg.decrypt(main);
    assert.ok(dec.ok, dec.stderr);
    assert.match(dec.plaintext, /The secret number is 42\./);
    assert.match(dec.plaintext, /protected-headers="v1"/);
    assert.match(dec.plaintext, /Subject: Quarterly numbers/);
    assert.match(dec.stderr, /Good signature from "<?alice@example\.org/);
    const ids = gpg.pkeskKeyIds(main).sort();
    const aliceKey = await (await import('openpgp')).readKey({ armoredKey: keyring.own.exportPublic(ALICE) });
    const aliceEnc = (await aliceKey.getEncryptionKey()).getKeyID().toHex().toUpperCase();
    assert.deepEqual(ids, [bob.encKeyId, frank.encKeyId, aliceEnc].sort());
    for (const r of sink.received.filter(
      (x) => !x.to.includes('dave@example.com') && !x.to.includes('erin@example.org'),
    )) {
      const all =
        r.raw.toString() + (r.raw.includes('BEGIN PGP MESSAGE') ? gpg.decrypt(r.raw).plaintext : '');
      assert.doesNotMatch(all, /dave@|erin@/i, 'no copy for others names a Bcc recipient');
      if (r.raw.includes('BEGIN PGP MESSAGE')) assert.ok(!gpg.pkeskKeyIds(r.raw).includes(dave.encKeyId));
    }
    // Bcc dave: own encrypted copy, PKESKs for dave and alice only
    const daveCopy = byTo.get('dave@example.com')!;
    assert.deepEqual(gpg.pkeskKeyIds(daveCopy).sort(), [dave.encKeyId, aliceEnc].sort());
    assert.match(gpg.decrypt(daveCopy).plaintext, /The secret number is 42\./);
    // carol and erin have no key: signed copies that gpg verifies
    for (const who of ['carol@example.net', 'erin@example.org']) {
      const raw = byTo.get(who)!;
      assert.match(raw.toString(), /Content-Type: multipart\/signed; micalg=pgp-sha\d+;/);
      const v = gpg.verifySigned(raw);
      assert.ok(v.ok, v.stderr);
      assert.match(raw.toString(), /The secret number is 42\./);
    }
    assert.ok(outboxFor('<m-split@example.org>').every((r) => r.state === 'sent'));
    assert.ok(aliceFpr.length >= 40);
  });

  it('attaches the sender key inside the encryption when attachKey is on; strips internal headers', async () => {
    settings = { ...settings, attachKey: true };
    const raw =
      'From: alice@example.org\r\nTo: bob@example.net\r\nSubject: with key\r\nMessage-ID: <m-key@example.org>\r\n' +
      'X-Lockbridge-Encryption: encrypted\r\nAutocrypt-Draft-State: encrypt=yes;\r\nBcc: someone@example.com\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n\r\nkey attached\r\n';
    const t = client();
    await t.sendMail({ envelope: { from: ALICE, to: ['bob@example.net'] }, raw });
    t.close();
    assert.equal(await worker.runOnce(), 1);
    const got = sink.received[0]!.raw.toString();
    assert.doesNotMatch(got, /X-Lockbridge|Autocrypt-Draft-State|^Bcc:|someone@/im);
    const dec = gpg.decrypt(sink.received[0]!.raw);
    assert.ok(dec.ok, dec.stderr);
    assert.match(dec.plaintext, /Content-Type: application\/pgp-keys; name="OpenPGP_0x[0-9A-F]{16}\.asc"/);
    assert.match(dec.plaintext, /-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    assert.match(dec.plaintext, /key attached/);
    assert.doesNotMatch(dec.plaintext, /X-Lockbridge|Autocrypt-Draft-State|someone@/i);
  });

  it('a message to oneself is encrypted to the own key', async () => {
    const t = client();
    await t.sendMail({
      from: ALICE,
      to: ALICE,
      subject: 'note to self',
      text: 'n',
      messageId: '<m-self@example.org>',
    });
    t.close();
    const rows = outboxFor('<m-self@example.org>');
    assert.equal(rows.length, 1);
    assert.equal((rows[0]!.envelope as OutboxCopyEnvelope).protection, 'encrypt');
    await worker.runOnce();
  });

  it('refuses a recipient whose domain does not exist (550) before DATA', async () => {
    const t = client();
    await assert.rejects(
      t.sendMail({ from: ALICE, to: 'x@no-such-domain.example', subject: 's', text: 't' }),
      (err: Error & { response?: string }) => {
        assert.match(
          err.response ?? '',
          /^550 5\.1\.1 <x@no-such-domain\.example>: the domain no-such-domain\.example does not exist/,
        );
        return true;
      },
    );
    t.close();
  });

  it('require-encryption: 550 naming the keyless recipient, nothing queued or relayed (the refusal is kept as a failed outbox item)', async () => {
    settings = { ...settings, encryptPolicy: 'always' };
    const before = store.outbox.list(accountId).length;
    const t = client();
    await assert.rejects(
      t.sendMail({
        from: ALICE,
        to: 'bob@example.net',
        cc: 'carol@example.net',
        subject: 'must be encrypted',
        text: 'x',
      }),
      (err: Error & { responseCode?: number; response?: string }) => {
        assert.equal(err.responseCode, 550);
        assert.match(
          err.response ?? '',
          /encryption required but not possible for <carol@example\.net> \(no OpenPGP key found/,
        );
        return true;
      },
    );
    t.close();
    // kept for the user to act on (Outbox), never relayed as it is
    const kept = store.outbox.list(accountId).slice(before);
    assert.deepEqual(
      kept.map((o) => [o.state, (o.envelope['refused'] as { address: string }[]).map((r) => r.address)]),
      [['failed', ['carol@example.net']]],
    );
    assert.match(kept[0]!.lastError ?? '', /no OpenPGP key found for carol@example\.net/);
    assert.equal(await worker.runOnce(), 0);
    assert.equal(sink.received.length, 0);
    store.outbox.remove(kept[0]!.id);
  });

  it('retries 4xx with backoff and delivers exactly once; 5xx fails with an Inbox notice', async () => {
    const t = client();
    sink.dataReplies.push({ code: 451, message: 'try later' });
    await t.sendMail({
      from: ALICE,
      to: 'bob@example.net',
      subject: 'retry me',
      text: 'r',
      messageId: '<m-retry@example.org>',
    });
    const triedAt = Date.now();
    assert.equal(await worker.runOnce(), 1);
    let row = outboxFor('<m-retry@example.org>')[0]!;
    assert.equal(row.state, 'queued');
    assert.match(row.lastError ?? '', /451/);
    assert.equal(row.attempts, 1);
    assert.equal(worker.status(accountId).queued, 1);
    // not due before the backoff (50 ms after the attempt) ends: checked on the due time the worker
    // reads, not by asking it again at once (a turn slower than 50 ms would make that fail)
    const due = row.nextAttempt;
    assert.ok(due >= triedAt + 50, `next attempt ${due - triedAt} ms after the first (backoff 50 ms)`);
    const ids = (at: number) => store.outbox.due(at, 100).map((r) => r.id);
    assert.ok(!ids(due - 1).includes(row.id), 'not due before the backoff ends');
    assert.ok(ids(due).includes(row.id), 'due when it ends');
    await until(() => Date.now() >= due, 'the backoff ends');
    assert.equal(await worker.runOnce(), 1);
    row = outboxFor('<m-retry@example.org>')[0]!;
    assert.equal(row.state, 'sent');
    assert.equal(row.attempts, 2);
    assert.equal(sink.received.length, 1);
    assert.equal(await worker.runOnce(), 0);
    assert.equal(sink.received.length, 1, 'exactly once');

    // permanent refusal → failed + notice in the local Inbox
    sink.refuse.add('nobody@example.net');
    await t.sendMail({
      from: ALICE,
      to: 'nobody@example.net',
      subject: 'to a ghost',
      text: 'g',
      messageId: '<m-ghost@example.org>',
    });
    t.close();
    assert.equal(await worker.runOnce(), 1);
    row = outboxFor('<m-ghost@example.org>')[0]!;
    assert.equal(row.state, 'failed');
    assert.match(row.lastError ?? '', /550.*User unknown/);
    const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
    const uids = store.messages.uids(inbox.id);
    const notice = store.messages.raw(store.messages.get(inbox.id, uids.at(-1)!)!.blobId).toString();
    assert.match(notice, /^Subject: Undelivered: to a ghost\r$/m);
    assert.match(notice, /nobody@example\.net/);
    assert.match(notice, /User unknown/);
    assert.match(notice, /In-Reply-To: <m-ghost@example\.org>/);
    const st = worker.status(accountId);
    assert.ok(st.failed >= 1);
  });

  it('survives a restart: an item left in "sending" is sent again (at-least-once), once', async () => {
    const t = client();
    await t.sendMail({
      from: ALICE,
      to: 'bob@example.net',
      subject: 'crash',
      text: 'c',
      messageId: '<m-crash@example.org>',
    });
    t.close();
    const row = outboxFor('<m-crash@example.org>')[0]!;
    store.outbox.setState(row.id, 'sending', { countAttempt: true }); // as if the process died mid-send
    const w2 = new OutboxWorker({ store, logger: silentLogger, pollMs: 100000 });
    w2.start();
    for (let i = 0; i < 100 && outboxFor('<m-crash@example.org>')[0]!.state !== 'sent'; i++)
      await new Promise((r) => setTimeout(r, 20));
    await w2.stop();
    assert.equal(outboxFor('<m-crash@example.org>')[0]!.state, 'sent');
    assert.equal(sink.received.filter((r) => r.raw.includes('<m-crash@example.org>')).length, 1);
  });

  it('provider down: waits queued, delivered once it is back', async () => {
    const t = client();
    await sink.close();
    await t.sendMail({
      from: ALICE,
      to: 'bob@example.net',
      subject: 'down',
      text: 'd',
      messageId: '<m-down@example.org>',
    });
    t.close();
    assert.equal(await worker.runOnce(), 1);
    const row = outboxFor('<m-down@example.org>')[0]!;
    assert.equal(row.state, 'queued');
    assert.match(row.lastError ?? '', /ECONNREFUSED|ECONNECTION/);
    const oldPort = sink.port;
    sink = new SinkServer();
    await sink.start();
    store.accounts.update(accountId, { smtp: { host: '127.0.0.1', port: sink.port } });
    assert.notEqual(oldPort, 0);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(await worker.runOnce(), 1);
    assert.equal(outboxFor('<m-down@example.org>')[0]!.state, 'sent');
    assert.equal(sink.received.length, 1);
  });

  it('files a Sent copy only when the client does not append its own (fileSentCopies)', async () => {
    const box = sentMailbox(store, accountId);
    const count = () => store.mailboxes.status(box.id).messages;
    const t = client();
    // setting off: nothing filed
    await t.sendMail({
      from: ALICE,
      to: 'bob@example.net',
      subject: 'off',
      text: 'o',
      messageId: '<m-off@example.org>',
    });
    // the submission has been answered, so a copy would already be scheduled: none is
    assert.equal(sent.pending, 0);
    assert.equal(store.messages.hasMessageId(box.id, '<m-off@example.org>'), false);
    settings = { ...settings, fileSentCopies: true };
    const n0 = count();
    // the client does not append: Lockbridge files one copy, with the Bcc for the sender's record
    await t.sendMail({
      from: ALICE,
      to: 'bob@example.net',
      bcc: 'dave@example.com',
      subject: 'filed by lockbridge',
      text: 'f',
      messageId: '<m-filed@example.org>',
    });
    assert.equal(sent.pending, 1);
    await until(() => sent.pending === 0, 'the grace period ends and the copy is filed');
    assert.equal(count(), n0 + 1);
    assert.ok(store.messages.hasMessageId(box.id, '<m-filed@example.org>'));
    const uids = store.messages.uids(box.id);
    const filed = store.messages.raw(store.messages.get(box.id, uids.at(-1)!)!.blobId).toString();
    assert.match(filed, /^Bcc: dave@example\.com\r$/m);
    assert.match(filed, /^Subject: filed by lockbridge\r$/m);
    // the client appends its own copy within the grace period: no second copy
    await t.sendMail({
      from: ALICE,
      to: 'bob@example.net',
      subject: 'own copy',
      text: 'c',
      messageId: '<m-own@example.org>',
    });
    const own = Buffer.from(
      'From: alice@example.org\r\nTo: bob@example.net\r\nSubject: own copy\r\nMessage-ID: <m-own@example.org>\r\n\r\nc\r\n',
    );
    store.messages.insert(box.id, { raw: own, analysis: analyzeMessage(own) });
    // the recorder's decision for this message is made when its grace period ends
    await until(() => sent.pending === 0, "the grace period of the client's own copy ends");
    assert.equal(count(), n0 + 2);
    t.close();
    // flush files what is pending at shutdown
    await client().sendMail({
      from: ALICE,
      to: 'bob@example.net',
      subject: 'flush',
      text: 'x',
      messageId: '<m-flush@example.org>',
    });
    await sent.flush();
    assert.ok(store.messages.hasMessageId(box.id, '<m-flush@example.org>'));
  });

  it('createOutgoingMail: a queued message is relayed at once (kick) and stop() is clean', async () => {
    const out = createOutgoingMail({
      store,
      keyring,
      keyringRepo: repo,
      settings: () => settings,
      logger: silentLogger,
      checkDomains: false,
    });
    const srv = await startSmtpServer({ submission: out.adapter, logger: silentLogger, port: 0 });
    out.start();
    try {
      const t = plainSmtp(srv.port, ALICE, LOCAL_PW);
      await t.sendMail({
        from: ALICE,
        to: 'bob@example.net',
        subject: 'kick',
        text: 'k',
        messageId: '<m-kick@example.org>',
      });
      t.close();
      for (let i = 0; i < 100 && !sink.received.some((r) => r.raw.includes('<m-kick@example.org>')); i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(sink.received.filter((r) => r.raw.includes('<m-kick@example.org>')).length, 1);
      assert.equal(out.worker.status(accountId).queued, 0);
    } finally {
      await out.stop();
      await srv.close();
    }
  });
});
