/**
 * Issue 19, the user's own certificate without a CA: an S/MIME certificate Lockbridge issues under
 * its own root and intermediate CA (the chain: smime-chain.test.ts; keys/smime.ts issue,
 * crypto/smime-issue.ts) and exported as PKCS#12 (crypto/pkcs12.ts writePkcs12) — checked by real
 * tools. `openssl x509 -text` shows the extensions an S/MIME certificate needs; `openssl verify
 * -purpose smimesign|smimeencrypt` accepts it; mail Lockbridge signs and encrypts with it
 * (smimeCopies, signer from the store) is decrypted by `openssl cms` with the key taken out of the
 * exported PKCS#12 and verified against the exported PEM; the PKCS#12 opens in `openssl pkcs12` and
 * NSS `pk12util` with its passphrase and not with a wrong one; it re-imports into another store,
 * which then reads mail encrypted to it. (The format is the one gpgsm 2.2 imports too:
 * test/integration/cli/gpgsm-imap.test.ts.)
 * For EC only smimesign is checked with `openssl verify`: OpenSSL's smimeencrypt purpose wants
 * keyEncipherment, which an EC key (ECDH, keyAgreement: RFC 5480/5753) does not assert; openssl cms
 * encrypts to and decrypts with it all the same (second test).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { smimeCopies } from '../../../app/crypto/smime-write.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { SmimeStores } from '../../helpers/crypto/smime-store.ts';
import { run, runOk } from '../../helpers/crypto/gpg.ts';

const ME = 'me@example.test';
const PASS = 'export pass 7&x "q"';
let stores: SmimeStores;

const MESSAGE = Buffer.from(
  `From: Me <${ME}>\r\nTo: Me <${ME}>\r\nSubject: issued\r\nDate: Sun, 6 Dec 2026 20:00:00 +0000\r\n` +
    'Message-ID: <issued@example.test>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
    'Signed and encrypted with a certificate Lockbridge issued.\r\n',
);

before(() => {
  stores = new SmimeStores('lb-smime-issue-');
});
after(() => {
  stores?.dispose();
});

for (const algorithm of ['rsa', 'ec'] as const) {
  test(`${algorithm}: the issued certificate has S/MIME's extensions and openssl verify accepts it for ${algorithm === 'rsa' ? 'smimesign and smimeencrypt' : 'smimesign'}`, async () => {
    const smime = await stores.open(`x509-${algorithm}`);
    const own = await smime.issue('Me@Example.test', algorithm);
    assert.deepEqual(own.emails, [ME]);
    assert.equal(own.expired, false);
    const days = (Date.parse(own.notAfter) - Date.now()) / 86_400_000;
    assert.ok(days > 700 && days <= 3 * 365, `valid ${days} days (Apple Mail takes at most three years)`);
    assert.equal(smime.list().own.length, 1);

    const pem = smime.exportPem(ME);
    assert.equal(smime.exportPem(own.fingerprint), pem);
    assert.doesNotMatch(pem, /PRIVATE KEY/);
    const certPath = stores.file(`${algorithm}.pem`, pem);
    const text = runOk('openssl', ['x509', '-in', certPath, '-noout', '-text']).toString();
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(
      text,
      algorithm === 'rsa'
        ? /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/
        : /X509v3 Key Usage: critical\s+Digital Signature, Key Agreement\n/,
    );
    assert.match(text, /X509v3 Extended Key Usage:\s+E-mail Protection\n/);
    assert.match(text, /X509v3 Subject Alternative Name:\s+email:me@example\.test\n/);
    assert.match(text, algorithm === 'rsa' ? /Public-Key: \(3072 bit\)/ : /NIST CURVE: P-256/);
    assert.match(text, algorithm === 'rsa' ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/);
    for (const purpose of algorithm === 'rsa' ? ['smimesign', 'smimeencrypt'] : ['smimesign']) {
      const r = run('openssl', [
        'verify',
        '-purpose',
        purpose,
        '-partial_chain',
        '-CAfile',
        certPath,
        certPath,
      ]);
      assert.equal(r.status, 0, `${purpose}: ${r.stdout.toString()} ${r.stderr}`);
      assert.match(r.stdout.toString(), /: OK/);
    }
    // what the sending side asks of it: it signs for the address and mail can be encrypted to it
    const signer = smime.signerFor(ME);
    assert.equal(signer?.fingerprint, own.fingerprint);
    assert.ok(signer?.self, 'it can be encrypted to (the Sent copy)');
  });

  test(`${algorithm}: mail signed and encrypted with it is decrypted by openssl cms with the key from the exported PKCS#12 and verifies against the exported PEM`, async () => {
    const smime = await stores.open(`cms-${algorithm}`);
    const own = await smime.issue(ME, algorithm);
    const certPath = stores.file(`cms-${algorithm}.pem`, smime.exportPem(ME));
    const p12 = await smime.exportPkcs12(ME, PASS);
    const p12Path = stores.file(`cms-${algorithm}.p12`, p12);
    const passFile = stores.file(`cms-${algorithm}.pass`, `${PASS}\n`);

    // openssl opens it with the passphrase (MAC and both 3DES-protected safes)...
    const info = run('openssl', ['pkcs12', '-in', p12Path, '-info', '-noout', '-passin', `file:${passFile}`]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stderr, /MAC: sha1, Iteration 20000/);
    assert.match(info.stderr, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 20000/);
    // ...and not with a wrong one
    const wrong = run('openssl', ['pkcs12', '-in', p12Path, '-noout', '-passin', 'pass:wrong']);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /mac verify failure|invalid password/i);

    const keyPem = runOk('openssl', [
      'pkcs12',
      '-in',
      p12Path,
      '-nocerts',
      '-noenc',
      '-passin',
      `file:${passFile}`,
    ]);
    const keyPath = stores.file(`cms-${algorithm}.key`, keyPem);
    const certOut = runOk('openssl', [
      'pkcs12',
      '-in',
      p12Path,
      '-nokeys',
      '-clcerts',
      '-passin',
      `file:${passFile}`,
    ]);
    const derOut = runOk('openssl', ['x509', '-outform', 'DER'], certOut);
    assert.equal(createHash('sha256').update(derOut).digest('hex').toUpperCase(), own.fingerprint);

    for (const gcm of [false, true]) {
      const signer = smime.signerFor(ME)!;
      const [msg] = smimeCopies(MESSAGE, { signer, copies: [{ recipients: [signer.self!.certDer], gcm }] });
      const inner = runOk('openssl', ['cms', '-decrypt', '-recip', certPath, '-inkey', keyPath], msg);
      const v = run('openssl', ['cms', '-verify', '-CAfile', certPath, '-purpose', 'smimesign'], inner);
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stderr, /Verification successful/);
      assert.match(v.stdout.toString(), /Signed and encrypted with a certificate Lockbridge issued\./);
    }
  });
}

test("the exported PKCS#12 imports into another Lockbridge store and NSS (pk12util, Thunderbird's store); a wrong passphrase imports nothing", async () => {
  const a = await stores.open('export-a');
  const own = await a.issue(ME, 'rsa');
  const p12 = await a.exportPkcs12(own.fingerprint, PASS);
  await assert.rejects(a.exportPkcs12(ME, ''), { code: 'passphrase-required' });
  await assert.rejects(a.exportPkcs12('nobody@example.test', PASS), { code: 'not-found' });

  const b = await stores.open('export-b');
  await assert.rejects(b.importFile(p12, { passphrase: 'wrong' }), { code: 'bad-passphrase' });
  assert.equal(b.list().own.length, 0);
  const imported = await b.importFile(p12, { passphrase: PASS });
  assert.deepEqual(
    imported.own.map((o) => o.fingerprint),
    [own.fingerprint],
  );
  // b reads what a encrypted to the certificate, and the signature is a's
  const signer = a.signerFor(ME)!;
  const [msg] = smimeCopies(MESSAGE, { signer, copies: [{ recipients: [signer.self!.certDer], gcm: true }] });
  const read = await decryptMessage(msg!, { decryptionKeys: [], smime: b.material(ME) });
  assert.equal(read.status, 'encrypted');
  assert.equal(read.form, 'smime-auth-enveloped');
  assert.match(read.mime.toString('utf8'), /Lockbridge issued/);
  assert.equal(read.signature, 'valid');
  assert.equal(read.signerFingerprint, own.fingerprint);

  // NSS, Thunderbird's certificate store
  const p12Path = stores.file('export.p12', p12);
  const nss = mkdtempSync(join(stores.dir, 'nss-'));
  runOk('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
  assert.notEqual(run('pk12util', ['-i', p12Path, '-d', `sql:${nss}`, '-W', 'wrong', '-K', '']).status, 0);
  runOk('pk12util', ['-i', p12Path, '-d', `sql:${nss}`, '-W', PASS, '-K', '']);
  assert.match(runOk('certutil', ['-L', '-d', `sql:${nss}`]).toString(), /me@example\.test/);
  assert.match(runOk('certutil', ['-K', '-d', `sql:${nss}`]).toString(), /rsa/i);
});
