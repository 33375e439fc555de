// Finding a signer's key (issue 14 item 2): by key ID anywhere in the keyring (own keys, contact
// keys under any address, never rejected ones), an attached key only on first contact; and the
// first lookup over a large keyring never holds the event loop (monitorEventLoopDelay) > 200 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { makeKey } from './pgp-helpers.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';

const idOf = (k: { getKeyID(): { toHex(): string } }) => k.getKeyID().toHex().toUpperCase();

test('by key ID: own keys and contact keys under any address; rejected keys sign nothing', async () => {
  const repo = new InMemoryKeyringRepo();
  const kr = new Keyring({ repo });
  const own = await kr.own.generate('me@example.test');
  const carol = await makeKey('carol@example.test');
  const bad = await makeKey('bob@example.test');
  const good = await makeKey('bob@example.test');
  await kr.contacts.record('carol@example.test', carol.publicKey, 'manual');
  await kr.contacts.record('bob@example.test', good.publicKey, 'autocrypt');
  const flagged = await kr.contacts.record('bob@example.test', bad.publicKey, 'autocrypt');
  assert.equal(flagged.result, 'flagged');
  kr.rejectKeyChange((flagged as { change: { id: string } }).change.id);

  const ownKey = (await kr.own.privateKey(own)).toPublic();
  assert.equal((await kr.signers.byKeyIds([idOf(ownKey)])).length, 1);
  // a signing subkey's ID is found as well as the primary's
  const sub = carol.publicKey.getSubkeys()[0]!.getKeyID().toHex();
  assert.equal((await kr.signers.byKeyIds([sub])).length, 1);
  assert.equal((await kr.signers.byKeyIds([idOf(carol.publicKey).toLowerCase()])).length, 1);
  assert.deepEqual(await kr.signers.byKeyIds([idOf(bad.publicKey)]), []);
  assert.deepEqual(await kr.signers.byKeyIds(['0123456789ABCDEF']), []);
});

test('an attached key vouches only for its own address, and only when no other key is known for it', async () => {
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const dave = await makeKey('dave@example.test');
  const ids = [idOf(dave.publicKey)];
  assert.equal((await kr.signers.attachedFor('dave@example.test', [dave.armoredPublic], ids)).length, 1);
  assert.deepEqual(await kr.signers.attachedFor('other@example.test', [dave.armoredPublic], ids), []);
  assert.deepEqual(
    await kr.signers.attachedFor('dave@example.test', [dave.armoredPublic], ['0123456789ABCDEF']),
    [],
  );
  assert.deepEqual(await kr.signers.attachedFor('dave@example.test', ['not a key'], ids), []);
  const real = await makeKey('dave@example.test');
  await kr.contacts.record('dave@example.test', real.publicKey, 'manual');
  assert.deepEqual(await kr.signers.attachedFor('dave@example.test', [dave.armoredPublic], ids), []);
  // the same key as the one known is fine
  assert.equal(
    (await kr.signers.attachedFor('dave@example.test', [real.armoredPublic], [idOf(real.publicKey)])).length,
    1,
  );
});

test('the first lookup over 1,500 stored keys yields: the event loop is never held > 200 ms', async () => {
  const repo = new InMemoryKeyringRepo();
  const kr = new Keyring({ repo });
  const k = await makeKey('bulk@example.test');
  const armored = k.armoredPublic;
  for (let i = 0; i < 1500; i++)
    repo.putContactKey({
      email: `c${i}@example.test`,
      fingerprint: i.toString(16).toUpperCase().padStart(40, '0'),
      armored,
      source: 'autocrypt',
      trust: 'unverified',
      status: 'active',
      firstSeen: 0,
      lastSeen: 0,
      createdAt: 0,
      expiresAt: null,
      revoked: false,
    });
  const { value: found, ...loop } = await measureLoop(() => kr.signers.byKeyIds([idOf(k.publicKey)]), {
    resolution: 5,
  });
  assert.equal(found.length, 1500);
  assertLoop(loop, 'the first lookup over 1,500 keys');
});
