/**
 * Interop with real GnuPG 2.2, both directions (issue 4 "Must show"): what Lockbridge encrypts
 * and signs, gpg decrypts and verifies; what gpg produces (with keys gpg made), Lockbridge
 * decrypts and verifies. The tests build the PGP/MIME wrappers around gpg's output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../../../app/crypto/pgp-mime-sign.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import { GpgHome, statusTokens } from '../../helpers/crypto/gpg.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { armoredOf, makeKey, plainMessage, wrapPgpMime } from '../../helpers/crypto/keys.ts';

let g: GpgHome;
let aliceFpr: string;
let alicePub: string;
let aliceSec: string;
let bob: TestKey; // Lockbridge's own key (openpgp.js v4 Curve25519)

before(async () => {
  g = new GpgHome();
  aliceFpr = g.genKey('Alice <alice@example.test>');
  alicePub = g.exportPublic(aliceFpr);
  aliceSec = g.exportSecret(aliceFpr);
  bob = await makeKey('Bob', 'bob@example.test');
  g.importKey(bob.armoredPublic);
});
after(() => g.dispose());

const ENTITY =
  'Content-Type: multipart/mixed; boundary="------------inner0123456789abcdef";\r\n protected-headers="v1"\r\n' +
  'Subject: From gpg with love\r\nFrom: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nMessage-ID: <gpg-1@example.test>\r\n\r\n' +
  '--------------inner0123456789abcdef\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
  'Grüße aus GnuPG.\r\n\r\n--------------inner0123456789abcdef--\r\n';
const OUTER =
  'From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: ...\r\nMessage-ID: <gpg-1@example.test>\r\n';

/** Part 1 of a multipart/signed, cut independently of app code (boundary regex). */
function signedPart(msg: string): { part: string; sig: string; micalg: string } {
  const boundary = /boundary="([^"]+)"/.exec(msg)![1]!;
  const d = `\r\n--${boundary}`;
  const first = msg.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const end = msg.indexOf(d, first);
  return {
    part: msg.slice(first, end),
    sig: /-----BEGIN PGP SIGNATURE-----[\s\S]+?-----END PGP SIGNATURE-----/.exec(msg)![0],
    micalg: /micalg=([a-z0-9-]+)/.exec(msg)![1]!,
  };
}

test('Lockbridge encrypt+sign → gpg decrypts and verifies; packets are PKESK v3 + SEIPD v1 (MDC)', async () => {
  const out = await encryptMessage(plainMessage({ subject: 'To gpg', body: 'Grüße an GnuPG.\r\n' }), {
    encryptionKeys: [alicePub, bob.publicKey],
    signingKeys: [bob.privateKey],
  });
  const armored = armoredOf(out);
  const r = g.gpg(['--status-fd', '1', '--decrypt'], armored);
  assert.equal(r.status, 0, r.stderr);
  const tokens = statusTokens(r.stdout);
  assert.ok(tokens.includes('DECRYPTION_OKAY'));
  assert.ok(tokens.includes('GOODMDC'));
  assert.ok(
    tokens.some((t) => t.startsWith(`VALIDSIG ${bob.fingerprint} `)),
    tokens.join('\n'),
  );
  const plain = r.stdout.toString('utf8');
  assert.match(plain, /protected-headers="v1"\r\nSubject: To gpg\r\nFrom: Bob <bob@example.test>\r\n/);
  assert.ok(plain.includes('Grüße an GnuPG.'));

  const packets = g.gpg(['--list-packets'], armored).stdout.toString();
  const pkesk = packets.match(/:pubkey enc packet: version (\d+)/g) ?? [];
  assert.equal(pkesk.length, 2);
  assert.ok(pkesk.every((p) => p.endsWith('version 3')));
  assert.match(packets, /ctb=\w+ tag=18 [^\n]*\n:encrypted data packet:\n\s+length: \d+\n\s+mdc_method: 2/);
  // no AEAD packet (tag 20) or AEAD mode; matched as gpg prints them, not as any "aead" in the
  // text: key IDs and fingerprints are hex and hold "AEAD" now and then (a failure seen once)
  assert.doesNotMatch(packets, /^:aead encrypted packet:|\btag=20\b|\baead(_algo)?[=:]/m);
  assert.match(packets, /digest algo (8|10),/, 'SHA-256 or SHA-512 signature');
});

