/**
 * Issue 14 item 3: passphrase-protected secret keys, as gpg and Thunderbird export them, import
 * through the real CLI — from a passphrase file, from a prompt on a terminal (a real pty via
 * script(1)), and through a running bridge's control API (the `passphrase` argument, and the
 * `passphrase-required` / `bad-passphrase` codes the UI asks on). The key is unlocked and kept
 * under the store's encryption: it exports without the old passphrase and still decrypts what gpg
 * encrypted to it. The passphrase appears in no file of the data directory and in no output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { CLI, cli, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';
import { GpgHome, run } from '../../helpers/crypto/gpg.ts';
import { assertNoSecrets } from '../../helpers/no-secrets.ts';
import { callControl, findRunningBridge } from '../../../app/control/http/client.ts';
import { pathsFor } from '../../../app/config/paths.ts';
import type { KeySummary } from '../../../app/control/contract.ts';
import { UserError } from '../../../app/shared/errors.ts';

const home = tempHome('lb-protected-import-');
const env = { LOCKBRIDGE_PASSPHRASE: 'store passphrase 1', LOCKBRIDGE_LOCAL_PASSWORD: 'local-pw-protected' };
const GPG_PASS = 'gpg Secret 7!x';
const TB_PASS = 'thunderbird Secret 9?y';
const PTY_PASS = 'typed at a terminal 3#z';
let sender: GpgHome;
let gpgFile = '';
let gpgFpr = '';
let tbArmored = '';
let tbFpr = '';
let ptyFile = '';
let ptyFpr = '';
let bridge: ServeHandle | null = null;

/** A protected key made by real gpg (`--pinentry-mode loopback --passphrase`), exported protected. */
function gpgProtectedKey(g: GpgHome, uid: string, pass: string): { armored: string; fpr: string } {
  const base = [
    '--homedir',
    g.dir,
    '--batch',
    '--no-tty',
    '--pinentry-mode',
    'loopback',
    '--passphrase',
    pass,
  ];
  let r = run('gpg', [...base, '--quick-gen-key', uid, 'ed25519', 'cert,sign', 'never']);
  assert.equal(r.status, 0, r.stderr);
  const fpr = g.fingerprint(uid);
  r = run('gpg', [...base, '--quick-add-key', fpr, 'cv25519', 'encr', 'never']);
  assert.equal(r.status, 0, r.stderr);
  r = run('gpg', [...base, '--armor', '--export-secret-keys', fpr]);
  assert.equal(r.status, 0, r.stderr);
  return { armored: r.stdout.toString(), fpr };
}

before(async () => {
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  sender = new GpgHome();
  const k = gpgProtectedKey(sender, 'Pat <pat@example.test>', GPG_PASS);
  gpgFpr = k.fpr;
  gpgFile = join(home.dir, '..', `pat-sec-${process.pid}.asc`);
  writeFileSync(gpgFile, k.armored);
  assert.match(
    sender.gpg(['--list-packets'], k.armored).stdout.toString(),
    /protected/,
    'gpg exported it protected',
  );
  const p = gpgProtectedKey(sender, 'Pty <pty@example.test>', PTY_PASS);
  ptyFpr = p.fpr;
  ptyFile = join(home.dir, '..', `pty-sec-${process.pid}.asc`);
  writeFileSync(ptyFile, p.armored);
  // Thunderbird (RNP) exports secret keys protected with AES-256 and an iterated+salted S2K
  const tb = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Thea', email: 'thea@example.test' }],
    passphrase: TB_PASS,
    format: 'object',
    config: {
      v6Keys: false,
      aeadProtect: false,
      s2kType: openpgp.enums.s2k.iterated,
      preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
    },
  });
  assert.equal(tb.privateKey.isDecrypted(), false);
  tbArmored = tb.privateKey.armor();
  tbFpr = tb.privateKey.getFingerprint().toUpperCase();
});

after(async () => {
  await bridge?.stop('SIGKILL');
  sender.dispose();
  home.cleanup();
});

