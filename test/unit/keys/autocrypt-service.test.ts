import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { parseAutocryptHeader } from '../../../app/keys/autocrypt/header.ts';
import { minimizeKey } from '../../../app/keys/autocrypt/minimize.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { formatAutocryptValue } from '../../../app/keys/autocrypt/header.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import type { KeyringEvent } from '../../../app/keys/types.ts';
import { makeKey } from './pgp-helpers.ts';

const DAY = 86_400_000;

function setup() {
  const repo = new InMemoryKeyringRepo();
  const events: KeyringEvent[] = [];
  let offset = 0;
  const now = () => Date.now() + offset;
  const keyring = new Keyring({ repo, now, onEvent: (e) => events.push(e) });
  const ac = new AutocryptService({ repo, keyring });
  return { repo, keyring, ac, events, advance: (ms: number) => (offset += ms), time: now };
}

async function headerOf(addr: string, key: openpgp.Key, pe?: 'mutual'): Promise<string> {
  const min = await minimizeKey(key, addr);
  return formatAutocryptValue({ addr, keydata: min.write(), ...(pe ? { preferEncrypt: pe } : {}) });
}

test('own Autocrypt header: minimal key of the active own key; renewal is announced', async () => {
  const { keyring, ac } = setup();
  assert.equal(await ac.headerFor('me@example.org'), null);
  const rec = await keyring.own.generate('me@example.org', { name: 'Me', days: 10 });
  const field = (await ac.headerFor('Me@Example.org'))!;
  assert.match(field, /^Autocrypt: addr=me@example.org; prefer-encrypt=mutual; keydata=/);
  const parsed = parseAutocryptHeader(field.slice('Autocrypt: '.length));
  assert.ok(parsed.ok);
  const key = await openpgp.readKey({ binaryKey: parsed.header.keydata });
  assert.equal(key.getFingerprint().toUpperCase(), rec.fingerprint);
  assert.equal(key.toPacketList().length, 5);
  const oldExp = ((await key.getExpirationTime()) as Date).getTime();
  await keyring.own.renew('me@example.org', { mode: 'extend', days: 365 });
  const p2 = parseAutocryptHeader((await ac.headerFor('me@example.org'))!.slice(11));
  assert.ok(p2.ok);
  const k2 = await openpgp.readKey({ binaryKey: p2.header.keydata });
  assert.ok(((await k2.getExpirationTime()) as Date).getTime() > oldExp + 300 * DAY);
  const rot = await keyring.own.renew('me@example.org', { mode: 'rotate' });
  const p3 = parseAutocryptHeader((await ac.headerFor('me@example.org'))!.slice(11));
  assert.ok(p3.ok);
  assert.equal(
    (await openpgp.readKey({ binaryKey: p3.header.keydata })).getFingerprint().toUpperCase(),
    rot.fingerprint,
  );
});

test('incoming headers fill peer state and the keyring; a changed key is flagged, not swapped', async () => {
  const { ac, keyring, events, time } = setup();
  await keyring.own.generate('me@example.org');
  const bob1 = await makeKey('bob@example.org');
  const r1 = await ac.processIncoming({
    from: ['Bob <bob@example.org>'],
    contentType: 'text/plain',
    date: time() - DAY,
    receivedAt: time(),
    autocryptHeaders: [await headerOf('bob@example.org', bob1.publicKey, 'mutual')],
  });
  assert.equal(r1.keyRecorded, 'added');
  assert.equal(ac.peer('bob@example.org')!.preferEncrypt, 'mutual');
  assert.equal((await ac.recommend('bob@example.org', { fromEmail: 'me@example.org' })).final, 'encrypt');
  const bob2 = await makeKey('bob@example.org');
  const r2 = await ac.processIncoming({
    from: ['bob@example.org'],
    contentType: 'multipart/mixed',
    date: time(),
    receivedAt: time(),
    autocryptHeaders: [await headerOf('bob@example.org', bob2.publicKey)],
  });
  assert.equal(r2.keyRecorded, 'flagged');
  assert.equal(events.filter((e) => e.type === 'key-change').length, 1);
  assert.equal(
    (await keyring.contacts.encryptionKeyFor('bob@example.org'))!.record.fingerprint,
    bob1.publicKey.getFingerprint().toUpperCase(),
  );
  // an invalid keydata is treated as no header (last_seen only)
  const r3 = await ac.processIncoming({
    from: ['bob@example.org'],
    contentType: 'text/plain',
    date: time() + 1000,
    receivedAt: time() + 2000,
    autocryptHeaders: ['addr=bob@example.org; keydata=AAAA'],
  });
  assert.equal(r3.keyRecorded, null);
  assert.ok(r3.problems.includes('keydata is not an OpenPGP key'));
});

test('gossip from an encrypted message records keys for To/Cc recipients only; recommendation discourage', async () => {
  const { ac, keyring, time } = setup();
  await keyring.own.generate('me@example.org');
  const carol = await makeKey('carol@example.org');
  const mallory = await makeKey('mallory@example.org');
  const updated = await ac.processGossip(
    [
      await headerOf('carol@example.org', carol.publicKey),
      await headerOf('mallory@example.org', mallory.publicKey),
    ],
    ['me@example.org', 'carol@example.org'],
    time(),
    time(),
  );
  assert.deepEqual(updated, ['carol@example.org']);
  assert.equal((await keyring.contacts.encryptionKeyFor('carol@example.org'))!.record.source, 'gossip');
  assert.equal(await keyring.contacts.encryptionKeyFor('mallory@example.org'), null);
  assert.equal(
    (await ac.recommend('carol@example.org', { fromEmail: 'me@example.org' })).final,
    'discourage',
  );
  const all = await ac.recommendAll(['carol@example.org', 'nobody@example.org'], {
    fromEmail: 'me@example.org',
  });
  assert.equal(all.combined, 'disable');
});

test('a revoked Autocrypt key gives disable', async () => {
  const { ac, time } = setup();
  const dave = await makeKey('dave@example.org', { revoked: true });
  await ac.processIncoming({
    from: ['dave@example.org'],
    contentType: 'text/plain',
    date: time(),
    receivedAt: time(),
    autocryptHeaders: [
      formatAutocryptValue({
        addr: 'dave@example.org',
        keydata: dave.publicKey.write(),
        preferEncrypt: 'mutual',
      }),
    ],
  });
  assert.ok(ac.peer('dave@example.org')!.publicKey);
  assert.equal((await ac.recommend('dave@example.org', { fromEmail: 'me@example.org' })).final, 'disable');
});
