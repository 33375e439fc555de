import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { generateSetupCode, normalizeSetupCode } from '../../../app/keys/autocrypt/setup-code.ts';
import {
  decryptSetupPayload,
  importSetupMessage,
  parseSetupMessage,
} from '../../../app/keys/autocrypt/setup-message.ts';
import { createSetupMessage } from '../../../app/outgoing/setup-message.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';

const SPEC_CODE = '1742-0185-6197-1303-7016-8412-3581-4441-0597';
const specAsm = readFileSync(
  new URL('../../fixtures/keys/example-setup-message.eml', import.meta.url),
  'utf8',
);
const tmp = mkdtempSync(join(tmpdir(), 'lb-asm-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function gpg(home: string, args: string[], input?: string): string {
  return execFileSync(
    'gpg',
    ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args],
    {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
}
function gpgHome(name: string): string {
  const h = join(tmp, name);
  execFileSync('mkdir', ['-m', '700', '-p', h]);
  return h;
}

const newKeyring = () => new Keyring({ repo: new InMemoryKeyringRepo() });

test('setup codes: 36 digits in 9 blocks of 4, normalization of typed codes', () => {
  const c = generateSetupCode();
  assert.match(c, /^\d{4}(-\d{4}){8}$/);
  assert.notEqual(generateSetupCode(), c);
  assert.equal(normalizeSetupCode(c.replace(/-/g, ' ')), c);
  assert.equal(normalizeSetupCode('short'), 'short');
});

test("the spec's example Setup Message (gpg --symmetric, AES-128) imports with its code", async () => {
  const parsed = parseSetupMessage(specAsm);
  assert.equal(parsed.passphraseFormat, 'numeric9x4');
  assert.equal(parsed.passphraseBegin, '17');
  const kr = newKeyring();
  await assert.rejects(
    importSetupMessage(kr, specAsm, '1111-2222-3333-4444-5555-6666-7777-8888-9999'),
    /Setup Code does not open/,
  );
  const rec = await importSetupMessage(kr, specAsm, SPEC_CODE.replace(/-/g, ''));
  assert.equal(rec.email, 'alice@autocrypt.example');
  assert.equal(rec.fingerprint, 'EB85BB5FA33A75E15E944E63F231550C4F47E38E');
  assert.equal(rec.preferEncrypt, 'mutual');
  assert.equal(kr.own.active('alice@autocrypt.example')!.fingerprint, rec.fingerprint);
});

test('a created Setup Message has the Level 1 shape and round-trips to a second device', async () => {
  const a = newKeyring();
  const mine = await a.own.generate('me@example.org');
  assert.equal(a.own.needsBackup('me@example.org'), true);
  const asm = await createSetupMessage(a, 'me@example.org');
  assert.equal(a.own.needsBackup('me@example.org'), false);
  assert.match(asm.setupCode, /^\d{4}(-\d{4}){8}$/);
  assert.match(asm.raw, /\r\nAutocrypt-Setup-Message: v1\r\n/);
  assert.match(asm.raw, /^From: <me@example.org>\r\nTo: <me@example.org>\r\n/);
  assert.match(asm.raw, /Content-Type: multipart\/mixed; boundary="/);
  assert.match(
    asm.raw,
    /Content-Type: application\/autocrypt-setup\r\nContent-Disposition: attachment; filename="autocrypt-setup-message.html"/,
  );
  assert.ok(!asm.raw.includes(asm.setupCode), 'the setup code never travels in the message');
  assert.match(
    asm.armored,
    new RegExp(
      `^-----BEGIN PGP MESSAGE-----\\nPassphrase-Format: numeric9x4\\nPassphrase-Begin: ${asm.setupCode.slice(0, 2)}\\n`,
    ),
  );
  // SKESK v4 with iterated S2K and AES-256, then SEIPD v1 (no AEAD)
  const msg = await openpgp.readMessage({ armoredMessage: asm.armored });
  const [skesk, seipd] = msg.packets as unknown as [
    {
      constructor: { tag: number };
      version: number;
      sessionKeyEncryptionAlgorithm: number;
      s2k: { type: string };
    },
    { constructor: { tag: number }; version: number },
  ];
  assert.equal(skesk.constructor.tag, openpgp.enums.packet.symEncryptedSessionKey);
  assert.equal(skesk.version, 4);
  assert.equal(skesk.s2k.type, 'iterated');
  assert.equal(skesk.sessionKeyEncryptionAlgorithm, openpgp.enums.symmetric.aes256);
  assert.equal(seipd.constructor.tag, openpgp.enums.packet.symEncryptedIntegrityProtectedData);
  assert.equal(seipd.version, 1);
  const inner = await decryptSetupPayload(asm.armored, asm.setupCode);
  assert.match(
    inner.armoredKey,
    /^-----BEGIN PGP PRIVATE KEY BLOCK-----\nAutocrypt-Prefer-Encrypt: mutual\n/,
  );

  const b = newKeyring();
  const rec = await importSetupMessage(b, asm.raw, asm.setupCode);
  assert.equal(rec.fingerprint, mine.fingerprint);
  assert.equal(b.own.needsBackup('me@example.org'), false);
  // device B can now decrypt mail encrypted to the key from device A
  const enc = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'hello B' }),
    encryptionKeys: await openpgp.readKey({ armoredKey: mine.armoredPublic }),
  });
  const dec = await openpgp.decrypt({
    message: await openpgp.readMessage({ armoredMessage: enc }),
    decryptionKeys: await b.own.privateKey(rec),
  });
  assert.equal(dec.data, 'hello B');
});

