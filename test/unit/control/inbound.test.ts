// Inbound processing as sync runs it: a PGP/MIME message from a contact is decrypted and verified,
// served with the inner subject and status headers; forged status headers are stripped; an
// Autocrypt header teaches the keyring the sender's key; undecryptable mail is served as it came.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { inlineEngine } from '../../../app/crypto/engine.ts';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { createInboundProcessor } from '../../../app/control/adapters/inbound.ts';
import { silentLogger } from '../../../app/shared/logger.ts';

const ctx = { accountId: 1, email: 'me@example.test', remoteMailbox: 'INBOX' };

async function setup() {
  const repo = new InMemoryKeyringRepo();
  const keyring = new Keyring({ repo });
  await keyring.own.generate('me@example.test');
  const autocrypt = new AutocryptService({ repo, keyring });
  const process = createInboundProcessor({ keyring, autocrypt, engine: inlineEngine, logger: silentLogger });
  const alice = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: 'alice@example.test' }],
    format: 'object',
  });
  return { repo, keyring, autocrypt, process, alice };
}

function plain(subject: string, extra = ''): Buffer {
  return Buffer.from(
    `From: Alice <alice@example.test>\r\nTo: me@example.test\r\nSubject: ${subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n${extra}Content-Type: text/plain; charset=utf-8\r\n\r\nthe secret body 7f3a\r\n`,
  );
}

test('a signed+encrypted message from a known contact is served decrypted with valid signature', async () => {
  const { keyring, process, alice } = await setup();
  await keyring.importKeys(alice.publicKey.armor(), { source: 'manual' });
  const me = await openpgp.readKey({ armoredKey: keyring.own.exportPublic('me@example.test') });
  const enc = await encryptMessage(plain('inner subject', 'X-Lockbridge-Encryption: encrypted\r\n'), {
    encryptionKeys: [me],
    signingKeys: [alice.privateKey],
  });
  assert.ok(!enc.toString().includes('the secret body'));
  const { served, meta } = await process(enc, ctx);
  const text = served.toString();
  assert.match(text, /^Subject: inner subject\r$/m);
  assert.match(text, /the secret body 7f3a/);
  assert.match(text, /^X-Lockbridge-Encryption: encrypted\r$/m);
  assert.match(text, /^X-Lockbridge-Signature: valid/m);
  assert.equal((text.match(/^X-Lockbridge-Encryption:/gm) ?? []).length, 1, 'forged status header removed');
  assert.equal(meta?.encryption, 'encrypted');
});

test('an Autocrypt header on plain mail records the sender key; forged status headers go', async () => {
  const { keyring, process, alice } = await setup();
  const keydata = Buffer.from(alice.publicKey.write()).toString('base64');
  const raw = plain(
    'hi',
    `Autocrypt: addr=alice@example.test; keydata=${keydata}\r\nX-Lockbridge-Signature: valid\r\n`,
  );
  const { served } = await process(raw, ctx);
  const text = served.toString();
  assert.match(text, /^X-Lockbridge-Encryption: none\r$/m);
  assert.match(text, /^X-Lockbridge-Signature: none\r$/m);
  const found = await keyring.contacts.encryptionKeyFor('alice@example.test');
  assert.equal(found?.key.getFingerprint(), alice.publicKey.getFingerprint());
});

test('mail encrypted to someone else is served as it came, marked failed with a reason', async () => {
  const { process, alice } = await setup();
  const enc = await encryptMessage(plain('not for me'), {
    encryptionKeys: [alice.publicKey],
    signingKeys: [],
  });
  const { served, meta } = await process(enc, ctx);
  const text = served.toString();
  assert.equal(meta?.encryption, 'failed');
  assert.match(text, /^X-Lockbridge-Encryption: failed\r$/m);
  assert.match(text, /^X-Lockbridge-Reason: .+/m);
  assert.match(text, /-----BEGIN PGP MESSAGE-----/);
});

test('an Autocrypt header names the From address mail clients show: "alice@… <mallory@…>" teaches nothing for alice', async () => {
  const { keyring, process } = await setup();
  const mallory = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: 'alice@example.test' }],
    format: 'object',
  });
  const keydata = Buffer.from(mallory.publicKey.write()).toString('base64');
  // sent from mallory's own domain (its DKIM and DMARC pass); the recipient's client shows and
  // replies to mallory@evil.test, with "alice@example.test" as the display name
  const raw = Buffer.from(
    plain('hi', `Autocrypt: addr=alice@example.test; keydata=${keydata}\r\n`)
      .toString()
      .replace('From: Alice <alice@example.test>', 'From: alice@example.test <mallory@evil.test>'),
  );
  await process(raw, ctx);
  assert.equal(await keyring.contacts.encryptionKeyFor('alice@example.test'), null);
});
