/**
 * Issue 19, outbound S/MIME (app/crypto/smime-write.ts) checked by real tools: what we sign and
 * encrypt — sign-then-encrypt, authEnveloped-data AES-256-GCM or enveloped-data AES-256-CBC, to RSA
 * (key transport) and EC P-256 (ECDH) certificates made by `openssl` in the test, signed by RSA
 * (PKCS#1 v1.5), RSA-PSS and ECDSA certificates — is decrypted by `openssl cms -decrypt` and
 * `gpgsm --decrypt` and its signature verified by `openssl cms -verify` and `gpgsm --verify`; and
 * it reads back through our own inbound reader (decryptMessage) as encrypted and validly signed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey } from 'node:crypto';
import { smimeCopies, type SmimeSigner } from '../../../app/crypto/smime-write.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { createWorkerPool } from '../../../app/crypto/worker-pool.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';
import { GpgsmHome } from '../../helpers/crypto/gpgsm.ts';
import { run } from '../../helpers/crypto/gpg.ts';

const ME = 'me@example.test';
let ca: OpensslCa;
let meRsa: OsslUser;
let meEc: OsslUser;
let mePss: OsslUser;
let bob: OsslUser; // RSA recipient
let carol: OsslUser; // EC P-256 recipient
let g: GpgsmHome;
let ginaCert: Buffer; // gpgsm's own RSA certificate (its key lives in gpgsm)

const MESSAGE = Buffer.from(
  `From: Me <${ME}>\r\nTo: bob@example.test, carol@example.test\r\nBcc: hidden@example.test\r\n` +
    'Subject: S/MIME out\r\nDate: Sun, 6 Dec 2026 16:00:00 +0000\r\nMessage-ID: <smime-out@example.test>\r\n' +
    'X-Lockbridge-Local: no\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
    'Grüße, signed then encrypted.\r\n',
);

function signer(u: OsslUser): SmimeSigner {
  const key = createPrivateKey(readFileSync(u.keyPath)).export({ format: 'der', type: 'pkcs8' });
  return { certificate: u.certDer, privateKey: new Uint8Array(key) };
}

const fpr = (der: Uint8Array) => createHash('sha256').update(der).digest('hex').toUpperCase();

before(() => {
  ca = new OpensslCa();
  meRsa = ca.user(ME, 'rsa');
  meEc = ca.user(ME, 'ec');
  mePss = ca.user(ME, 'rsa-pss');
  bob = ca.user('bob@example.test', 'rsa');
  carol = ca.user('carol@example.test', 'ec');
  g = new GpgsmHome();
  ginaCert = g.genSelfSigned('gina@example.test');
  g.import(ca.caPem);
  g.trust(ca.must('openssl', ['x509', '-in', ca.path('ca.pem'), '-outform', 'DER']));
});

after(() => {
  g.dispose();
  ca.dispose();
});

function opensslDecrypt(msg: Buffer, u: OsslUser): Buffer {
  return ca.must('openssl', ['cms', '-decrypt', '-recip', u.certPath, '-inkey', u.keyPath], msg);
}

function opensslVerify(signed: Buffer): string {
  const r = run('openssl', ['cms', '-verify', '-CAfile', ca.path('ca.pem')], signed);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Verification successful/);
  return r.stdout.toString('utf8');
}

/** The outer header value of a whole message (unfolded). */
function header(msg: Buffer, name: string): string | undefined {
  const head = msg
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]/g, ' ');
  return head
    .split('\r\n')
    .find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))
    ?.slice(name.length + 1)
    .trim();
}

/** The two parts of a multipart/signed entity: the signed bytes and the DER signature. */
function signedParts(entity: Buffer): { content: Buffer; signature: Buffer } {
  const text = entity.toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
  const parts = text.split(`\r\n--${boundary}`);
  // parts[0] = headers + preamble up to the first delimiter line
  const first = text.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const content = text.slice(first, text.indexOf(`\r\n--${boundary}`, first));
  const sigPart = parts[2]!.replace(/^\r\n/, '');
  const b64 = sigPart.slice(sigPart.indexOf('\r\n\r\n') + 4);
  return { content: Buffer.from(content, 'latin1'), signature: Buffer.from(b64, 'base64') };
}

