/**
 * Issue 19, per-recipient choice of standard, end to end with the real provider (Postfix +
 * Dovecot): local SMTP → createOutgoingMail → outbox → OutboxWorker → Postfix → Dovecot. Alice has
 * an OpenPGP key and an S/MIME certificate (openssl CA, imported as PKCS#12). One message to bob
 * (OpenPGP key), carol (S/MIME certificate, imported) and dan (neither), Bcc erin (S/MIME
 * certificate learned from her signed mail, which announced AES-256-GCM) arrives as four copies of
 * the right kinds, checked at the provider: gpg decrypts bob's, `openssl cms` decrypts and verifies
 * carol's (AES-256-CBC: her capabilities are unknown) and erin's (AES-256-GCM), alice's own
 * certificate opens both (the Sent copy), and dan's is signed. A recipient with both a key and a
 * certificate gets OpenPGP by default and S/MIME with preferredStandard 'smime'. A recipient whose
 * certificate gpgsm made gets a copy gpgsm decrypts and verifies at the provider.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { SendMailOptions } from 'nodemailer';
import { providerInboxOf, startProvider, type Provider } from '../../helpers/provider.ts';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { StoreKeyringRepo } from '../../../app/store/repos/keyring.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import type { Settings } from '../../../app/control/contract.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startSmtpServer, type RunningSmtpServer } from '../../../app/smtp/server.ts';
import { createOutgoingMail, type OutgoingMail } from '../../../app/control/adapters/submission.ts';
import { createInboundProcessor } from '../../../app/control/adapters/inbound.ts';
import { inlineEngine } from '../../../app/crypto/engine.ts';
import { createWorkerPool } from '../../../app/crypto/worker-pool.ts';
import type { CryptoEngine } from '../../../app/crypto/engine.ts';
import { smimeCopies } from '../../../app/crypto/smime-write.ts';
import type { OutboxWorker } from '../../../app/sync/outbox/worker.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';
import { GpgsmHome } from '../../helpers/crypto/gpgsm.ts';
import { run } from '../../helpers/crypto/gpg.ts';
import { Gpg, makeKey, type TestKey } from './pgp-tools.ts';
import { plainSmtp } from '../../helpers/runtime-bridge.ts';

const D = 'example.test';
const ALICE = `alice@${D}`;
const BOB = `bob@${D}`; // OpenPGP key
const CAROL = `carol@${D}`; // S/MIME certificate (RSA), imported
const DAN = `dan@${D}`; // neither
const ERIN = `erin@${D}`; // Bcc, S/MIME certificate (EC) learned from her signed mail
const FRANK = `frank@${D}`; // both
const GINA = `gina@${D}`; // S/MIME certificate made by gpgsm (self-signed, its key in gpgsm)
const LOCAL_PW = 'local-pw';

describe('per-recipient OpenPGP / S/MIME / plain with Postfix + Dovecot', () => {
  let p: Provider;
  let dir: string;
  let store: Store;
  let smtp: RunningSmtpServer;
  let worker: OutboxWorker;
  let outgoing: OutgoingMail | undefined;
  let settings: Settings;
  let gpg: Gpg;
  let ca: OpensslCa;
  let alice: OsslUser, carol: OsslUser, erin: OsslUser, frank: OsslUser;
  let bobKey: TestKey, frankKey: TestKey;
  let pool: CryptoEngine;
  let gpgsm: GpgsmHome;

  const decrypt = (msg: Buffer, u: OsslUser) =>
    run('openssl', ['cms', '-decrypt', '-recip', u.certPath, '-inkey', u.keyPath], msg);
  const verify = (signed: Buffer) => {
    const r = run('openssl', ['cms', '-verify', '-CAfile', ca.path('ca.pem')], signed);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.toString('utf8');
  };
  const pkcs8 = (u: OsslUser) =>
    new Uint8Array(createPrivateKey(readFileSync(u.keyPath)).export({ format: 'der', type: 'pkcs8' }));

  before(async () => {
    p = await startProvider({ domain: D });
    for (const u of [ALICE, BOB, CAROL, DAN, ERIN, FRANK, GINA]) await p.addUser(u, 'pw-' + u);
    ca = new OpensslCa();
    alice = ca.user(ALICE, 'rsa');
    carol = ca.user(CAROL, 'rsa');
    erin = ca.user(ERIN, 'ec');
    frank = ca.user(FRANK, 'rsa');
    [bobKey, frankKey] = await Promise.all([makeKey(BOB), makeKey(FRANK)]);

    dir = mkdtempSync(join(tmpdir(), 'lb-smime-send-'));
    store = await newStore(dir);
    store.accounts.create({
      email: ALICE,
      imap: { host: '127.0.0.1', port: p.imapPort },
      smtp: { host: '127.0.0.1', port: p.smtpPort },
      security: 'starttls',
      username: ALICE,
      providerPassword: 'pw-' + ALICE,
      caPem: p.caPem,
    });
    store.credentials.set(LOCAL_PW);
    const repo = new StoreKeyringRepo(store);
    const keyring = new Keyring({ repo, smimeRepo: store.smime });
    const own = await keyring.own.generate(ALICE);
    await keyring.importKeys(bobKey.armoredPublic, { source: 'manual' });
    await keyring.importKeys(frankKey.armoredPublic, { source: 'manual' });
    await keyring.smime!.importPkcs12(ca.pkcs12(alice, 'p12'), 'p12');
    keyring.smime!.importCertificates(ca.caPem, { trusted: true });
    keyring.smime!.importCertificates(carol.certPem);
    keyring.smime!.importCertificates(frank.certPem);
    // gina uses gpgsm: a self-signed certificate of its own (CA:TRUE, key encipherment); our CA trusted there
    gpgsm = new GpgsmHome();
    keyring.smime!.importCertificates(gpgsm.genSelfSigned(GINA));
    gpgsm.import(ca.caPem);
    gpgsm.trust(ca.must('openssl', ['x509', '-in', ca.path('ca.pem'), '-outform', 'DER']));
    // erin's certificate and capabilities come from her signed (and encrypted) mail, read inbound
    const [fromErin] = smimeCopies(
      Buffer.from(
        `From: ${ERIN}\r\nTo: ${ALICE}\r\nSubject: hello\r\nMessage-ID: <e1@${D}>\r\n` +
          'Content-Type: text/plain\r\n\r\nhi alice\r\n',
      ),
      {
        signer: { certificate: erin.certDer, privateKey: pkcs8(erin) },
        copies: [{ recipients: [alice.certDer], gcm: true }],
      },
    );
    const processInbound = createInboundProcessor({
      keyring,
      autocrypt: new AutocryptService({ repo, keyring }),
      engine: inlineEngine,
      logger: silentLogger,
    });
    const read = await processInbound(fromErin!, { accountId: 1, email: ALICE, remoteMailbox: 'INBOX' });
    assert.equal(read.meta?.signature, 'valid');
    assert.equal((await keyring.smime!.recipientCertificate(ERIN))?.gcm, true, 'erin announced AES-256-GCM');
    assert.equal(
      (await keyring.smime!.recipientCertificate(CAROL))?.gcm,
      false,
      'carol: capabilities unknown',
    );

    gpg = new Gpg();
    for (const k of [bobKey, frankKey]) gpg.importKey(k.armoredSecret);
    gpg.importKey(own.armoredPublic);
    settings = { ...DEFAULT_SETTINGS, keyLookupTimeoutMs: 4000 };
    pool = createWorkerPool({ size: 1 }); // as the runtime: S/MIME is signed and encrypted there
    outgoing = createOutgoingMail({
      engine: pool,
      store,
      keyring,
      keyringRepo: repo,
      settings: () => settings,
      logger: silentLogger,
      checkDomains: false,
      relay: { backoff: { baseMs: 100, maxMs: 300 }, pollMs: 100000 },
    });
    worker = outgoing.worker;
    smtp = await startSmtpServer({ submission: outgoing.adapter, logger: silentLogger, port: 0 });
  });

  after(async () => {
    await outgoing?.stop();
    await pool?.close();
    await smtp?.close();
    store?.close();
    gpg?.close();
    gpgsm?.dispose();
    ca?.dispose();
    await p?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const send = (mail: SendMailOptions) => {
    const t = plainSmtp(smtp.port, ALICE, LOCAL_PW);
    return t.sendMail(mail).finally(() => t.close());
  };

  it('OpenPGP, S/MIME and plain recipients and an S/MIME Bcc: one copy of the right kind each', async () => {
    const info = await send({
      from: ALICE,
      to: [BOB, CAROL, DAN],
      bcc: ERIN,
      subject: 'Quarterly numbers',
      text: 'Revenue: 42.\n',
      messageId: `<numbers@${D}>`,
    });
    assert.match(info.response, /^250 /);
    assert.equal(await worker.runOnce(), 4, 'OpenPGP copy, S/MIME copy, signed copy, S/MIME Bcc copy');
    const [b, c, d, e] = [
      await providerInboxOf(p, BOB, 1),
      await providerInboxOf(p, CAROL, 1),
      await providerInboxOf(p, DAN, 1),
      await providerInboxOf(p, ERIN, 1),
    ];
    for (const box of [b, c, d, e]) assert.equal(box.length, 1);

    // bob: PGP/MIME, gpg decrypts it
    const bobMsg = b[0]!;
    assert.match(bobMsg.toString(), /Content-Type: multipart\/encrypted;/);
    const dec = gpg.decrypt(bobMsg);
    assert.ok(dec.ok, dec.stderr);
    assert.match(dec.plaintext, /Revenue: 42\./);

    // carol: S/MIME enveloped-data (AES-256-CBC), openssl decrypts and verifies alice's signature
    const carolMsg = c[0]!;
    assert.match(carolMsg.toString(), /Content-Type: application\/pkcs7-mime; smime-type=enveloped-data/);
    assert.match(carolMsg.toString(), /^Subject: Quarterly numbers\r$/m);
    assert.match(run('openssl', ['cms', '-cmsout', '-print'], carolMsg).stdout.toString(), /aes-256-cbc/);
    const carolInner = decrypt(carolMsg, carol);
    assert.equal(carolInner.status, 0, carolInner.stderr);
    assert.match(verify(carolInner.stdout), /Revenue: 42\./);
    // the Sent copy: alice's own certificate opens it too; erin's does not
    assert.equal(decrypt(carolMsg, alice).status, 0);
    assert.notEqual(decrypt(carolMsg, erin).status, 0);

    // erin (Bcc): her own S/MIME copy, authEnveloped-data AES-256-GCM, naming no one else
    const erinMsg = e[0]!;
    assert.match(erinMsg.toString(), /smime-type=authEnveloped-data/);
    assert.match(run('openssl', ['cms', '-cmsout', '-print'], erinMsg).stdout.toString(), /aes-256-gcm/);
    const erinInner = decrypt(erinMsg, erin);
    assert.equal(erinInner.status, 0, erinInner.stderr);
    assert.match(verify(erinInner.stdout), /Revenue: 42\./);
    assert.equal(decrypt(erinMsg, alice).status, 0);
    assert.notEqual(decrypt(erinMsg, carol).status, 0);
    for (const msg of [bobMsg, carolMsg, d[0]!]) assert.doesNotMatch(msg.toString(), /erin/i);
    assert.doesNotMatch(carolInner.stdout.toString(), /erin/i);

    // dan: neither key nor certificate — signed (OpenPGP), not encrypted
    const danMsg = d[0]!;
    assert.match(danMsg.toString(), /Content-Type: multipart\/signed;/);
    assert.ok(gpg.verifySigned(danMsg).ok);
  });

  it('key and certificate both held: OpenPGP by default, S/MIME with preferredStandard smime', async () => {
    await send({ from: ALICE, to: FRANK, subject: 'default', text: 'one\n', messageId: `<f1@${D}>` });
    assert.equal(await worker.runOnce(), 1);
    const [first] = await providerInboxOf(p, FRANK, 1);
    assert.match(first!.toString(), /multipart\/encrypted/);
    assert.match(gpg.decrypt(first!).plaintext, /one/);

    settings = { ...settings, preferredStandard: 'smime' };
    await send({ from: ALICE, to: FRANK, subject: 'preferred', text: 'two\n', messageId: `<f2@${D}>` });
    assert.equal(await worker.runOnce(), 1);
    const msgs = await providerInboxOf(p, FRANK, 2);
    const second = msgs.find((m) => m.includes(`<f2@${D}>`))!;
    assert.match(second.toString(), /application\/pkcs7-mime; smime-type=enveloped-data/);
    const inner = decrypt(second, frank);
    assert.equal(inner.status, 0, inner.stderr);
    assert.match(verify(inner.stdout), /two/);
  });

  it('gpgsm (GnuPG 2.2) decrypts and verifies the S/MIME copy it finds at the provider', async () => {
    await send({
      from: ALICE,
      to: GINA,
      subject: 'to gpgsm',
      text: 'Grüße an gpgsm\n',
      messageId: `<g1@${D}>`,
    });
    assert.equal(await worker.runOnce(), 1);
    const [msg] = await providerInboxOf(p, GINA, 1);
    const text = msg!.toString('latin1');
    assert.match(text, /application\/pkcs7-mime; smime-type=enveloped-data/);
    const der = Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4), 'base64');
    const inner = gpgsm.over(['--decrypt'], der).toString('latin1');
    // the multipart/signed inside: its first part is what is signed, the second the signature
    const boundary = /boundary="([^"]+)"/.exec(inner)![1]!;
    const start = inner.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
    const end = inner.indexOf(`\r\n--${boundary}`, start);
    const sigPart = inner.slice(end + boundary.length + 6);
    const sig = sigPart.slice(sigPart.indexOf('\r\n\r\n') + 4, sigPart.indexOf(`\r\n--${boundary}--`));
    const dataFile = join(gpgsm.dir, 'signed');
    const sigFile = join(gpgsm.dir, 'signed.p7s');
    writeFileSync(dataFile, Buffer.from(inner.slice(start, end), 'latin1'));
    writeFileSync(sigFile, Buffer.from(sig, 'base64'));
    const v = run(
      'gpgsm',
      [
        '--homedir',
        gpgsm.dir,
        '--batch',
        '--disable-crl-checks',
        '--disable-policy-checks',
        '--verify',
        sigFile,
        dataFile,
      ],
      undefined,
      { GNUPGHOME: gpgsm.dir },
    );
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stderr, /Good signature from/);
    assert.match(inner, /Gr=C3=BC=C3=9Fe an gpgsm/);
  });
});
