import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import type { KeyringEvent } from '../../../app/keys/types.ts';
import { makeKey } from './pgp-helpers.ts';

const DAY = 86_400_000;

function setup() {
  const events: KeyringEvent[] = [];
  const repo = new InMemoryKeyringRepo();
  let offset = 0;
  const now = () => Date.now() + offset;
  const kr = new Keyring({ repo, onEvent: (e) => events.push(e), now });
  return { kr, repo, events, advance: (ms: number) => (offset += ms), time: now };
}

test('generate: v4 EdDSA + ECDH curve25519Legacy key with <addr> UID, revocation cert, needs backup', async () => {
  const { kr, events } = setup();
  const rec = await kr.own.generate('Alice@Example.ORG', { name: 'Alice' });
  assert.equal(rec.email, 'alice@example.org');
  const key = await openpgp.readPrivateKey({ armoredKey: rec.armoredSecret });
  assert.equal(key.keyPacket.version, 4);
  assert.equal(key.getAlgorithmInfo().algorithm, 'eddsaLegacy');
  assert.equal(key.subkeys.length, 1);
  assert.equal(key.subkeys[0]!.getAlgorithmInfo().algorithm, 'ecdh');
  assert.equal(key.subkeys[0]!.getAlgorithmInfo().curve, 'curve25519Legacy');
  assert.deepEqual(key.getUserIDs(), ['Alice <alice@example.org>']);
  assert.ok(key.isDecrypted());
  assert.match(rec.revocationCert, /BEGIN PGP PUBLIC KEY BLOCK/);
  assert.ok(rec.expiresAt! > Date.now() + 700 * DAY);
  // the revocation certificate really revokes this key
  const revoked = await openpgp.revokeKey({
    key: key.toPublic(),
    revocationCertificate: rec.revocationCert,
    format: 'object',
  });
  assert.equal(await revoked.publicKey.isRevoked(), true);
  assert.equal(kr.own.needsBackup('alice@example.org'), true);
  assert.equal(kr.listKeys()[0]!.needsBackup, true);
  assert.ok(events.some((e) => e.type === 'backup-needed'));
  await assert.rejects(kr.own.generate('alice@example.org'), /already has a key/);
});

test('backup: public export does not count, secret export (AES-256 iterated S2K) does', async () => {
  const { kr } = setup();
  const rec = await kr.own.generate('a@example.org');
  const pub = kr.own.exportPublic('a@example.org');
  assert.match(pub, /BEGIN PGP PUBLIC KEY BLOCK/);
  assert.equal(kr.own.needsBackup('a@example.org'), true);
  const armored = await kr.own.exportSecret('a@example.org', { passphrase: 'correct horse' });
  assert.equal(kr.own.needsBackup('a@example.org'), false);
  const exported = await openpgp.readPrivateKey({ armoredKey: armored });
  assert.equal(exported.isDecrypted(), false);
  const pkt = exported.keyPacket as unknown as { s2k: { type: string }; symmetric: number; s2kUsage: number };
  assert.equal(pkt.s2k.type, 'iterated');
  assert.equal(pkt.symmetric, openpgp.enums.symmetric.aes256);
  assert.equal(pkt.s2kUsage, 254);
  const dec = await openpgp.decryptKey({ privateKey: exported, passphrase: 'correct horse' });
  assert.equal(dec.getFingerprint().toUpperCase(), rec.fingerprint);
});

test('import secret key on a second keyring: becomes active own key, counts as backed up', async () => {
  const a = setup();
  await a.kr.own.generate('me@example.org');
  const armored = await a.kr.own.exportSecret('me@example.org', { passphrase: 'pw' });
  const b = setup();
  await assert.rejects(b.kr.importKeys(armored), /passphrase/);
  await assert.rejects(b.kr.importKeys(armored, { passphrase: 'nope' }), /wrong passphrase/);
  const res = await b.kr.importKeys(armored, { passphrase: 'pw' });
  assert.equal(res[0]!.own, true);
  assert.equal(
    b.kr.own.active('me@example.org')!.fingerprint,
    a.kr.own.active('me@example.org')!.fingerprint,
  );
  assert.equal(b.kr.own.needsBackup('me@example.org'), false);
});