for (const [label, who, gcm] of [
  ['RSA signer, AES-256-CBC enveloped-data', () => meRsa, false],
  ['ECDSA signer, AES-256-GCM authEnveloped-data', () => meEc, true],
  ['RSA-PSS signer, AES-256-GCM authEnveloped-data', () => mePss, true],
] as const) {
  test(`${label} to an RSA and an EC recipient: openssl cms decrypts and verifies it for each`, () => {
    const [msg] = smimeCopies(MESSAGE, {
      signer: signer(who()),
      copies: [{ recipients: [bob.certDer, carol.certDer], gcm }],
    });
    assert.ok(msg);
    const ct = header(msg, 'Content-Type')!;
    assert.match(
      ct,
      new RegExp(`application/pkcs7-mime; smime-type=${gcm ? 'authEnveloped' : 'enveloped'}-data`),
    );
    assert.equal(header(msg, 'Subject'), 'S/MIME out');
    assert.equal(header(msg, 'Bcc'), undefined, 'no Bcc on a copy');
    assert.equal(header(msg, 'X-Lockbridge-Local'), undefined, 'local-only fields stay home');
    const printed = ca.must('openssl', ['cms', '-cmsout', '-print'], msg).toString();
    assert.match(printed, gcm ? /aes-256-gcm/ : /aes-256-cbc/);
    assert.match(printed, /rsaEncryption/); // bob: RSA key transport
    assert.match(printed, /dhSinglePass-stdDH-sha256kdf-scheme/); // carol: ECDH (RFC 5753)
    for (const u of [bob, carol]) {
      const inner = opensslDecrypt(msg, u);
      assert.match(inner.toString(), /multipart\/signed; protocol="application\/pkcs7-signature";/);
      assert.match(inner.toString(), /micalg=sha-256/);
      const content = opensslVerify(inner);
      assert.match(content, /Gr=C3=BC=C3=9Fe, signed then encrypted\./);
      // the signed attributes: SHA-256, and SMIMECapabilities announcing AES-256-GCM then AES-256-CBC
      const p7s = signedParts(inner).signature;
      const sig = ca.must('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER'], p7s).toString();
      assert.match(sig, /digestAlgorithm:\s+algorithm: sha256/);
      assert.match(sig, /signingTime/);
      assert.match(sig, /S\/MIME Capabilities[\s\S]*aes-256-gcm[\s\S]*aes-256-cbc/);
      const expected = { rsa: /rsaEncryption/, ec: /ecdsa-with-SHA256/, 'rsa-pss': /rsassaPss/ }[who().kind];
      assert.match(sig.slice(sig.indexOf('signatureAlgorithm')), expected);
    }
  });
}

test('one signature, a copy per recipient set: each copy names only its own recipients', () => {
  const [visible, bcc] = smimeCopies(MESSAGE, {
    signer: signer(meRsa),
    copies: [
      { recipients: [bob.certDer, meRsa.certDer], gcm: false },
      { recipients: [carol.certDer, meRsa.certDer], gcm: true },
    ],
  });
  assert.ok(visible && bcc);
  opensslVerify(opensslDecrypt(visible, bob));
  opensslVerify(opensslDecrypt(visible, meRsa)); // the Sent copy: the user reads it too
  opensslVerify(opensslDecrypt(bcc, carol));
  assert.notEqual(
    run('openssl', ['cms', '-decrypt', '-recip', carol.certPath, '-inkey', carol.keyPath], visible).status,
    0,
  );
  assert.notEqual(
    run('openssl', ['cms', '-decrypt', '-recip', bob.certPath, '-inkey', bob.keyPath], bcc).status,
    0,
  );
});

