import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { keysExport, keysGenerate, keysImport, keysList, keysShow } from '../../../app/keys/commands.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../../app/keys/memory-repo.ts';
import { makeKey } from './pgp-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lb-keys-cmd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
function gpg(home: string, args: string[], input?: string): string {
  return execFileSync(
    'gpg',
    [
      '--homedir',
      home,
      '--batch',
      '--no-tty',
      '--pinentry-mode',
      'loopback',
      '--trust-model',
      'always',
      ...args,
    ],
    {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
}

test('generate → list → show → export: data and printable text; backup flag clears on secret export', async () => {
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const g = await keysGenerate(kr, 'Me@Example.org', { name: 'Me' });
  assert.equal(g.data.email, 'me@example.org');
  assert.equal(g.data.needsBackup, true);
  assert.match(g.text, /Generated a key for me@example.org/);
  assert.match(g.text, /lockbridge keys export me@example.org --secret/);
  const l1 = keysList(kr);
  assert.equal(l1.data.keys.length, 1);
  assert.match(l1.text, /NOT BACKED UP/);
  const pub = await keysExport(kr, 'me@example.org');
  assert.match(pub.data, /BEGIN PGP PUBLIC KEY BLOCK/);
  assert.equal(kr.own.needsBackup('me@example.org'), true);
  const sec = await keysExport(kr, 'me@example.org', { secret: true, passphrase: 'backup pw' });
  assert.match(sec.data, /BEGIN PGP PRIVATE KEY BLOCK/);
  assert.equal(kr.own.needsBackup('me@example.org'), false);
  assert.doesNotMatch(keysList(kr).text, /NOT BACKED UP/);
  const show = await keysShow(kr, 'me@example.org');
  assert.equal(show.data.inUse, g.data.fingerprint);
  assert.match(show.text, /\(in use\)/);
  await assert.rejects(keysShow(kr, 'unknown@example.org'), /not found/);

  // GnuPG 2.2 imports the passphrase-protected export and decrypts mail encrypted to the key
  const home = join(tmp, 'g');
  mkdirSync(home, { mode: 0o700 });
  gpg(home, ['--passphrase', 'backup pw', '--import'], sec.data);
  const listing = gpg(home, ['--with-colons', '--list-secret-keys']);
  assert.match(listing, new RegExp(`fpr:+${g.data.fingerprint}:`));
  const enc = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'for gpg' }),
    encryptionKeys: await openpgp.readKey({ armoredKey: pub.data }),
  });
  const f = join(tmp, 'm.asc');
  writeFileSync(f, enc);
  assert.equal(gpg(home, ['--passphrase', 'backup pw', '--decrypt', f]), 'for gpg');
});

test('import of a gpg-made key (ed25519/cv25519) and a key change shown as a warning', async () => {
  const home = join(tmp, 'g2');
  mkdirSync(home, { mode: 0o700 });
  gpg(home, [
    '--passphrase',
    '',
    '--quick-gen-key',
    'Gina <gina@example.org>',
    'ed25519',
    'cert,sign',
    'never',
  ]);
  const fpr = /fpr:+([0-9A-F]{40}):/.exec(gpg(home, ['--with-colons', '--list-keys']))![1]!;
  gpg(home, ['--passphrase', '', '--quick-add-key', fpr, 'cv25519', 'encr', 'never']);
  const armored = gpg(home, ['--armor', '--export', fpr]);
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const imp = await keysImport(kr, armored);
  assert.equal(imp.data[0]!.fingerprint, fpr);
  assert.match(imp.text, /gina@example.org: added/);
  assert.ok(await kr.contacts.encryptionKeyFor('gina@example.org'));
  // a different key for gina arrives via WKD: flagged, shown in list and show
  const other = await makeKey('gina@example.org');
  await kr.contacts.record('gina@example.org', other.publicKey, 'wkd');
  const list = keysList(kr);
  assert.equal(list.data.warnings.length, 1);
  assert.match(list.text, new RegExp(`WARNING key change for gina@example.org: ${fpr} → `));
  const otherFpr = other.publicKey.getFingerprint().toUpperCase();
  assert.equal(list.data.keys.find((k) => k.fingerprint === otherFpr)?.use, 'pending');
  assert.equal(list.data.keys.find((k) => k.fingerprint === fpr)?.use, 'active');
  assert.match(list.text, new RegExp(`${otherFpr} .*pending: key change not accepted, not used`));
  const show = await keysShow(kr, 'gina@example.org');
  assert.equal(show.data.inUse, fpr);
  assert.match(show.text, /not used until accepted/);
  const exp = await keysExport(kr, 'gina@example.org');
  assert.equal((await openpgp.readKey({ armoredKey: exp.data })).getFingerprint().toUpperCase(), fpr);
  await assert.rejects(keysImport(kr, 'not a key'), /not a readable OpenPGP key/);
});
