import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { formatAutocryptValue } from '../../../app/keys/autocrypt/header.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { isSetupMessage } from '../../../app/keys/autocrypt/setup-message.ts';
import { createSetupMessage } from '../../../app/outgoing/setup-message.ts';
import { buildWkdTree } from '../../../app/keys/discovery/wkd-export.ts';
import { wkdHash } from '../../../app/keys/discovery/wkd-url.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { makeKey } from './pgp-helpers.ts';

const DAY = 86_400_000;

test('WKD export: one binary key per own address of the domain, User IDs filtered, plus policy', async () => {
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const a = await kr.own.generate('Alice@example.org');
  await kr.own.generate('bob@other.example');
  const tree = await buildWkdTree(kr.own.list(), 'Example.ORG');
  assert.deepEqual(
    Object.keys(tree).sort(),
    ['openpgpkey/hu/' + wkdHash('alice'), 'openpgpkey/policy'].sort(),
  );
  const key = await openpgp.readKey({
    binaryKey: Buffer.from(tree['openpgpkey/hu/' + wkdHash('alice')]!, 'base64'),
  });
  assert.equal(key.getFingerprint().toUpperCase(), a.fingerprint);
  assert.equal(key.isPrivate(), false);
});

test('attached keys are recorded only for the sender address', async () => {
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const s = await makeKey('sender@example.org');
  const o = await makeKey('other@example.org');
  assert.equal(await kr.importAttachedKey('other@example.org', s.armoredPublic), null);
  assert.equal((await kr.importAttachedKey('Sender <sender@example.org>', s.armoredPublic))!.result, 'added');
  assert.equal((await kr.contacts.encryptionKeyFor('sender@example.org'))!.record.source, 'attached');
  assert.equal(await kr.importAttachedKey('sender@example.org', o.armoredPublic), null);
  assert.equal(await kr.importAttachedKey('sender@example.org', 'garbage'), null);
});

test('Setup Message detection', async () => {
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  await kr.own.generate('me@example.org');
  const asm = await createSetupMessage(kr, 'me@example.org');
  assert.equal(isSetupMessage(asm.raw), true);
  assert.equal(isSetupMessage(Buffer.from(asm.raw)), true);
  assert.equal(isSetupMessage('Subject: hi\r\n\r\nAutocrypt-Setup-Message: v1\r\n'), false);
});

test('Autocrypt headers carrying v6 keys are ignored (Autocrypt v2 not supported)', async () => {
  const repo = new InMemoryKeyringRepo();
  const kr = new Keyring({ repo });
  const ac = new AutocryptService({ repo, keyring: kr });
  const v6 = await openpgp.generateKey({
    type: 'curve25519',
    userIDs: [{ email: 'six@example.org' }],
    format: 'object',
    config: { v6Keys: true },
  });
  assert.equal(v6.publicKey.keyPacket.version, 6);
  const r = await ac.processIncoming({
    from: ['six@example.org'],
    contentType: 'text/plain',
    date: Date.now(),
    receivedAt: Date.now(),
    autocryptHeaders: [formatAutocryptValue({ addr: 'six@example.org', keydata: v6.publicKey.write() })],
  });
  assert.equal(r.keyRecorded, null);
  assert.ok(r.problems.some((p) => /v6 key/.test(p)));
  assert.equal(repo.getPeer('six@example.org'), null);
});

test('renewAllExpiring extends only keys close to expiry', async () => {
  let now = Date.now();
  const kr = new Keyring({ repo: new InMemoryKeyringRepo(), now: () => now });
  const soon = await kr.own.generate('soon@example.org', { days: 20 });
  const later = await kr.own.generate('later@example.org', { days: 400 });
  const never = await kr.own.generate('never@example.org', { days: 0 });
  assert.equal(never.expiresAt, null);
  now += DAY;
  const renewed = await kr.own.renewAllExpiring({ withinDays: 30, days: 365 });
  assert.deepEqual(
    renewed.map((r) => r.fingerprint),
    [soon.fingerprint],
  );
  assert.ok(kr.own.active('soon@example.org')!.expiresAt! > now + 360 * DAY);
  assert.equal(kr.own.active('later@example.org')!.expiresAt, later.expiresAt);
});
