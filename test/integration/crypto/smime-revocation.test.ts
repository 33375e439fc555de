/**
 * Issue 19, revocation where the data is at hand: a signer certificate revoked by a CRL that
 * `openssl ca -revoke` / `openssl ca -gencrl` made — carried in the message's SignedData (crls
 * field) or imported by the user (keys/smime.ts importFile) — makes the signature `invalid` with
 * `revoked=DATE` in X-Lockbridge-Signature. A CRL whose signature is not the issuer's (another CA
 * of the same name made it) revokes nothing; a certificate the CRL does not list stays valid.
 * (`openssl cms -sign` cannot embed a CRL: the test adds openssl's CRL to openssl's signed-data
 * with pkijs; the CRL sits outside the signed attributes, so the signature stays intact.) And a
 * held certificate an imported CRL revokes is not encrypted to (recipientCertificate).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { SmimeCertificates } from '../../../app/keys/smime.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { statusHeaders } from '../../../app/crypto/served-message.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';
import { SmimeStores } from '../../helpers/crypto/smime-store.ts';

let ca: OpensslCa;
let forger: OpensslCa; // another CA with the same name
let bob: OsslUser; // revoked
let carol: OsslUser; // not revoked
let crlDer: Buffer;
let forgedCrlDer: Buffer;
let stores: SmimeStores;

before(() => {
  stores = new SmimeStores('lb-smime-crl-');
  ca = new OpensslCa();
  forger = new OpensslCa();
  bob = ca.user('bob@example.test', 'rsa');
  carol = ca.user('carol@example.test', 'ec');
  ca.revoke(bob);
  crlDer = ca.must('openssl', ['crl', '-outform', 'DER'], ca.crl());
  // the forger's CA revokes a certificate of its own with bob's serial: a CRL in the same name
  const twin = forger.user('bob@example.test', 'rsa');
  forger.revoke(twin);
  forgedCrlDer = forger.must('openssl', ['crl', '-outform', 'DER'], forger.crl());
  assert.equal(
    ca.must('openssl', ['x509', '-noout', '-serial'], bob.certPem).toString(),
    forger.must('openssl', ['x509', '-noout', '-serial'], twin.certPem).toString(),
    'the forged CRL names bob serial',
  );
});
after(() => {
  ca?.dispose();
  forger?.dispose();
  stores?.dispose();
});

async function newSmime(name: string): Promise<SmimeCertificates> {
  const smime = await stores.open(name);
  smime.importCertificates(ca.caPem, { trusted: true });
  return smime;
}

const fpr = (u: OsslUser) => createHash('sha256').update(u.certDer).digest('hex').toUpperCase();

/** Opaque signed-data made by openssl cms, as DER; with `crls` added to its crls field (pkijs). */
function signedBy(u: OsslUser, body: string, crls: Buffer[] = []): Buffer {
  const der = ca.must(
    'openssl',
    ['cms', '-sign', '-nodetach', '-binary', '-outform', 'DER', '-signer', u.certPath, '-inkey', u.keyPath],
    `Content-Type: text/plain\r\n\r\n${body}\r\n`,
  );
  if (!crls.length) return der;
  const info = new pkijs.ContentInfo({ schema: asn1js.fromBER(der).result });
  const sd = new pkijs.SignedData({ schema: info.content });
  sd.crls = crls.map((c) => pkijs.CertificateRevocationList.fromBER(c));
  return Buffer.from(
    new pkijs.ContentInfo({ contentType: info.contentType, content: sd.toSchema(true) }).toSchema().toBER(),
  );
}