test('gpgsm (GnuPG 2.2) decrypts an AES-256-CBC copy to its RSA certificate and verifies RSA and ECDSA signatures', () => {
  for (const who of [meRsa, meEc]) {
    const [msg] = smimeCopies(MESSAGE, {
      signer: signer(who),
      copies: [{ recipients: [new Uint8Array(ginaCert)], gcm: false }],
    });
    const text = msg!.toString('latin1');
    const b64 = text.slice(text.indexOf('\r\n\r\n') + 4);
    const inner = g.over(['--decrypt'], Buffer.from(b64, 'base64'));
    assert.match(inner.toString(), /multipart\/signed/);
    const { content, signature } = signedParts(inner);
    const sigFile = `${g.dir}/sig-${who.kind}.p7s`;
    writeFileSync(sigFile, signature);
    const dataFile = `${g.dir}/data-${who.kind}`;
    writeFileSync(dataFile, content);
    const r = run(
      'gpgsm',
      [
        '--homedir',
        g.dir,
        '--batch',
        '--disable-crl-checks',
        '--disable-policy-checks',
        '--verify',
        sigFile,
        dataFile,
      ],
      undefined,
      { GNUPGHOME: g.dir },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Good signature from/);
  }
});

test('our own inbound reader: decrypted, validly signed by the sender certificate, AES-GCM authenticated', async () => {
  for (const gcm of [false, true]) {
    const [msg] = smimeCopies(MESSAGE, {
      signer: signer(meEc),
      copies: [{ recipients: [carol.certDer], gcm }],
    });
    const r = await decryptMessage(msg!, {
      decryptionKeys: [],
      smime: {
        identities: [signer(carol)],
        trustAnchors: [ca.must('openssl', ['x509', '-in', ca.path('ca.pem'), '-outform', 'DER'])],
      },
    });
    assert.equal(r.status, 'encrypted');
    assert.equal(r.signature, 'valid');
    assert.equal(r.standard, 'smime');
    assert.equal(r.form, gcm ? 'smime-auth-enveloped' : 'smime-enveloped');
    assert.equal(r.signerFingerprint, fpr(meEc.certDer));
    assert.equal(r.smime?.trust, 'ca');
    assert.equal(r.smime?.cipher, gcm ? 'aes-256-gcm' : 'aes-256-cbc');
    // what we announce is what the reader learns (it decides GCM for mail back to us)
    assert.deepEqual(r.smime?.capabilities?.slice(0, 2), [
      '2.16.840.1.101.3.4.1.46',
      '2.16.840.1.101.3.4.1.42',
    ]);
    assert.ok(r.mime.toString('utf8').includes('Gr=C3=BC=C3=9Fe'));
  }
});

test('a 10 MB message on the crypto worker pool: the event loop keeps turning, openssl reads the result', async () => {
  const body = Buffer.alloc(7_500_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 131 + (i >> 10)) & 0xff;
  const raw = Buffer.concat([
    Buffer.from(
      `From: ${ME}\r\nTo: bob@example.test\r\nSubject: big\r\nContent-Type: application/octet-stream\r\n` +
        'Content-Transfer-Encoding: base64\r\n\r\n',
    ),
    Buffer.from(body.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n'),
  ]);
  const pool = createWorkerPool({ size: 1 });
  try {
    const m = await measureLoop(() =>
      pool.smimeCopies(raw, {
        signer: signer(meRsa),
        copies: [
          { recipients: [bob.certDer, meRsa.certDer], gcm: false },
          { recipients: [carol.certDer, meRsa.certDer], gcm: true },
        ],
      }),
    );
    assertLoop(m, '10 MB S/MIME on the pool');
    const [cbc, gcm] = m.value;
    const inner = opensslDecrypt(gcm!, carol);
    assert.match(opensslVerify(inner), /Content-Type: application\/octet-stream/);
    assert.equal(opensslDecrypt(cbc!, bob).length, inner.length);
  } finally {
    await pool.close();
  }
});
