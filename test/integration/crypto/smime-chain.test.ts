/**
 * Issue 19, certificates issued the way mail relays issue them (keys/smime.ts issue,
 * crypto/smime-issue.ts): a root CA and an intermediate CA of the installation, made on the first
 * issue and reused for the user's other addresses, and a user certificate per address signed by
 * the intermediate — checked with real tools. `openssl x509 -text` shows the CA's basic
 * constraints and key usage; `openssl verify -CAfile root -untrusted intermediate user` passes for
 * S/MIME signing; the exported PEM is the chain and the PKCS#12 carries it (openssl pkcs12, NSS
 * pk12util/certutil); `openssl cms -sign` with the exported key and chain verifies against the root
 * alone, and so does mail Lockbridge signs; Lockbridge trusts its own root for that mail (trust
 * 'ca', not first contact). Issued certificates are listed as 'issued'.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { certificatesIn } from '../../../app/keys/smime.ts';
import { smimeCopies } from '../../../app/crypto/smime-write.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { SmimeStores } from '../../helpers/crypto/smime-store.ts';
import { run, runOk } from '../../helpers/crypto/gpg.ts';

const ME = 'me@example.test';
const ALT = 'me.too@example.test';
const PASS = 'chain pass 9$';
let stores: SmimeStores;

before(() => {
  stores = new SmimeStores('lb-smime-chain-');
});
after(() => {
  stores?.dispose();
});

const pemOf = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
const fpr = (der: Uint8Array) => createHash('sha256').update(der).digest('hex').toUpperCase();

const message = (from: string) =>
  Buffer.from(
    `From: Me <${from}>\r\nTo: Me <${from}>\r\nSubject: chain\r\nDate: Sun, 6 Dec 2026 20:00:00 +0000\r\n` +
      'Message-ID: <chain@example.test>\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n\r\nSigned under the Lockbridge root.\r\n',
  );

test('a root and an intermediate CA with the right constraints, reused for a second address; the user certificates are signed by the intermediate and openssl verify accepts them against the root', async () => {
  const smime = await stores.open('chain');
  const a = await smime.issue(ME, 'rsa');
  const b = await smime.issue(ALT, 'ec');
  assert.equal(a.source, 'issued');
  assert.equal(b.source, 'issued');
  assert.deepEqual(
    smime.list().own.map((o) => [o.emails[0], o.source]),
    [
      [ME, 'issued'],
      [ALT, 'issued'],
    ],
  );
  // one root (trusted: Lockbridge trusts its own root) and one intermediate, shared by both
  const cas = smime.list().certificates;
  assert.equal(cas.length, 2, JSON.stringify(cas));
  assert.ok(cas.every((c) => c.isCa && c.source === 'own-chain'));
  const root = cas.find((c) => c.subject.startsWith('Lockbridge Root CA'))!;
  const inter = cas.find((c) => c.subject.startsWith('Lockbridge Intermediate CA'))!;
  assert.equal(root.trusted, true);
  assert.equal(inter.trusted, false);
  assert.equal(a.issuer, inter.subject);
  assert.equal(b.issuer, inter.subject);
  assert.equal(inter.issuer, root.subject);

  for (const [addr, own] of [
    [ME, a],
    [ALT, b],
  ] as const) {
    // the PEM export is the chain: user, intermediate, root
    const chain = certificatesIn(smime.exportPem(addr));
    assert.deepEqual(chain.map(fpr), [own.fingerprint, inter.fingerprint, root.fingerprint]);
    const [userP, interP, rootP] = chain.map((c, i) => stores.file(`${addr}-${i}.pem`, pemOf(c)));
    const days = (Date.parse(own.notAfter) - Date.now()) / 86_400_000;
    assert.ok(days > 700 && days <= 3 * 365, `valid ${days} days (Apple Mail takes at most three years)`);

    const rootText = runOk('openssl', ['x509', '-in', rootP!, '-noout', '-text']).toString();
    assert.match(rootText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    assert.match(rootText, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.match(rootText, /X509v3 Subject Key Identifier/);
    const interText = runOk('openssl', ['x509', '-in', interP!, '-noout', '-text']).toString();
    assert.match(interText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(interText, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.match(interText, /X509v3 Authority Key Identifier/);
    const userText = runOk('openssl', ['x509', '-in', userP!, '-noout', '-text']).toString();
    assert.match(userText, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(userText, /Issuer: CN = Lockbridge Intermediate CA/);
    assert.match(userText, /X509v3 Authority Key Identifier/);
    assert.match(userText, /X509v3 Extended Key Usage:\s+E-mail Protection\n/);

    const v = runOk('openssl', [
      'verify',
      '-purpose',
      'smimesign',
      '-CAfile',
      rootP!,
      '-untrusted',
      interP!,
      userP!,
    ]).toString();
    assert.match(v, /: OK/);
    // the user certificate alone does not verify: it is not self-signed any more
    assert.notEqual(run('openssl', ['verify', '-CAfile', rootP!, userP!]).status, 0);
  }
});

test('the PKCS#12 carries the chain (openssl pkcs12, NSS pk12util); openssl cms -sign with it verifies against the root, as does mail Lockbridge signs — and Lockbridge trusts both through its own root', async () => {
  const smime = await stores.open('p12');
  const own = await smime.issue(ME, 'rsa');
  const p12 = await smime.exportPkcs12(ME, PASS);
  const p12Path = stores.file('chain.p12', p12);
  const passFile = stores.file('chain.pass', `${PASS}\n`);
  const chain = certificatesIn(smime.exportPem(ME));
  const rootP = stores.file('p12-root.pem', pemOf(chain[2]!));

  const certsOut = runOk('openssl', ['pkcs12', '-in', p12Path, '-nokeys', '-passin', `file:${passFile}`]);
  assert.deepEqual(certificatesIn(certsOut.toString()).map(fpr).sort(), chain.map(fpr).sort());
  const keyP = stores.file(
    'p12.key',
    runOk('openssl', ['pkcs12', '-in', p12Path, '-nocerts', '-noenc', '-passin', `file:${passFile}`]),
  );
  const userP = stores.file('p12-user.pem', pemOf(chain[0]!));
  const interP = stores.file('p12-inter.pem', pemOf(chain[1]!));

  // NSS (Thunderbird's store) takes the key and all three certificates
  const nss = mkdtempSync(join(stores.dir, 'nss-'));
  runOk('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
  runOk('pk12util', ['-i', p12Path, '-d', `sql:${nss}`, '-W', PASS, '-K', '']);
  const listed = runOk('certutil', ['-L', '-d', `sql:${nss}`]).toString();
  assert.match(listed, /me@example\.test/);
  assert.match(listed, /Lockbridge Intermediate CA/);
  assert.match(listed, /Lockbridge Root CA/);

  // openssl signs with the exported key and chain; it verifies against the root alone
  const body = 'Content-Type: text/plain\r\n\r\nSigned by openssl with the issued key.\r\n';
  const bodyP = stores.file('body.txt', body);
  const signed = runOk('openssl', [
    'cms',
    '-sign',
    '-in',
    bodyP,
    '-signer',
    userP,
    '-inkey',
    keyP,
    '-certfile',
    interP,
    '-md',
    'sha256',
  ]);
  const v = run('openssl', ['cms', '-verify', '-CAfile', rootP, '-purpose', 'smimesign'], signed);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /Verification successful/);

  // Lockbridge reads it: valid, trusted through its own root (not first contact)
  const mail = Buffer.concat([
    Buffer.from(`From: Me <${ME}>\r\nTo: Me <${ME}>\r\nSubject: openssl signed\r\n`),
    signed,
  ]);
  const read = await decryptMessage(mail, { decryptionKeys: [], smime: smime.material(ME) });
  assert.equal(read.signature, 'valid', read.reason);
  assert.equal(read.signerFingerprint, own.fingerprint);
  assert.equal(read.smime?.trust, 'ca');

  // mail Lockbridge signs carries the intermediate: openssl verifies it against the root alone
  const signer = smime.signerFor(ME)!;
  assert.equal(signer.chain?.length, 2);
  const [msg] = smimeCopies(message(ME), {
    signer,
    copies: [{ recipients: [signer.self!.certDer], gcm: false }],
  });
  const inner = runOk('openssl', ['cms', '-decrypt', '-recip', userP, '-inkey', keyP], msg);
  const v2 = run('openssl', ['cms', '-verify', '-CAfile', rootP, '-purpose', 'smimesign'], inner);
  assert.equal(v2.status, 0, v2.stderr);
  const ours = await decryptMessage(msg!, { decryptionKeys: [], smime: smime.material(ME) });
  assert.equal(ours.signature, 'valid');
  assert.equal(ours.smime?.trust, 'ca');
});
