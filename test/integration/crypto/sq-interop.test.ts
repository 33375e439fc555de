/**
 * Interop with Sequoia sq 0.27, both directions, including a key made by sq itself.
 * (sq 0.27 flags: encrypt --recipient-cert / --signer-key, decrypt --recipient-key / --signer-cert,
 * sign --detached --signer-key, verify --detached --signer-cert.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../../../app/crypto/pgp-mime-sign.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { run } from '../../helpers/crypto/gpg.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { armoredOf, makeKey, plainMessage, wrapPgpMime } from '../../helpers/crypto/keys.ts';

let dir: string;
let bob: TestKey; // Lockbridge
let carolSec: string; // made by sq
let carolPub: string;
let carolFpr: string;
const p = (n: string) => join(dir, n);

function sq(args: string[], input?: Buffer | string) {
  return run('sq', args, input, { SEQUOIA_HOME: join(dir, 'sqhome') });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lb-sq-'));
  bob = await makeKey('Bob', 'bob@example.test');
  const gen = sq(['key', 'generate', '--userid', 'Carol <carol@example.test>', '--export', p('carol.sec')]);
  assert.equal(gen.status, 0, gen.stderr);
  carolSec = readFileSync(p('carol.sec'), 'utf8');
  carolPub = sq(['key', 'extract-cert', p('carol.sec')]).stdout.toString();
  writeFileSync(p('carol.pub'), carolPub);
  writeFileSync(p('bob.pub'), bob.armoredPublic);
  writeFileSync(p('bob.sec'), bob.privateKey.armor());
  carolFpr = /Comment: ([0-9A-F ]{50})/.exec(carolPub)![1]!.replace(/ /g, '');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('Lockbridge encrypt+sign → sq decrypts and verifies the signature', async () => {
  const out = await encryptMessage(plainMessage({ subject: 'To sq', body: 'Hallo Sequoia.\r\n' }), {
    encryptionKeys: [carolPub, bob.publicKey],
    signingKeys: [bob.privateKey],
  });
  writeFileSync(p('m.asc'), armoredOf(out));
  const r = sq(['decrypt', '--recipient-key', p('carol.sec'), '--signer-cert', p('bob.pub'), p('m.asc')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Good signature/i);
  const plain = r.stdout.toString();
  assert.match(plain, /protected-headers="v1"\r\nSubject: To sq\r\n/);
  assert.ok(plain.includes('Hallo Sequoia.'));
});

test('Lockbridge sign-only → sq verifies the detached signature over part 1', async () => {
  const out = (
    await signMessage(plainMessage({ body: 'Signed for sq \r\n' }), { signingKeys: [bob.privateKey] })
  ).toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(out)![1]!;
  const first = out.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const part = out.slice(first, out.indexOf(`\r\n--${boundary}`, first));
  writeFileSync(p('part1'), Buffer.from(part, 'latin1'));
  writeFileSync(
    p('part1.sig'),
    /-----BEGIN PGP SIGNATURE-----[\s\S]+?-----END PGP SIGNATURE-----/.exec(out)![0],
  );
  const ok = sq(['verify', '--signer-cert', p('bob.pub'), '--detached', p('part1.sig'), p('part1')]);
  assert.equal(ok.status, 0, ok.stderr);
  writeFileSync(p('part1'), Buffer.from(part.replace('Signed', 'signed'), 'latin1'));
  const bad = sq(['verify', '--signer-cert', p('bob.pub'), '--detached', p('part1.sig'), p('part1')]);
  assert.notEqual(bad.status, 0);
});

test('sq encrypt+sign with an sq-made key → Lockbridge decrypts and verifies', async () => {
  const entity =
    'Content-Type: multipart/mixed; boundary="sqb"; protected-headers="v1"\r\nSubject: From sq\r\nFrom: Carol <carol@example.test>\r\n\r\n' +
    '--sqb\r\nContent-Type: text/plain\r\n\r\nSequoia says hi.\r\n--sqb--\r\n';
  writeFileSync(p('entity'), entity);
  const r = sq(['encrypt', '--recipient-cert', p('bob.pub'), '--signer-key', p('carol.sec'), p('entity')]);
  assert.equal(r.status, 0, r.stderr);
  const msg = wrapPgpMime(r.stdout.toString(), 'From: Carol <carol@example.test>\r\nSubject: ...\r\n');
  const res = await decryptMessage(msg, { decryptionKeys: [bob.privateKey], verificationKeys: [carolPub] });
  assert.equal(res.status, 'encrypted');
  assert.equal(res.signature, 'valid');
  assert.equal(res.signerFingerprint, carolFpr);
  assert.equal(res.innerHeaders.find((h) => h.name === 'Subject')?.value, 'From sq');

  // and Lockbridge can decrypt with the sq-made secret key
  const back = await encryptMessage(plainMessage({}), {
    encryptionKeys: [carolPub],
    signingKeys: [bob.privateKey],
  });
  const mine = await decryptMessage(back, { decryptionKeys: [carolSec], verificationKeys: [bob.publicKey] });
  assert.equal(mine.status, 'encrypted');
  assert.equal(mine.signature, 'valid');
});

test("sq's default padded compression (unsigned, small and 1 MB) → Lockbridge decrypts to the original", async () => {
  for (const size of [40, 1_000_000]) {
    const body = Buffer.alloc(size, 'Sequoia pads its compressed data. ').toString('latin1');
    const entity = `Content-Type: text/plain; charset=us-ascii\r\n\r\n${body}\r\n`;
    writeFileSync(p('padded'), entity);
    const r = sq(['encrypt', '--recipient-cert', p('bob.pub'), p('padded')]); // --compression pad is sq's default
    assert.equal(r.status, 0, r.stderr);
    const msg = wrapPgpMime(r.stdout.toString(), 'From: Carol <carol@example.test>\r\nSubject: padded\r\n');
    const res = await decryptMessage(msg, { decryptionKeys: [bob.privateKey], verificationKeys: [] });
    assert.equal(res.status, 'encrypted', `size ${size}: ${res.reason ?? ''}`);
    assert.ok(res.mime.includes(Buffer.from(body.slice(0, 200))), `size ${size}: the body is there`);
  }
  // the native inflater is back afterwards
  assert.equal(typeof new DecompressionStream('deflate-raw').readable, 'object');
});

test('sq detached signature in multipart/signed → valid', async () => {
  const part = 'Content-Type: text/plain\r\n\r\nSigned by sq.\r\n';
  writeFileSync(p('sp'), part);
  const s = sq(['sign', '--detached', '--signer-key', p('carol.sec'), p('sp')]);
  assert.equal(s.status, 0, s.stderr);
  const msg = Buffer.from(
    'From: Carol <carol@example.test>\r\nContent-Type: multipart/signed; micalg=pgp-sha512; protocol="application/pgp-signature"; boundary="b"\r\n\r\n' +
      `--b\r\n${part}\r\n--b\r\nContent-Type: application/pgp-signature\r\n\r\n${s.stdout.toString()}\r\n--b--\r\n`,
  );
  const r = await decryptMessage(msg, { decryptionKeys: [], verificationKeys: [carolPub] });
  assert.equal(r.signature, 'valid');
  assert.equal(r.signerFingerprint, carolFpr);
});