function mail(from: string, der: Buffer): Buffer {
  return Buffer.from(
    `From: <${from}>\r\nTo: me@example.test\r\nSubject: crl\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n' +
      `Content-Transfer-Encoding: base64\r\n\r\n${der.toString('base64').replace(/(.{76})/g, '$1\r\n')}\r\n`,
  );
}

async function signatureHeader(smime: SmimeCertificates, from: string, der: Buffer): Promise<string> {
  const r = await decryptMessage(mail(from, der), { decryptionKeys: [], smime: smime.material(from) });
  const line = statusHeaders(r)
    .split('\r\n')
    .find((l) => l.startsWith('X-Lockbridge-Signature: '));
  return line!.slice('X-Lockbridge-Signature: '.length);
}

/** bob's revocation date as `openssl crl -text` shows it, YYYY-MM-DD (UTC). */
const today = () => {
  const text = ca.must('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], crlDer).toString();
  const at = /Revocation Date: (.+)/.exec(text)![1]!.trim();
  return new Date(at).toISOString().slice(0, 10);
};

test('a CRL carried in the signed-data revokes the signer: invalid; revoked=DATE (without it: valid, trust=ca)', async () => {
  const smime = await newSmime('embedded');
  assert.match(
    await signatureHeader(smime, bob.email, signedBy(bob, 'no CRL')),
    new RegExp(`^valid; signer=${fpr(bob)}; trust=ca; expires=`),
  );
  assert.match(
    await signatureHeader(smime, bob.email, signedBy(bob, 'with the CRL', [crlDer])),
    new RegExp(`^invalid; signer=${fpr(bob)}; revoked=${today()}; expires=`),
  );
  // carol is not on the CRL
  assert.match(
    await signatureHeader(smime, carol.email, signedBy(carol, 'carol with the CRL', [crlDer])),
    new RegExp(`^valid; signer=${fpr(carol)}; trust=ca; `),
  );
});

test('a CRL in the same name that the issuer did not sign revokes nothing', async () => {
  const smime = await newSmime('forged');
  assert.match(
    await signatureHeader(smime, bob.email, signedBy(bob, 'forged CRL', [forgedCrlDer])),
    new RegExp(`^valid; signer=${fpr(bob)}; trust=ca; `),
  );
  const imported = await smime.importFile(forgedCrlDer);
  assert.equal(imported.crls?.length, 1);
  assert.match(
    await signatureHeader(smime, bob.email, signedBy(bob, 'forged CRL imported')),
    new RegExp(`^valid; signer=${fpr(bob)}; `),
  );
});

test('a CRL the user imported (PEM) revokes the signer of mail that carries none', async () => {
  const smime = await newSmime('imported');
  const before = signedBy(bob, 'before the import');
  assert.match(await signatureHeader(smime, bob.email, before), /^valid; /);
  const r = await smime.importFile(new Uint8Array(Buffer.from(ca.crl())));
  assert.deepEqual(
    r.crls?.map((c) => ({ issuer: c.issuer, revoked: c.revoked })),
    [{ issuer: 'Lockbridge Test CA', revoked: 1 }],
  );
  assert.match(
    await signatureHeader(smime, bob.email, before),
    new RegExp(`^invalid; signer=${fpr(bob)}; revoked=${today()}; expires=`),
  );
  assert.match(await signatureHeader(smime, carol.email, signedBy(carol, 'carol')), /^valid; /);
});

test('outgoing: a held certificate that an imported CRL revokes is not encrypted to (a forged CRL changes nothing)', async () => {
  const smime = await newSmime('outgoing');
  smime.importCertificates(bob.certPem);
  smime.importCertificates(carol.certPem);
  assert.equal((await smime.recipientCertificate(bob.email))?.fingerprint, fpr(bob));
  await smime.importFile(forgedCrlDer);
  assert.equal((await smime.recipientCertificate(bob.email))?.fingerprint, fpr(bob), 'forged CRL');
  await smime.importFile(new Uint8Array(Buffer.from(ca.crl())));
  assert.equal(await smime.recipientCertificate(bob.email), null, 'revoked');
  assert.equal((await smime.recipientCertificate(carol.email))?.fingerprint, fpr(carol), 'not on the CRL');
});