test('renew: extend keeps the fingerprint and moves expiry; rotate retires the old key', async () => {
  const { kr, advance, events } = setup();
  const rec = await kr.own.generate('r@example.org', { days: 40 });
  assert.equal(await kr.own.renewIfExpiring('r@example.org', { withinDays: 30 }), null);
  advance(20 * DAY);
  const ext = await kr.own.renewIfExpiring('r@example.org', { withinDays: 30, days: 365 });
  assert.ok(ext);
  assert.equal(ext.fingerprint, rec.fingerprint);
  const key = await openpgp.readKey({ armoredKey: ext.armoredPublic });
  const exp = (await key.getExpirationTime()) as Date;
  assert.ok(exp.getTime() > rec.expiresAt! + 300 * DAY);
  assert.ok(events.some((e) => e.type === 'own-key' && e.action === 'renewed'));
  const rot = await kr.own.renew('r@example.org', { mode: 'rotate' });
  assert.notEqual(rot.fingerprint, rec.fingerprint);
  assert.equal(kr.own.active('r@example.org')!.fingerprint, rot.fingerprint);
  assert.equal(
    kr.own.list('r@example.org').find((k) => k.fingerprint === rec.fingerprint)!.status,
    'retired',
  );
  assert.equal((await kr.own.allPrivateKeys()).length, 2);
});

test('contacts: a new key for a known contact is flagged, never swapped silently', async () => {
  const { kr, events } = setup();
  const k1 = await makeKey('bob@example.org');
  const k2 = await makeKey('bob@example.org');
  const r1 = await kr.contacts.record('bob@example.org', k1.publicKey, 'autocrypt');
  assert.equal(r1.result, 'added');
  const r2 = await kr.contacts.record('Bob@Example.org', k2.publicKey, 'wkd');
  assert.equal(r2.result, 'flagged');
  const warnings = kr.keyWarnings();
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.oldFingerprint, k1.publicKey.getFingerprint().toUpperCase());
  assert.equal(warnings[0]!.newFingerprint, k2.publicKey.getFingerprint().toUpperCase());
  assert.equal(warnings[0]!.source, 'wkd');
  assert.equal(events.filter((e) => e.type === 'key-change').length, 1);
  // the old key is still the one used
  const use = await kr.contacts.encryptionKeyFor('bob@example.org');
  assert.equal(use!.record.fingerprint, k1.publicKey.getFingerprint().toUpperCase());
  // seeing the new key again does not raise a second warning
  assert.equal((await kr.contacts.record('bob@example.org', k2.publicKey, 'autocrypt')).result, 'updated');
  assert.equal(kr.keyWarnings().length, 1);
  // accepting switches and marks it verified
  kr.acceptKeyChange(warnings[0]!.id);
  const use2 = await kr.contacts.encryptionKeyFor('bob@example.org');
  assert.equal(use2!.record.fingerprint, k2.publicKey.getFingerprint().toUpperCase());
  assert.equal(use2!.record.trust, 'verified');
  assert.equal(kr.keyWarnings().length, 0);
  assert.throws(() => kr.acceptKeyChange(warnings[0]!.id), /already/);
});

test('contacts: rejected key change keeps the old key', async () => {
  const { kr } = setup();
  const k1 = await makeKey('c@example.org');
  const k2 = await makeKey('c@example.org');
  await kr.contacts.record('c@example.org', k1.publicKey, 'manual');
  const r = await kr.contacts.record('c@example.org', k2.publicKey, 'gossip');
  assert.equal(r.result, 'flagged');
  kr.rejectKeyChange(kr.keyWarnings()[0]!.id);
  assert.equal(
    (await kr.contacts.encryptionKeyFor('c@example.org'))!.record.fingerprint,
    k1.publicKey.getFingerprint().toUpperCase(),
  );
  assert.equal(kr.listKeys().length, 1);
});

test('contacts: expired or revoked keys are never returned for encryption', async () => {
  const { kr } = setup();
  const expired = await makeKey('old@example.org', { createdDaysAgo: 10, lifetimeDays: 1 });
  const r = await kr.contacts.record('old@example.org', expired.publicKey, 'manual');
  assert.equal(r.result, 'ignored');
  assert.equal(await kr.contacts.encryptionKeyFor('old@example.org'), null);

  const revoked = await makeKey('rev@example.org', { revoked: true });
  await kr.contacts.record('rev@example.org', revoked.publicKey, 'vks');
  assert.equal(await kr.contacts.encryptionKeyFor('rev@example.org'), null);

  const signOnly = await makeKey('sig@example.org', { signOnly: true });
  await kr.contacts.record('sig@example.org', signOnly.publicKey, 'manual');
  assert.equal(await kr.contacts.encryptionKeyFor('sig@example.org'), null);
});