test('GnuPG 2.2 decrypts a created Setup Message with the code and imports the key', async () => {
  const a = newKeyring();
  const mine = await a.own.generate('gpguser@example.org');
  const asm = await createSetupMessage(a, 'gpguser@example.org');
  const home = gpgHome('g1');
  const file = join(tmp, 'asm.asc');
  writeFileSync(file, asm.armored);
  const keyText = gpg(home, ['--passphrase', asm.setupCode, '--decrypt', file]);
  assert.match(keyText, /BEGIN PGP PRIVATE KEY BLOCK/);
  assert.throws(() =>
    gpg(home, ['--passphrase', '0000-0000-0000-0000-0000-0000-0000-0000-0000', '--decrypt', file]),
  );
  gpg(home, ['--import'], keyText);
  const listing = gpg(home, ['--with-colons', '--list-secret-keys']);
  assert.match(listing, new RegExp(`^fpr:+${mine.fingerprint}:`, 'm'));
  assert.match(listing, /gpguser@example.org/);
});

test('a Setup Message made by gpg --symmetric (AES-256, iterated S2K) imports', async () => {
  const a = newKeyring();
  const mine = await a.own.generate('sym@example.org');
  const keyArmored = await a.own.armoredSecret(mine);
  const home = gpgHome('g2');
  const code = generateSetupCode();
  const enc = gpg(
    home,
    ['--passphrase', code, '--symmetric', '--armor', '--cipher-algo', 'AES256', '--s2k-mode', '3'],
    keyArmored,
  );
  const b = newKeyring();
  const rec = await importSetupMessage(b, enc, code);
  assert.equal(rec.fingerprint, mine.fingerprint);
});

test('refuses a Setup Message with another version or without payload', () => {
  assert.throws(
    () => parseSetupMessage('Autocrypt-Setup-Message: v2\r\nContent-Type: text/plain\r\n\r\nx'),
    /unsupported/,
  );
  assert.throws(() => parseSetupMessage('Subject: x\r\n\r\nnothing here'), /no encrypted key/);
});

test('finds the setup attachment at any depth, whatever comes before it (RFC 2045 Content-Type comments)', () => {
  const spec = parseSetupMessage(specAsm);
  const html = `<html><body><pre>\r\n${spec.armored.replace(/\n/g, '\r\n')}</pre></body></html>\r\n`;
  const b64 = Buffer.from(html).toString('base64').replace(/.{76}/g, '$&\r\n');
  const msg = [
    'From: <a@x.org>',
    'Autocrypt-Setup-Message: v1',
    'Content-Type: multipart/mixed (wrapped by a forwarder); boundary="outer"',
    '',
    '--outer',
    'Content-Type: text/plain',
    '',
    'not this one:',
    '-----BEGIN PGP MESSAGE-----',
    '',
    'AAAA',
    '-----END PGP MESSAGE-----',
    '--outer',
    'Content-Type: multipart/mixed; boundary="inner"',
    '',
    '--inner',
    'Content-Type: application/autocrypt-setup',
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '--inner--',
    '--outer--',
    '',
  ].join('\r\n');
  const parsed = parseSetupMessage(msg);
  assert.equal(parsed.armored.replace(/\r\n/g, '\n'), spec.armored.replace(/\r\n/g, '\n'));
  assert.equal(parsed.passphraseBegin, spec.passphraseBegin);
});