test('a recipient advertising SEIPDv2 next to a v4 gpg key still gets SEIPD v1 + PKESK v3, readable by gpg', async () => {
  const modern = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: 'modern@example.test' }],
    format: 'object',
    config: { aeadProtect: true },
  });
  // (getPrimarySelfSignature and enums.features exist at runtime but are missing from openpgp's typings)
  const pub = modern.publicKey as unknown as {
    getPrimarySelfSignature(): Promise<{ features: number[] | null }>;
  };
  const features = (await pub.getPrimarySelfSignature()).features ?? [];
  const SEIPDV2 = 0x08; // RFC 9580 §5.2.3.32
  assert.ok((features[0]! & SEIPDV2) !== 0, 'the modern key advertises SEIPDv2');
  const out = await encryptMessage(plainMessage({}), {
    encryptionKeys: [modern.publicKey, alicePub],
    signingKeys: [bob.privateKey],
  });
  const armored = armoredOf(out);
  const packets = g.gpg(['--list-packets'], armored).stdout.toString();
  assert.equal((packets.match(/:pubkey enc packet: version 3/g) ?? []).length, 2);
  assert.match(packets, /tag=18 [^\n]*\n:encrypted data packet:\n\s+length: \d+\n\s+mdc_method: 2/);
  const r = g.gpg(['--status-fd', '1', '--decrypt'], armored);
  assert.ok(statusTokens(r.stdout).includes('DECRYPTION_OKAY'), r.stderr);
  const m = await decryptMessage(out, {
    decryptionKeys: [modern.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(m.status, 'encrypted');
});

test('Lockbridge sign-only → gpg verifies part 1 over its exact bytes; micalg matches the hash', async () => {
  const out = (
    await signMessage(plainMessage({ body: 'Signed, trailing space \r\nFrom the start\r\n' }), {
      signingKeys: [bob.privateKey],
    })
  ).toString('latin1');
  const { part, sig, micalg } = signedPart(out);
  const r = g.gpg([
    '--status-fd',
    '1',
    '--verify',
    g.file('s.asc', sig),
    g.file('p1', Buffer.from(part, 'latin1')),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const valid = statusTokens(r.stdout).find((t) => t.startsWith('VALIDSIG '))!;
  const hashAlgo = valid.split(' ')[8];
  assert.equal(micalg, { '8': 'pgp-sha256', '10': 'pgp-sha512' }[hashAlgo!]);
});

test('gpg encrypt+sign with its own keys → Lockbridge decrypts (gpg-made secret key) and verifies', async () => {
  const r = g.gpg(['--armor', '--encrypt', '--sign', '-r', aliceFpr, '-u', aliceFpr], ENTITY);
  assert.equal(r.status, 0, r.stderr);
  const msg = wrapPgpMime(r.stdout.toString(), OUTER);
  const res = await decryptMessage(msg, { decryptionKeys: [aliceSec], verificationKeys: [alicePub] });
  assert.equal(res.status, 'encrypted');
  assert.equal(res.signature, 'valid');
  assert.equal(res.signerFingerprint, aliceFpr);
  assert.equal(res.innerHeaders.find((h) => h.name === 'Subject')?.value, 'From gpg with love');
  const served = buildServedMessage(msg, res).toString('utf8');
  assert.match(served, /^Subject: From gpg with love\r$/m);
  assert.ok(served.includes('Grüße aus GnuPG.'));
});

test('gpg encrypts to the Lockbridge key, signed by a gpg key → decrypts and verifies', async () => {
  const r = g.gpg(['--armor', '--encrypt', '--sign', '-r', 'bob@example.test', '-u', aliceFpr], ENTITY);
  assert.equal(r.status, 0, r.stderr);
  const msg = wrapPgpMime(r.stdout.toString(), OUTER);
  const res = await decryptMessage(msg, { decryptionKeys: [bob.privateKey], verificationKeys: [alicePub] });
  assert.equal(res.status, 'encrypted');
  assert.equal(res.signature, 'valid');
  assert.equal(res.signerFingerprint, aliceFpr);
  assert.equal(res.signerMismatch, false);
});

test('gpg detached signature (binary and --textmode) in multipart/signed → valid; tampered → invalid; LF copy → valid', async () => {
  const part = 'Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned by GnuPG.\r\nSecond line.\r\n';
  for (const extra of [[], ['--textmode']]) {
    const s = g.gpg(['--armor', '--detach-sign', '--digest-algo', 'SHA256', ...extra, '-u', aliceFpr], part);
    assert.equal(s.status, 0, s.stderr);
    const msg =
      'From: Alice <alice@example.test>\r\nSubject: signed\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="sig-b"\r\n\r\n' +
      `This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--sig-b\r\n${part}\r\n--sig-b\r\n` +
      'Content-Type: application/pgp-signature; name="OpenPGP_signature.asc"\r\n\r\n' +
      s.stdout.toString().replace(/\n/g, '\r\n') +
      '\r\n--sig-b--\r\n';
    const ok = await decryptMessage(Buffer.from(msg), { decryptionKeys: [], verificationKeys: [alicePub] });
    assert.equal(ok.signature, 'valid', `flags ${extra.join(' ')}`);
    assert.equal(ok.signerFingerprint, aliceFpr);
    const lf = await decryptMessage(Buffer.from(msg.replace(/\r\n/g, '\n')), {
      decryptionKeys: [],
      verificationKeys: [alicePub],
    });
    assert.equal(lf.signature, 'valid');
    const bad = await decryptMessage(Buffer.from(msg.replace('Second line.', 'Second line!')), {
      decryptionKeys: [],
      verificationKeys: [alicePub],
    });
    assert.equal(bad.signature, 'invalid');
  }
});

test('gpg --clearsign inline text → valid; gpg inline armored encryption → decrypted text', async () => {
  const text = 'Cleartext signed by gpg.\n- a dashed line\nFrom the desk of Alice\n';
  const cs = g.gpg(['--clearsign', '-u', aliceFpr], text);
  assert.equal(cs.status, 0, cs.stderr);
  const csMsg = Buffer.from(
    'From: Alice <alice@example.test>\r\nSubject: clear\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      cs.stdout.toString().replace(/\n/g, '\r\n'),
  );
  const v = await decryptMessage(csMsg, { decryptionKeys: [], verificationKeys: [alicePub] });
  assert.equal(v.form, 'cleartext-signed');
  assert.equal(v.signature, 'valid');

  const enc = g.gpg(
    ['--armor', '--encrypt', '--sign', '--textmode', '-r', 'bob@example.test', '-u', aliceFpr],
    'Inline secret from gpg.\nLine 2\n',
  );
  assert.equal(enc.status, 0, enc.stderr);
  const inMsg = Buffer.from(
    'From: Alice <alice@example.test>\r\nSubject: inline\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      enc.stdout.toString().replace(/\n/g, '\r\n'),
  );
  const d = await decryptMessage(inMsg, { decryptionKeys: [bob.privateKey], verificationKeys: [alicePub] });
  assert.equal(d.status, 'encrypted');
  assert.equal(d.form, 'inline');
  assert.equal(d.signature, 'valid');
  assert.ok(d.mime.toString().endsWith('\r\n\r\nInline secret from gpg.\r\nLine 2\r\n'));
});
