// The CLI's messages and exit codes for bad input (contract: 0 ok, 1 user error, 2 bad usage).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempHome } from '../../helpers/cli.ts';

const home = tempHome();
after(() => home.cleanup());
const PASS = {
  LOCKBRIDGE_PASSPHRASE: 'correct horse battery',
  LOCKBRIDGE_LOCAL_PASSWORD: 'local-password-123',
};

test('--help works for the command and every subcommand', () => {
  const main = cli(['--help']);
  assert.equal(main.status, 0);
  assert.match(main.stdout, /usage: lockbridge/);
  for (const c of ['init', 'account', 'keys', 'import', 'serve', 'credentials', 'status']) {
    const r = cli([c, '--help']);
    assert.equal(r.status, 0, `${c} --help`);
    assert.match(r.stdout, new RegExp(`usage: lockbridge ${c}`));
  }
});

test('no command and an unknown command are usage errors (exit 2)', () => {
  assert.equal(cli([]).status, 2);
  const r = cli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('a command before init says there is no store (exit 1, one line)', () => {
  const r = cli(['--home', home.dir, 'status'], PASS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no Lockbridge store in .* \(run 'lockbridge init' first\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('init without a passphrase and without a terminal is a clear error', () => {
  const r = cli(['--home', home.dir, 'init'], {});
  assert.equal(r.status, 1);
  assert.match(r.stderr, /LOCKBRIDGE_PASSPHRASE/);
});

test('init creates the store (0700 dir) and refuses to overwrite it', () => {
  const r = cli(['--home', home.dir, 'init'], PASS);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /local-password-123/);
  assert.equal(statSync(home.dir).mode & 0o777, 0o700);
  const again = cli(['--home', home.dir, 'init'], PASS);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already exists/);
});

test('a wrong passphrase is one line, exit 1, and changes nothing on disk', () => {
  const snapshot = () =>
    Object.fromEntries(
      readdirSync(home.dir)
        .filter((f) => !f.startsWith('logs'))
        .map((f) => [
          f,
          statSync(join(home.dir, f)).isFile() ? readFileSync(join(home.dir, f)).toString('base64') : 'dir',
        ]),
    );
  const before = snapshot();
  const r = cli(['--home', home.dir, 'credentials'], { LOCKBRIDGE_PASSPHRASE: 'wrong passphrase' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /passphrase/i);
  assert.deepEqual(snapshot(), before);
});

test('the right passphrase shows the credentials', () => {
  const r = cli(['--home', home.dir, 'credentials', '--json'], PASS);
  assert.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.password, 'local-password-123');
  assert.equal(c.host, '127.0.0.1');
  assert.match(c.caPem, /BEGIN CERTIFICATE/);
});

test('account add: missing arguments and a bad HOST:PORT are usage errors', () => {
  const missing = cli(['--home', home.dir, 'account', 'add', '--email', 'a@example.test'], PASS);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing --imap/);
  const bad = cli(
    [
      '--home',
      home.dir,
      'account',
      'add',
      '--email',
      'a@example.test',
      '--imap',
      'imap.example.test',
      '--smtp',
      'x:25',
    ],
    PASS,
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--imap must be HOST:PORT/);
  const port = cli(
    [
      '--home',
      home.dir,
      'account',
      'add',
      '--email',
      'a@example.test',
      '--imap',
      'h:99999',
      '--smtp',
      'x:25',
    ],
    PASS,
  );
  assert.equal(port.status, 2);
  const sec = cli(
    [
      '--home',
      home.dir,
      'account',
      'add',
      '--email',
      'a@example.test',
      '--imap',
      'h:993',
      '--smtp',
      'x:25',
      '--security',
      'ssl3',
    ],
    PASS,
  );
  assert.equal(sec.status, 2);
  assert.match(sec.stderr, /--security must be/);
});

test('unknown flags and extra arguments are usage errors', () => {
  assert.equal(cli(['--home', home.dir, 'status', '--frob'], PASS).status, 2);
  assert.equal(cli(['--home', home.dir, 'credentials', 'extra'], PASS).status, 2);
  assert.equal(cli(['--home', home.dir, 'serve', '--imap-port', 'abc'], PASS).status, 2);
});

test('import of a missing file is a clear error', () => {
  const r = cli(['--home', home.dir, 'import', '--account', 'nobody@example.test', '/nonexistent.eml'], PASS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /account nobody@example.test not found|no such file/);
});
