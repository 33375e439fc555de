/**
 * The keyring over the REAL encrypted store (SQLCipher): same behaviour as the in-memory repo,
 * persisted across reopen, secrets never in plaintext on disk.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { formatAutocryptValue } from '../../../app/keys/autocrypt/header.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import type { KeyringEvent, KeyringRepo } from '../../../app/keys/types.ts';
import { StoreKeyringRepo } from '../../../app/store/repos/keyring.ts';
import type { Store } from '../../../app/store/store.ts';
import { makeKey } from '../../unit/keys/pgp-helpers.ts';
import { newStore, reopen } from '../../unit/store/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'lb-keyring-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('keyring on the real store: own keys, key-change warning, expiry/revocation, Autocrypt peers; persisted', async () => {
  let store: Store = await newStore(dir);
  const repo: KeyringRepo = new StoreKeyringRepo(store); // structural conformance to the port
  const events: KeyringEvent[] = [];
  let kr = new Keyring({ repo, onEvent: (e) => events.push(e) });
  const own = await kr.own.generate('me@example.org', { name: 'Me' });
  const bob1 = await makeKey('bob@example.org');
  const bob2 = await makeKey('bob@example.org');
  await kr.contacts.record('bob@example.org', bob1.publicKey, 'autocrypt');
  assert.equal((await kr.contacts.record('bob@example.org', bob2.publicKey, 'wkd')).result, 'flagged');
  assert.equal(events.filter((e) => e.type === 'key-change').length, 1);
  const revoked = await makeKey('rev@example.org', { revoked: true });
  await kr.importKeys(revoked.armoredPublic);
  const expired = await makeKey('exp@example.org', { createdDaysAgo: 5, lifetimeDays: 1 });
  await kr.importKeys(expired.armoredPublic);
  kr.setContactSettings('bob@example.org', { encrypt: 'always', sign: null });
  const ac = new AutocryptService({ repo, keyring: kr });
  const carol = await makeKey('carol@example.org');
  await ac.processIncoming({
    from: ['carol@example.org'],
    contentType: 'text/plain',
    date: Date.now() - 1000,
    receivedAt: Date.now(),
    autocryptHeaders: [
      formatAutocryptValue({
        addr: 'carol@example.org',
        preferEncrypt: 'mutual',
        keydata: carol.publicKey.write(),
      }),
    ],
  });
  // a failing transaction leaves nothing behind
  assert.throws(() =>
    repo.transaction(() => {
      repo.putContact({
        email: 'ghost@example.org',
        encrypt: 'never',
        sign: false,
        attachKey: false,
        createdAt: 1,
      });
      throw new Error('boom');
    }),
  );
  assert.equal(repo.getContact('ghost@example.org'), null);
  store.close();

  // secrets are not on disk in plaintext
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f));
    assert.equal(bytes.includes('PGP PRIVATE KEY'), false, f);
    assert.equal(bytes.includes('me@example.org'), false, f);
  }

  store = await reopen(dir);
  const repo2 = new StoreKeyringRepo(store);
  kr = new Keyring({ repo: repo2 });
  assert.equal(kr.own.active('me@example.org')!.fingerprint, own.fingerprint);
  assert.equal(kr.own.needsBackup('me@example.org'), true);
  const priv = await kr.own.privateKey(kr.own.active('me@example.org')!);
  assert.ok(priv.isDecrypted());
  const warnings = kr.keyWarnings();
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.newFingerprint, bob2.publicKey.getFingerprint().toUpperCase());
  assert.equal(
    (await kr.contacts.encryptionKeyFor('bob@example.org'))!.record.fingerprint,
    bob1.publicKey.getFingerprint().toUpperCase(),
  );
  assert.equal(await kr.contacts.encryptionKeyFor('rev@example.org'), null);
  assert.equal(await kr.contacts.encryptionKeyFor('exp@example.org'), null);
  assert.deepEqual(kr.getContact('bob@example.org'), {
    ...kr.getContact('bob@example.org')!,
    encrypt: 'always',
    sign: null,
    attachKey: null,
  });
  const peer = repo2.getPeer('carol@example.org')!;
  assert.equal(peer.preferEncrypt, 'mutual');
  assert.equal(
    (await openpgp.readKey({ binaryKey: peer.publicKey! })).getFingerprint(),
    carol.publicKey.getFingerprint(),
  );
  kr.acceptKeyChange(warnings[0]!.id);
  assert.equal(
    (await kr.contacts.encryptionKeyFor('bob@example.org'))!.record.fingerprint,
    bob2.publicKey.getFingerprint().toUpperCase(),
  );
  assert.equal(kr.keyWarnings().length, 0);
  await kr.own.exportSecret('me@example.org');
  assert.equal(kr.own.needsBackup('me@example.org'), false);
  store.close();
});