function ownKeys(): KeySummary[] {
  const r = cli(['--home', home.dir, 'keys', 'list', '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as KeySummary[]).filter((k) => k.own);
}

function passFile(name: string, content: string): string {
  const f = join(home.dir, '..', `${name}-${process.pid}`);
  writeFileSync(f, content, { mode: 0o600 });
  return f;
}

test('gpg-exported protected key: no passphrase and no terminal → clear error, nothing imported', () => {
  const r = cli(['--home', home.dir, 'keys', 'import', gpgFile], env);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /protected: a passphrase is needed/);
  assert.match(r.stderr, /--passphrase-file/);
  assert.deepEqual(ownKeys(), []);
});

test('gpg-exported protected key: a wrong passphrase file → clear error, nothing imported', () => {
  const r = cli(
    ['--home', home.dir, 'keys', 'import', gpgFile, '--passphrase-file', passFile('wrong', 'not it\n')],
    env,
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /wrong passphrase/);
  assert.deepEqual(ownKeys(), []);
});

test('gpg-exported protected key: --passphrase-file imports it, unlocked under the store; it decrypts gpg mail', () => {
  const r = cli(
    ['--home', home.dir, 'keys', 'import', gpgFile, '--passphrase-file', passFile('right', `${GPG_PASS}\n`)],
    env,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes(GPG_PASS) && !r.stderr.includes(GPG_PASS));
  assert.deepEqual(
    ownKeys().map((k) => [k.email, k.fingerprint]),
    [['pat@example.test', gpgFpr]],
  );
  // exported without the old passphrase: the secret material was unlocked and stored whole
  const exp = cli(['--home', home.dir, 'keys', 'export', 'pat@example.test', '--secret'], env);
  assert.equal(exp.status, 0, exp.stderr);
  const fresh = new GpgHome();
  try {
    fresh.importKey(exp.stdout);
    const msg = sender.gpg(
      ['--armor', '--trust-model', 'always', '--recipient', gpgFpr, '--encrypt'],
      'for pat\n',
    );
    assert.equal(msg.status, 0, msg.stderr);
    const dec = fresh.gpg(['--decrypt'], msg.stdout);
    assert.equal(dec.status, 0, dec.stderr);
    assert.equal(dec.stdout.toString(), 'for pat\n');
  } finally {
    fresh.dispose();
  }
});

test('through a running bridge: the control API answers passphrase-required / bad-passphrase, and takes the passphrase', async () => {
  bridge = await serve(
    home.dir,
    ['--offline', '--imap-port', '0', '--smtp-port', '0', '--control-port', '0'],
    env,
  );
  const ep = findRunningBridge(pathsFor(home.dir));
  assert.ok(ep);
  await assert.rejects(
    callControl(ep, 'importKey', tbArmored),
    (e: unknown) => e instanceof UserError && e.code === 'passphrase-required',
  );
  await assert.rejects(
    callControl(ep, 'importKey', tbArmored, 'wrong'),
    (e: unknown) => e instanceof UserError && e.code === 'bad-passphrase',
  );
  assert.ok(!ownKeys().some((k) => k.fingerprint === tbFpr));
  // the CLI goes through the same API while the bridge serves
  const r = cli(
    [
      '--home',
      home.dir,
      'keys',
      'import',
      passFile('tb-key.asc', tbArmored),
      '--passphrase-file',
      passFile('tb', TB_PASS),
    ],
    env,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(ownKeys().some((k) => k.fingerprint === tbFpr && k.email === 'thea@example.test'));
});

test('on a terminal the CLI asks for the passphrase (no echo) and imports', async () => {
  // script(1) gives the CLI a real pty; the passphrase is typed once the prompt shows
  const cmd = `${process.execPath} ${CLI} --home ${home.dir} keys import ${ptyFile}`;
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let typed = false;
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!typed && /Passphrase of the secret key/.test(out)) {
        typed = true;
        child.stdin.write(`${PTY_PASS}\r`);
      }
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 0, out);
  assert.ok(typed, out);
  assert.ok(!out.includes(PTY_PASS), 'the passphrase is not echoed: ' + JSON.stringify(out));
  assert.ok(ownKeys().some((k) => k.fingerprint === ptyFpr));
});

test('no passphrase is written anywhere in the data directory or the logs', async () => {
  await bridge?.stop('SIGTERM');
  const stderr = bridge?.stderr() ?? '';
  bridge = null;
  const files = assertNoSecrets({
    dirs: [home.dir],
    outputs: [stderr],
    secrets: [GPG_PASS, TB_PASS, PTY_PASS].map((value) => ({ what: 'passphrase', value })),
  });
  assert.ok(files.length > 0);
});