test('contacts: a key that expires later is not used after its expiry; a revocation update disables a key', async () => {
  const { kr, advance } = setup();
  const k = await makeKey('d@example.org', { lifetimeDays: 5 });
  await kr.contacts.record('d@example.org', k.publicKey, 'autocrypt');
  assert.ok(await kr.contacts.encryptionKeyFor('d@example.org'));
  advance(6 * DAY);
  assert.equal(await kr.contacts.encryptionKeyFor('d@example.org'), null);

  const k2 = await makeKey('e@example.org');
  await kr.contacts.record('e@example.org', k2.publicKey, 'wkd');
  assert.ok(await kr.contacts.encryptionKeyFor('e@example.org'));
  const rev = await openpgp.revokeKey({ key: k2.privateKey, format: 'object' });
  const upd = await kr.contacts.record('e@example.org', rev.publicKey, 'wkd');
  assert.equal(upd.result, 'updated');
  assert.equal(upd.record.revoked, true);
  assert.equal(await kr.contacts.encryptionKeyFor('e@example.org'), null);
});

test('contacts: when the old key is revoked, a new key replaces it without a pending warning', async () => {
  const { kr } = setup();
  const k1 = await makeKey('f@example.org');
  await kr.contacts.record('f@example.org', k1.publicKey, 'autocrypt');
  const rev = await openpgp.revokeKey({ key: k1.privateKey, format: 'object' });
  await kr.contacts.record('f@example.org', rev.publicKey, 'autocrypt');
  const k2 = await makeKey('f@example.org');
  const r = await kr.contacts.record('f@example.org', k2.publicKey, 'autocrypt');
  assert.equal(r.result, 'replaced');
  assert.equal(kr.keyWarnings().length, 0);
  assert.equal(
    (await kr.contacts.encryptionKeyFor('f@example.org'))!.record.fingerprint,
    k2.publicKey.getFingerprint().toUpperCase(),
  );
});

test('contacts: a pending key is promoted once the active key has expired', async () => {
  const { kr, advance } = setup();
  const k1 = await makeKey('g@example.org', { lifetimeDays: 3 });
  const k2 = await makeKey('g@example.org');
  await kr.contacts.record('g@example.org', k1.publicKey, 'autocrypt');
  assert.equal((await kr.contacts.record('g@example.org', k2.publicKey, 'autocrypt')).result, 'flagged');
  assert.equal(
    (await kr.contacts.encryptionKeyFor('g@example.org'))!.record.fingerprint,
    k1.publicKey.getFingerprint().toUpperCase(),
  );
  advance(4 * DAY);
  assert.equal(
    (await kr.contacts.encryptionKeyFor('g@example.org'))!.record.fingerprint,
    k2.publicKey.getFingerprint().toUpperCase(),
  );
  assert.equal(kr.keyWarnings().length, 0);
});

test('import public keys: recorded for every UID address, manual import replaces at once', async () => {
  const { kr } = setup();
  const k = await makeKey('h@example.org', { extraUids: ['H2@Example.org'] });
  const res = await kr.importKeys(k.armoredPublic);
  assert.deepEqual(res[0]!.emails, ['h@example.org', 'h2@example.org']);
  assert.ok(await kr.contacts.encryptionKeyFor('h2@example.org'));
  const k2 = await makeKey('h@example.org');
  const res2 = await kr.importKeys(k2.armoredPublic);
  assert.equal(res2[0]!.outcomes[0]!.result, 'replaced');
  await assert.rejects(kr.importKeys('garbage'), /not a readable OpenPGP key/);
  kr.contacts.setTrust(k2.publicKey.getFingerprint(), 'verified');
  assert.equal(
    kr.listKeys().find((s) => s.fingerprint === k2.publicKey.getFingerprint().toUpperCase())!.trust,
    'verified',
  );
});

test('concurrent sightings of two keys for a new contact: exactly one becomes active, the other is flagged', async () => {
  const { kr } = setup();
  const k1 = await makeKey('race@example.org');
  const k2 = await makeKey('race@example.org');
  const [a, b] = await Promise.all([
    kr.contacts.record('race@example.org', k1.publicKey, 'autocrypt'),
    kr.contacts.record('race@example.org', k2.publicKey, 'wkd'),
  ]);
  assert.deepEqual([a.result, b.result].sort(), ['added', 'flagged']);
  const recs = kr.listKeys().filter((x) => x.email === 'race@example.org');
  assert.equal(recs.length, 2);
  assert.equal(kr.keyWarnings().length, 1);
});
