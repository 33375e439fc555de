/** Hostile and broken input never throws out of decryptMessage / buildServedMessage. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../../../app/crypto/pgp-mime-sign.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { makeKey, plainMessage } from '../../helpers/crypto/keys.ts';

let k: TestKey;
before(async () => {
  k = await makeKey('K', 'k@example.test');
});

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('edge inputs: empty, header-only, body-only, unterminated multipart', async () => {
  const cases = [
    '',
    'Subject: x',
    '\r\n\r\nbody only',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nAAAA\r\n-----END PGP MESSAGE-----',
    'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n--b--',
    'Content-Type: text/plain\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n!!!!\r\n-----END PGP MESSAGE-----',
    'Content-Type: multipart/mixed; boundary=a\r\n\r\n' +
      '--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n'.repeat(200),
  ];
  for (const c of cases) {
    const raw = Buffer.from(c);
    const r = await decryptMessage(raw, { decryptionKeys: [k.privateKey], verificationKeys: [k.publicKey] });
    assert.notEqual(r.status, 'encrypted');
    assert.ok(Buffer.isBuffer(buildServedMessage(raw, r)));
  }
});

test('random byte mutations of encrypted and signed messages never throw and never yield a valid signature on changed signed bytes', async () => {
  const enc = await encryptMessage(plainMessage({}), {
    encryptionKeys: [k.publicKey],
    signingKeys: [k.privateKey],
  });
  const sig = await signMessage(plainMessage({}), { signingKeys: [k.privateKey] });
  const rnd = prng(42);
  const text = sig.toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
  const p1Start = text.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const p1End = text.indexOf(`\r\n--${boundary}`, p1Start);
  for (const base of [enc, sig]) {
    for (let i = 0; i < 150; i++) {
      const m = Buffer.from(base);
      const changed: number[] = [];
      const n = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < n; j++) {
        const at = Math.floor(rnd() * m.length);
        const v = Math.floor(rnd() * 256);
        if (m[at] !== v) changed.push(at);
        m[at] = v;
      }
      const r = await decryptMessage(m, { decryptionKeys: [k.privateKey], verificationKeys: [k.publicKey] });
      buildServedMessage(m, r);
      if (r.status === 'encrypted') assert.ok(r.mime.toString().includes('The secret plan is at noon.'));
      if (base === sig && changed.some((at) => at >= p1Start && at < p1End))
        assert.notEqual(r.signature, 'valid');
    }
  }
});
