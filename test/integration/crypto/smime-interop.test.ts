/**
 * Issue 19, inbound S/MIME with real OpenSSL 3: certificates (RSA and EC P-256) made by `openssl`
 * in the test, messages by `openssl cms` — enveloped (AES-CBC), authEnveloped (AES-GCM, RFC
 * 5083/5084), signed opaque and detached, sign-then-encrypt, triple-wrapped — read through the product's inbound
 * path: createInboundProcessor over the real encrypted store's keyring (the user's certificates
 * imported from openssl's PKCS#12) and the crypto worker pool. Every case checks the served status
 * headers and body; bad input (tampered, another address, expired, a certificate not for e-mail,
 * garbage, not for us) is shown for what it is and processing carries on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Keyring } from '../../../app/keys/keyring.ts';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import type { ProcessInbound } from '../../../app/sync/types.ts';
import { startInboundRig, type InboundRig } from '../../helpers/crypto/inbound-rig.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';
import { run } from '../../helpers/crypto/gpg.ts';

const ME = 'me@example.test';
const ctx = { accountId: 1, email: ME, remoteMailbox: 'INBOX' };

let rig: InboundRig;
let keyring: Keyring;
let processInbound: ProcessInbound;
let ca: OpensslCa;
let meRsa: OsslUser;
let meEc: OsslUser;
let bob: OsslUser; // RSA, under the CA
let carol: OsslUser; // EC, under the CA
let dave: OsslUser; // expired (2020)
let other: OsslUser; // a certificate for someone else's address, the user's own not among recipients

const fpr = (u: OsslUser) => createHash('sha256').update(u.certDer).digest('hex').toUpperCase();

function entity(text: string): string {
  return `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`;
}
function outer(from: string, subject: string): string {
  return `From: ${from}\r\nTo: ${ME}\r\nSubject: ${subject}\r\nDate: Sun, 6 Dec 2026 04:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W+/g, '-')}@example.test>\r\n`;
}

before(async () => {
  rig = await startInboundRig('lb-smime-interop-');
  ({ keyring, processInbound } = rig);

  ca = new OpensslCa();
  meRsa = ca.user(ME, 'rsa');
  meEc = ca.user(ME, 'ec');
  bob = ca.user('bob@example.test', 'rsa');
  carol = ca.user('carol@example.test', 'ec');
  dave = ca.user('dave@example.test', 'rsa', { start: '20200101000000Z', end: '20210101000000Z' });
  other = ca.user('erin@example.test', 'ec');
  // The user's two certificates arrive as PKCS#12 files; the CA is trusted by the user.
  await keyring.smime!.importPkcs12(ca.pkcs12(meRsa, 'p12 pass'), 'p12 pass');
  await keyring.smime!.importPkcs12(ca.pkcs12(meEc, 'p12 pass'), 'p12 pass');
  keyring.smime!.importCertificates(ca.caPem, { trusted: true });
});

after(async () => {
  await rig.close();
  ca.dispose();
});

async function serve(
  raw: Buffer,
  via = processInbound,
): Promise<{ head: Map<string, string>; text: string }> {
  const r = await via(raw, ctx);
  const text = r.served.toString('utf8');
  const head = new Map<string, string>();
  for (const line of text
    .slice(0, text.indexOf('\r\n\r\n'))
    .replace(/\r\n(?=[ \t])/g, '')
    .split('\r\n')) {
    const i = line.indexOf(':');
    head.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return { head, text };
}

for (const [label, user, cipher, form] of [
  ['RSA, AES-256-CBC', () => meRsa, '-aes-256-cbc', 'enveloped'],
  ['EC P-256 (ECDH), AES-128-CBC', () => meEc, '-aes-128-cbc', 'enveloped'],
  ['RSA, AES-128-GCM', () => meRsa, '-aes-128-gcm', 'authEnveloped'],
  ['EC P-256 (ECDH), AES-256-GCM', () => meEc, '-aes-256-gcm', 'authEnveloped'],
] as const) {
  test(`openssl cms ${form}-data (${label}) is decrypted and served with the status headers`, async () => {
    const raw = ca.cms(
      ['-encrypt', cipher, user().certPath],
      entity(`secret for ${label}`),
      outer('Bob <bob@example.test>', label),
    );
    assert.match(raw.toString(), new RegExp(`smime-type=${form}-data`));
    const s = await serve(raw);
    assert.equal(s.head.get('x-lockbridge-encryption'), 'encrypted');
    assert.equal(s.head.get('x-lockbridge-signature'), 'none');
    assert.equal(s.head.get('x-lockbridge-standard'), 'smime');
    assert.equal(s.head.get('content-type'), 'text/plain; charset=utf-8');
    assert.ok(s.text.includes(`secret for ${label}`));
    assert.doesNotMatch(s.text, /pkcs7-mime|smime\.p7m/);
    assert.equal(s.head.get('from'), 'Bob <bob@example.test>');
    // CBC has no MAC: without a valid signature the user is told the content may be altered
    if (form === 'enveloped')
      assert.match(s.head.get('x-lockbridge-reason')!, /^not integrity-protected \(aes-/);
    else assert.equal(s.head.get('x-lockbridge-reason'), undefined);
  });
}

test('RSA-OAEP key transport (openssl -keyopt rsa_padding_mode:oaep) decrypts too', async () => {
  const raw = ca.cms(
    ['-encrypt', '-aes-256-cbc', '-recip', meRsa.certPath, '-keyopt', 'rsa_padding_mode:oaep'],
    entity('oaep body'),
    outer('bob@example.test', 'oaep'),
  );
  const s = await serve(raw);
  assert.equal(s.head.get('x-lockbridge-encryption'), 'encrypted');
  assert.ok(s.text.includes('oaep body'));
});

test('opaque signed-data by a CA-issued certificate: valid, signer = certificate fingerprint, expiry shown, content unwrapped', async () => {
  const raw = ca.cms(
    ['-sign', '-nodetach', '-signer', bob.certPath, '-inkey', bob.keyPath],
    entity('signed opaque by bob'),
    outer('Bob <bob@example.test>', 'opaque'),
  );
  const s = await serve(raw);
  assert.equal(s.head.get('x-lockbridge-encryption'), 'none');
  const sig = s.head.get('x-lockbridge-signature')!;
  assert.match(sig, new RegExp(`^valid; signer=${fpr(bob)}; trust=ca; expires=\\d{4}-\\d\\d-\\d\\d$`));
  assert.equal(s.head.get('x-lockbridge-standard'), 'smime');
  assert.equal(s.head.get('content-type'), 'text/plain; charset=utf-8');
  assert.ok(s.text.includes('signed opaque by bob'));
  assert.doesNotMatch(s.text, /smime\.p7m/);
  // the signer certificate is learnt for bob's address
  const learned = keyring.smime!.list().certificates.find((c) => c.fingerprint === fpr(bob));
  assert.ok(learned, 'bob certificate learned');
  assert.deepEqual(learned.emails, ['bob@example.test']);
  assert.equal(learned.source, 'learned');
});

test('detached multipart/signed (EC signer) is valid and served as it came; a tampered copy is invalid', async () => {
  const raw = ca.cms(
    ['-sign', '-signer', carol.certPath, '-inkey', carol.keyPath],
    entity('detached by carol'),
    outer('Carol <carol@example.test>', 'detached'),
  );
  assert.match(raw.toString(), /multipart\/signed; protocol="application\/pkcs7-signature"/);
  const s = await serve(raw);
  assert.equal(s.head.get('x-lockbridge-encryption'), 'none');
  assert.match(
    s.head.get('x-lockbridge-signature')!,
    new RegExp(`^valid; signer=${fpr(carol)}; trust=ca; expires=`),
  );
  assert.match(s.text, /application\/pkcs7-signature/); // as it came: the client may check it too

  const tampered = Buffer.from(
    raw.toString('latin1').replace('detached by carol', 'detached by mallory'),
    'latin1',
  );
  const t = await serve(tampered);
  assert.match(t.head.get('x-lockbridge-signature')!, new RegExp(`^invalid; signer=${fpr(carol)}`));
});

test('sign-then-encrypt (openssl cms -sign | -encrypt, EC recipient, AES-GCM): encrypted and validly signed', async () => {
  const signed = ca.must(
    'openssl',
    ['cms', '-sign', '-signer', bob.certPath, '-inkey', bob.keyPath],
    entity('triple wrap body'),
  );
  const raw = ca.cms(
    ['-encrypt', '-aes-256-gcm', meEc.certPath],
    signed,
    outer('Bob <bob@example.test>', 'sign then encrypt'),
  );
  const s = await serve(raw);
  assert.equal(s.head.get('x-lockbridge-encryption'), 'encrypted');
  assert.match(s.head.get('x-lockbridge-signature')!, new RegExp(`^valid; signer=${fpr(bob)}; trust=ca`));
  assert.ok(s.text.includes('triple wrap body'));
});

test('triple-wrapped (RFC 2634: openssl cms -sign | -encrypt | -sign, the outer signature by an agent the user does not know): decrypted, the inner signature verified', async () => {
  const agent = ca.user('list@example.test', 'ec', { selfSigned: true });
  const inner = ca.must(
    'openssl',
    ['cms', '-sign', '-signer', bob.certPath, '-inkey', bob.keyPath],
    entity('triple wrapped body'),
  );
  const enveloped = ca.must('openssl', ['cms', '-encrypt', '-aes-256-cbc', meRsa.certPath], inner);
  const wrap = (signer: OsslUser, subject: string) =>
    ca.cms(
      ['-sign', '-signer', signer.certPath, '-inkey', signer.keyPath],
      enveloped,
      outer('Bob <bob@example.test>', subject),
    );
  // the outermost layer is a signature over the enveloped-data entity
  const raw = wrap(agent, 'triple wrapped');
  assert.match(raw.toString(), /^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"/m);
  const s = await serve(raw);
  assert.equal(s.head.get('x-lockbridge-encryption'), 'encrypted');
  assert.equal(s.head.get('x-lockbridge-standard'), 'smime');
  // the outer signer is unknown; the signature shown is bob's inner one, inside the envelope
  assert.match(s.head.get('x-lockbridge-signature')!, new RegExp(`^valid; signer=${fpr(bob)}; trust=ca`));
  // a valid signature covers the CBC content: no integrity note
  assert.equal(s.head.get('x-lockbridge-reason'), undefined);
  assert.ok(s.text.includes('triple wrapped body'));
  assert.doesNotMatch(s.text, /pkcs7-mime|smime\.p7m|pkcs7-signature/);
  // all three layers by bob: the same
  const same = await serve(wrap(bob, 'triple wrapped by bob'));
  assert.match(same.head.get('x-lockbridge-signature')!, new RegExp(`^valid; signer=${fpr(bob)}; trust=ca`));
  assert.ok(same.text.includes('triple wrapped body'));
});

test('a certificate for another address: the signature is valid but the signer mismatch is shown', async () => {
  const raw = ca.cms(
    ['-sign', '-nodetach', '-signer', bob.certPath, '-inkey', bob.keyPath],
    entity('I am carol, honest'),
    outer('Carol <carol@example.test>', 'mismatch'),
  );
  const s = await serve(raw);
  assert.match(
    s.head.get('x-lockbridge-signature')!,
    new RegExp(`^valid; signer=${fpr(bob)}; from-mismatch=yes; trust=ca`),
  );
  // and bob's certificate is not filed under carol's address
  assert.ok(
    !keyring
      .smime!.list()
      .certificates.some((c) => c.emails.includes('carol@example.test') && c.fingerprint === fpr(bob)),
  );
});

test('a certificate not for e-mail (extended key usage serverAuth, under the trusted CA) does not make a valid signature', async () => {
  const web = ca.user('web@example.test', 'rsa', { eku: 'serverAuth' });
  const raw = ca.cms(
    ['-sign', '-nodetach', '-signer', web.certPath, '-inkey', web.keyPath],
    entity('signed with a TLS certificate'),
    outer('web@example.test', 'not for mail'),
  );
  const s = await serve(raw);
  assert.match(s.head.get('x-lockbridge-signature')!, new RegExp(`^invalid; signer=${fpr(web)}; expires=`));
  assert.ok(!keyring.smime!.list().certificates.some((c) => c.fingerprint === fpr(web)), 'not learned');
  // openssl agrees: its S/MIME signing purpose check refuses the certificate
  const v = run('openssl', ['cms', '-verify', '-CAfile', ca.path('ca.pem'), '-out', '/dev/null'], raw);
  assert.notEqual(v.status, 0);
  assert.match(v.stderr.toString(), /unsuitable certificate purpose/);
});

test('an expired signer certificate is shown as expired (and the signature is not valid)', async () => {
  const raw = ca.cms(
    ['-sign', '-nodetach', '-signer', dave.certPath, '-inkey', dave.keyPath],
    entity('old news'),
    outer('dave@example.test', 'expired'),
  );
  const s = await serve(raw);
  assert.equal(s.head.get('x-lockbridge-signature'), `invalid; signer=${fpr(dave)}; expired=2021-01-01`);
  assert.equal(s.head.get('x-lockbridge-standard'), 'smime');
});

test('a self-signed certificate is taken on first contact for its address, a second one is unknown', async () => {
  const first = ca.user('frank@example.test', 'ec', { selfSigned: true });
  const second = ca.user('frank@example.test', 'rsa', { selfSigned: true });
  const sign = (u: OsslUser, subject: string) =>
    ca.cms(
      ['-sign', '-nodetach', '-signer', u.certPath, '-inkey', u.keyPath],
      entity(subject),
      outer('frank@example.test', subject),
    );
  const a = await serve(sign(first, 'hello from frank'));
  assert.match(
    a.head.get('x-lockbridge-signature')!,
    new RegExp(`^valid; signer=${fpr(first)}; trust=first-contact`),
  );
  const again = await serve(sign(first, 'frank again'));
  assert.match(
    again.head.get('x-lockbridge-signature')!,
    new RegExp(`^valid; signer=${fpr(first)}; trust=known`),
  );
  const b = await serve(sign(second, 'another frank'));
  assert.match(b.head.get('x-lockbridge-signature')!, new RegExp(`^unknown-key; keyid=${fpr(second)}`));
});

test('garbage, truncated and not-for-us CMS: failed with a reason, the message kept as it came, and the next one is read', async () => {
  const garbage =
    outer('bob@example.test', 'garbage') +
    'MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n' +
    'Content-Transfer-Encoding: base64\r\n\r\n' +
    Buffer.from('this is not CMS at all').toString('base64') +
    '\r\n';
  const g = await serve(Buffer.from(garbage));
  assert.equal(g.head.get('x-lockbridge-encryption'), 'failed');
  assert.match(g.head.get('x-lockbridge-reason')!, /garbled CMS/);
  assert.match(g.text, /smime-type=enveloped-data/);

  const good = ca.cms(
    ['-encrypt', '-aes-256-gcm', meEc.certPath],
    entity('whole'),
    outer('bob@example.test', 'truncated'),
  );
  const text = good.toString();
  const bodyAt = text.indexOf('\r\n\r\n', text.indexOf('Content-Type: application/pkcs7-mime')) + 4;
  const b64 = text.slice(bodyAt).replace(/\s+/g, '');
  const cut = text.slice(0, bodyAt) + b64.slice(0, Math.floor(b64.length / 2 / 4) * 4) + '\r\n';
  const t = await serve(Buffer.from(cut));
  assert.equal(t.head.get('x-lockbridge-encryption'), 'failed');
  assert.ok(t.head.get('x-lockbridge-reason'));

  const notForUs = ca.cms(
    ['-encrypt', '-aes-256-cbc', other.certPath],
    entity('for erin'),
    outer('bob@example.test', 'not for us'),
  );
  const n = await serve(notForUs);
  assert.equal(n.head.get('x-lockbridge-encryption'), 'failed');
  assert.match(n.head.get('x-lockbridge-reason')!, /no S\/MIME certificate of yours/);
  assert.ok(!n.text.includes('for erin'));

  const next = await serve(
    ca.cms(
      ['-encrypt', '-aes-128-cbc', meRsa.certPath],
      entity('still reading'),
      outer('bob@example.test', 'next'),
    ),
  );
  assert.equal(next.head.get('x-lockbridge-encryption'), 'encrypted');
  assert.ok(next.text.includes('still reading'));
});

test("OpenPGP inside S/MIME: a PGP/MIME message (encrypted and signed with the user's own key) in openssl enveloped-data is read through both layers", async () => {
  const own = await keyring.own.generate(ME);
  const pub = keyring.own.exportPublic(ME);
  const priv = (await keyring.own.allPrivateKeys())[0]!;
  const pgp = await encryptMessage(
    Buffer.from(`${outer(ME, 'pgp inside')}Content-Type: text/plain\r\n\r\npgp inside smime body\r\n`),
    { encryptionKeys: [pub], signingKeys: [priv] },
  );
  const raw = ca.cms(['-encrypt', '-aes-256-gcm', meEc.certPath], pgp, outer(ME, 'pgp inside smime'));
  // a new processor: the first one holds the own OpenPGP keys it read (none then) for 10 s
  const fresh = rig.newProcessor();
  const s = await serve(raw, fresh);
  assert.equal(s.head.get('x-lockbridge-reason'), undefined);
  assert.equal(s.head.get('x-lockbridge-encryption'), 'encrypted');
  assert.equal(s.head.get('x-lockbridge-standard'), 'smime');
  assert.equal(s.head.get('x-lockbridge-signature'), `valid; signer=${own.fingerprint.toUpperCase()}`);
  assert.ok(s.text.includes('pgp inside smime body'));
  assert.doesNotMatch(s.text, /BEGIN PGP MESSAGE/);
});
