// Issue 19, the S/MIME directory from the command line (real CLI, no bridge running): `certs
// directory` sets the LDAP directory with a bind DN and the password from a file, shows it (the
// password only as "kept"), refuses an address that is not ldap:// or ldaps://, and `--off`
// removes it; the password stands in no file of the data directory and in no output. `--ca-file`
// sets the CA an ldaps:// directory with an internal CA is checked against (kept when the directory
// is set again without it, forgotten with `--system-ca`; a file that is no certificate refused).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempHome } from '../../helpers/cli.ts';
import { assertNoSecrets } from '../../helpers/no-secrets.ts';
import { createTestCa } from '../../helpers/https-ca.ts';
import type { BridgeStatus } from '../../../app/control/contract.ts';

const home = tempHome('lb-certs-directory-');
const pwDir = tempHome('lb-certs-directory-pw-');
const env = { LOCKBRIDGE_PASSPHRASE: 'store passphrase dir', LOCKBRIDGE_LOCAL_PASSWORD: 'local-pw-dir' };
const lb = (args: string[]) => cli(['--home', home.dir, ...args], env);
const PASSWORD = 'directory-bind-secret-7731';
const outputs: string[] = [];

before(() => {
  assert.equal(lb(['init']).status, 0);
});
after(() => {
  home.cleanup();
  pwDir.cleanup();
});

test('certs directory sets, shows and removes the directory; the bind password is kept, never shown', () => {
  const none = lb(['certs', 'directory']);
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /^No S\/MIME directory set/);

  const pwFile = join(pwDir.dir, 'pw');
  writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  const set = lb([
    'certs',
    'directory',
    '--url',
    'ldaps://ldap.example.test',
    '--base-dn',
    'ou=people,dc=example,dc=test',
    '--bind-dn',
    'cn=reader,dc=example,dc=test',
    '--password-file',
    pwFile,
    '--timeout',
    '1500',
  ]);
  outputs.push(set.stdout, set.stderr);
  assert.equal(set.status, 0, set.stderr);
  assert.equal(
    set.stdout.trim(),
    'S/MIME directory ldaps://ldap.example.test  base ou=people,dc=example,dc=test  bind cn=reader,dc=example,dc=test (password kept)',
  );
  const status = JSON.parse(lb(['status', '--json']).stdout) as BridgeStatus;
  assert.deepEqual(status.certificateDirectory, {
    url: 'ldaps://ldap.example.test',
    baseDn: 'ou=people,dc=example,dc=test',
    bindDn: 'cn=reader,dc=example,dc=test',
    passwordSet: true,
    caSet: false,
    lastLookup: null,
  });

  const bad = lb(['certs', 'directory', '--url', 'http://ldap.example.test', '--base-dn', 'dc=x']);
  outputs.push(bad.stdout, bad.stderr);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /ldap:\/\/HOST\[:PORT\] or ldaps:\/\/HOST\[:PORT\]/);

  const off = lb(['certs', 'directory', '--off']);
  outputs.push(off.stdout, off.stderr);
  assert.equal(off.status, 0, off.stderr);
  assert.match(off.stdout, /S\/MIME directory removed/);
  const removed = JSON.parse(lb(['status', '--json']).stdout) as BridgeStatus;
  assert.equal(removed.certificateDirectory, null);
});

test('certs directory --ca-file: the directory’s own CA is set, kept, forgotten with --system-ca', async () => {
  const caFile = join(pwDir.dir, 'directory-ca.pem');
  const caPem = (await createTestCa('Directory CLI CA')).caPem;
  writeFileSync(caFile, caPem);
  const base = [
    'certs',
    'directory',
    '--url',
    'ldaps://ldap.example.test',
    '--base-dn',
    'dc=example,dc=test',
  ];
  const caOf = () =>
    (JSON.parse(lb(['status', '--json']).stdout) as BridgeStatus).certificateDirectory?.caSet;

  const set = lb([...base, '--ca-file', caFile]);
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /base dc=example,dc=test {2}anonymous {2}own CA$/m);
  assert.equal(caOf(), true);
  const again = lb([...base, '--timeout', '2000']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(caOf(), true, 'kept when set again without --ca-file');

  const notPem = join(pwDir.dir, 'not-a-ca.pem');
  writeFileSync(notPem, 'hello\n');
  const bad = lb([...base, '--ca-file', notPem]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /PEM certificates/);
  assert.equal(caOf(), true, 'unchanged after a refused file');

  const sys = lb([...base, '--system-ca']);
  assert.equal(sys.status, 0, sys.stderr);
  assert.doesNotMatch(sys.stdout, /own CA/);
  assert.equal(caOf(), false);
  assert.equal(lb(['certs', 'directory', '--off']).status, 0);
});

test('the bind password is in no file of the data directory and in no output', () => {
  // set again, so that the store holds it while the files are read
  const pwFile = join(pwDir.dir, 'pw2');
  writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  const r = lb([
    'certs',
    'directory',
    '--url',
    'ldap://127.0.0.1:3890',
    '--base-dn',
    'dc=example,dc=test',
    '--bind-dn',
    'cn=reader,dc=example,dc=test',
    '--password-file',
    pwFile,
  ]);
  outputs.push(r.stdout, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /password kept/);
  const files = assertNoSecrets({
    dirs: [home.dir],
    outputs,
    secrets: [{ what: 'directory bind password', value: PASSWORD }],
  });
  assert.ok(files.some((f) => f.endsWith('store.db')));
});
