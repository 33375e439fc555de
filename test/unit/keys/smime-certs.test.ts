/**
 * Issue 19 step 1: S/MIME certificates in the encrypted store. The user's certificate and private
 * key come from a PKCS#12 file made by `openssl pkcs12 -export` (OpenSSL 3 defaults: PBES2 with
 * AES-256-CBC, SHA-256 MAC); a wrong passphrase imports nothing; the identity, its chain and
 * correspondents' certificates survive closing and reopening the store; certificates are filed by
 * the addresses they name and trust anchors are the ones the user trusts, plus (by default) the
 * Mozilla roots Node carries.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { Store } from '../../../app/store/store.ts';
import { SmimeCertificates } from '../../../app/keys/smime.ts';
import { canEncryptTo, certFacts } from '../../../app/crypto/smime.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';
import { newStore, reopen, tempDir } from '../store/helpers.ts';

let dir: ReturnType<typeof tempDir>;
let ca: OpensslCa;
let me: OsslUser;
let meEc: OsslUser;
let bob: OsslUser;

const fpr = (der: Uint8Array) => createHash('sha256').update(der).digest('hex').toUpperCase();
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');

before(() => {
  dir = tempDir('lb-smime-store-');
  ca = new OpensslCa();
  me = ca.user('me@example.test', 'rsa');
  meEc = ca.user('me@example.test', 'ec');
  bob = ca.user('bob@example.test', 'ec');
});
after(() => {
  ca.dispose();
  dir.cleanup();
});

test('PKCS#12 import (RSA and EC), certificates by address and trust; all of it kept in the encrypted store', async () => {
  let store: Store = await newStore(dir.dir);
  const smime = new SmimeCertificates({ repo: store.smime, systemRoots: false });

  await assert.rejects(smime.importPkcs12(ca.pkcs12(me, 'right'), 'wrong'), { code: 'bad-passphrase' });
  await assert.rejects(smime.importPkcs12(Buffer.from('not a p12'), 'x'), { code: 'malformed' });
  assert.equal(smime.identities().length, 0);

  const rsa = await smime.importPkcs12(ca.pkcs12(me, 'right'), 'right');
  assert.equal(rsa.fingerprint, fpr(me.certDer));
  assert.deepEqual(rsa.emails, ['me@example.test']);
  assert.equal(rsa.chain, 1); // the CA came along
  const ec = await smime.importPkcs12(ca.pkcs12(meEc, 'ec pass'), 'ec pass');
  assert.equal(ec.fingerprint, fpr(meEc.certDer));

  // the chain's CA is held but not trusted until the user says so
  const caDer = derOf(ca.caPem);
  const caFpr = fpr(caDer);
  assert.equal(certFacts(caDer).fingerprint, caFpr);
  assert.equal(smime.material(null).trustAnchors!.length, 0);
  const [imported] = smime.importCertificates(ca.caPem, { trusted: true });
  assert.equal(imported!.fingerprint, caFpr);
  assert.equal(imported!.isCa, true);
  assert.equal(smime.material(null).trustAnchors!.length, 1);

  // a correspondent's certificate, learnt for the address it names only
  assert.equal(smime.learn('carol@example.test', bob.certDer.toString('base64')), false);
  assert.equal(smime.learn('Bob@Example.test', bob.certDer.toString('base64')), true);
  const forBob = smime.material('bob@example.test');
  assert.equal(forBob.knownCertificates!.length, 1);
  assert.equal(forBob.firstContact, false);
  assert.equal(forBob.identities.length, 2);
  assert.equal(smime.material('carol@example.test').firstContact, true);
  store.close();

  // reopened: identities with their keys, the CA (trusted) and bob's certificate are all there
  store = await reopen(dir.dir);
  const again = new SmimeCertificates({ repo: store.smime, systemRoots: false });
  const ids = again.identities();
  assert.deepEqual(ids.map((i) => i.fingerprint).sort(), [fpr(me.certDer), fpr(meEc.certDer)].sort());
  assert.ok(ids.every((i) => i.keyPkcs8.length > 0));
  const list = again.list();
  assert.equal(list.own.length, 2);
  assert.deepEqual(
    list.certificates.map((c) => [c.fingerprint, c.trusted, c.source]).sort(),
    [
      [caFpr, true, 'own-chain'],
      [fpr(bob.certDer), false, 'learned'],
    ].sort(),
  );
  again.setTrusted(caFpr, false);
  assert.equal(again.material(null).trustAnchors!.length, 0);
  assert.throws(() => again.setTrusted('00', true), { code: 'not-found' });

  // the trust store by default: the certificates the user trusts plus the Mozilla roots Node carries
  again.setTrusted(caFpr, true);
  const mozilla = rootCertificates.map((p) => fpr(derOf(p)));
  assert.ok(mozilla.length > 100);
  const anchors = new SmimeCertificates({ repo: store.smime })
    .material('bob@example.test')
    .trustAnchors!.map((d) => fpr(d));
  assert.deepEqual(anchors.sort(), [caFpr, ...mozilla].sort());
  assert.deepEqual(
    again.material('bob@example.test').trustAnchors!.map((d) => fpr(d)),
    [caFpr],
    'systemRoots: false',
  );
  store.close();
});

test('outgoing (issue 19): which certificate mail to an address is encrypted to, and the own signer', async () => {
  const outDir = tempDir('lb-smime-out-');
  const store = await newStore(outDir.dir);
  try {
    const smime = new SmimeCertificates({ repo: store.smime, systemRoots: false });
    assert.equal(smime.signerFor('me@example.test'), null, 'no own certificate yet');
    await smime.importPkcs12(ca.pkcs12(me, 'pw'), 'pw');
    const own = smime.signerFor('ME@example.test')!;
    assert.equal(own.fingerprint, fpr(me.certDer));
    assert.equal(own.chain!.length, 1, 'the CA from the PKCS#12 goes along');
    assert.equal(own.self?.fingerprint, fpr(me.certDer), 'the Sent copy is encrypted to it too');
    assert.equal((await smime.recipientCertificate('me@example.test'))?.fingerprint, fpr(me.certDer));

    const expired = ca.user('old@example.test', 'rsa', { start: '20200101000000Z', end: '20210101000000Z' });
    const signOnly = ca.user('pss@example.test', 'rsa-pss');
    for (const u of [expired, signOnly]) smime.importCertificates(u.certPem);
    assert.equal(await smime.recipientCertificate('old@example.test'), null, 'expired');
    assert.equal(await smime.recipientCertificate('pss@example.test'), null, 'an RSA-PSS key cannot encrypt');
    assert.equal(await smime.recipientCertificate('nobody@example.test'), null);
    smime.importCertificates(ca.caPem, { trusted: true });
    const caDer = derOf(ca.caPem);
    assert.equal(canEncryptTo(caDer), false, 'a CA (keyCertSign, cRLSign) is not encrypted to');
    assert.equal(canEncryptTo(bob.certDer), true);

    // learnt with the capabilities the signer announced: GCM only when AES-256-GCM is among them
    smime.learn('bob@example.test', bob.certDer.toString('base64'), ['2.16.840.1.101.3.4.1.42']);
    assert.deepEqual(await smime.recipientCertificate('bob@example.test'), {
      fingerprint: fpr(bob.certDer),
      certDer: new Uint8Array(bob.certDer),
      gcm: false,
    });
    smime.learn('bob@example.test', bob.certDer.toString('base64'), [
      '2.16.840.1.101.3.4.1.46',
      '2.16.840.1.101.3.4.1.42',
    ]);
    assert.equal((await smime.recipientCertificate('bob@example.test'))?.gcm, true);
    // a later signed message without the attribute keeps what was learnt
    smime.learn('bob@example.test', bob.certDer.toString('base64'));
    assert.equal((await smime.recipientCertificate('bob@example.test'))?.gcm, true);
  } finally {
    store.close();
    outDir.cleanup();
  }
});

test('a certificate from the S/MIME directory is checked like a held one before it is kept and used', async () => {
  const dirDir = tempDir('lb-smime-dir-');
  const store = await newStore(dirDir.dir);
  try {
    const smime = new SmimeCertificates({ repo: store.smime, systemRoots: false });
    const caDer = derOf(ca.caPem);
    const other = ca.user('someone-else@example.test', 'rsa');
    const expired = ca.user('dora@example.test', 'rsa', { start: '20200101000000Z', end: '20210101000000Z' });
    const signOnly = ca.user('dora@example.test', 'rsa-pss');
    const revoked = ca.user('dora@example.test', 'rsa');
    const good = ca.user('dora@example.test', 'ec');
    ca.revoke(revoked);
    await smime.importFile(Buffer.from(ca.crl()));
    smime.importCertificates(ca.caPem);

    const none = await smime.fromDirectory('DORA@example.test', [
      other.certDer,
      expired.certDer,
      signOnly.certDer,
      revoked.certDer,
      caDer,
      new Uint8Array([1, 2, 3]),
    ]);
    assert.equal(none.certificate, null);
    assert.deepEqual(
      none.rejected.map((r) => r.replace(/^[0-9A-F]{16}: /, '')),
      [
        'it names someone-else@example.test, not dora@example.test',
        `expired on ${new Date(certFacts(expired.certDer).notAfter).toISOString()}`,
        'it cannot be encrypted to',
        'revoked',
        'it names no address, not dora@example.test',
        'not an X.509 certificate',
      ],
    );
    assert.equal(await smime.recipientCertificate('dora@example.test'), null, 'nothing kept for dora');

    const found = await smime.fromDirectory('dora@example.test', [expired.certDer, good.certDer]);
    assert.equal(found.certificate?.fingerprint, fpr(good.certDer));
    assert.equal(found.certificate?.gcm, false, 'capabilities unknown: AES-CBC');
    const kept = smime.list().certificates.filter((c) => c.emails.includes('dora@example.test'));
    assert.deepEqual(
      kept.map((c) => [c.fingerprint, c.source]),
      [[fpr(good.certDer), 'directory']],
    );
    assert.equal((await smime.recipientCertificate('dora@example.test'))?.fingerprint, fpr(good.certDer));
  } finally {
    store.close();
    dirDir.cleanup();
  }
});
