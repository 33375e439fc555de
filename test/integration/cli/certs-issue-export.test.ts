/**
 * Issue 19: `lockbridge certs issue` and `certs export` through the real CLI and a running bridge's
 * control API. An issued certificate is listed as the user's own; exported as PEM it passes
 * `openssl verify -purpose smimesign`; exported as PKCS#12 (file mode 0600, never over an existing
 * file) it opens in `openssl pkcs12` with the passphrase and not with a wrong one, and imports into
 * another data directory with `certs import` as the same certificate. Usage errors exit 2, a
 * missing passphrase exits 1 with a clear message. The export passphrase and the private key
 * reach no file of either data directory, no log and no command output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';
import { run } from '../../helpers/crypto/gpg.ts';
import { assertNoSecrets } from '../../helpers/no-secrets.ts';
import { callControl, findRunningBridge } from '../../../app/control/http/client.ts';
import { pathsFor } from '../../../app/config/paths.ts';
import type { CertificateList, CertificateSummary } from '../../../app/control/contract.ts';
import { UserError } from '../../../app/shared/errors.ts';

const ME = 'ann@example.test';
const PASS = 'p12 export Secret 5%w';
const home = tempHome('lb-certs-issue-');
const other = tempHome('lb-certs-import-');
const work = tempHome('lb-certs-files-');
const env = {
  LOCKBRIDGE_PASSPHRASE: 'store passphrase certs',
  LOCKBRIDGE_LOCAL_PASSWORD: 'local-pw-certs',
  LOCKBRIDGE_LOG_LEVEL: 'debug',
};
let bridge: ServeHandle | null = null;
const outputs: string[] = [];

function lb(dir: string, args: string[]) {
  const r = cli(['--home', dir, ...args], env);
  outputs.push(r.stdout, r.stderr);
  return r;
}
const path = (name: string) => join(work.dir, name);
const passFile = path('pass.txt');

before(async () => {
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  assert.equal(cli(['--home', other.dir, 'init'], env).status, 0);
  writeFileSync(passFile, `${PASS}\n`);
  bridge = await serve(
    home.dir,
    ['--offline', '--imap-port', '0', '--smtp-port', '0', '--control-port', '0'],
    env,
  );
});

after(async () => {
  await bridge?.stop('SIGKILL');
  home.cleanup();
  other.cleanup();
  work.cleanup();
});

let own: CertificateSummary;

test('certs issue makes the own certificate; certs list shows it; bad usage exits 2', () => {
  assert.equal(lb(home.dir, ['certs', 'issue', ME, '--algorithm', 'dsa']).status, 2);
  const r = lb(home.dir, ['certs', 'issue', ME]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Issued own +ann@example\.test +ann@example\.test +[0-9A-F]{64} +issued +expires /);
  const list = JSON.parse(lb(home.dir, ['certs', 'list', '--json']).stdout) as CertificateList;
  assert.equal(list.own.length, 1);
  own = list.own[0]!;
  assert.deepEqual(own.emails, [ME]);
  assert.equal(own.expired, false);
});

test('the control API issues an EC certificate and refuses a PKCS#12 export without a passphrase', async () => {
  const ep = findRunningBridge(pathsFor(home.dir));
  assert.ok(ep);
  const ec = await callControl(ep, 'issueCertificate', 'ec@example.test', {
    algorithm: 'ec',
  });
  assert.deepEqual(ec.emails, ['ec@example.test']);
  await assert.rejects(
    callControl(ep, 'exportCertificatePkcs12', ME, ''),
    (e: unknown) => e instanceof UserError && e.code === 'passphrase-required',
  );
  await assert.rejects(
    callControl(ep, 'exportCertificate', 'nobody@example.test'),
    (e: unknown) => e instanceof UserError && e.code === 'not-found',
  );
  const pem = await callControl(ep, 'exportCertificate', ec.fingerprint);
  assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
});

test('certs export writes the PEM; openssl verify accepts it for S/MIME signing; an existing file is not overwritten', () => {
  const r = lb(home.dir, ['certs', 'export', ME]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  assert.doesNotMatch(r.stdout, /PRIVATE/);
  assert.equal(lb(home.dir, ['certs', 'export', ME, '--out', path('ann.pem')]).status, 0);
  assert.equal(readFileSync(path('ann.pem'), 'utf8'), r.stdout);
  const again = lb(home.dir, ['certs', 'export', own.fingerprint, '--out', path('ann.pem')]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists already/);
  const v = run('openssl', [
    'verify',
    '-purpose',
    'smimesign',
    '-partial_chain',
    '-CAfile',
    path('ann.pem'),
    path('ann.pem'),
  ]);
  assert.equal(v.status, 0, v.stdout.toString() + v.stderr);
});

test('certs export --pkcs12: opens in openssl pkcs12 with the passphrase only, and imports into another data directory', () => {
  assert.equal(lb(home.dir, ['certs', 'export', ME, '--pkcs12']).status, 2, 'needs --out');
  const noPass = lb(home.dir, ['certs', 'export', ME, '--pkcs12', '--out', path('x.p12')]);
  assert.equal(noPass.status, 1);
  assert.match(noPass.stderr, /passphrase/);
  const p12 = path('ann.p12');
  const r = lb(home.dir, ['certs', 'export', ME, '--pkcs12', '--out', p12, '--passphrase-file', passFile]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(statSync(p12).mode & 0o777, 0o600);

  const good = run('openssl', ['pkcs12', '-in', p12, '-nokeys', '-clcerts', '-passin', `file:${passFile}`]);
  assert.equal(good.status, 0, good.stderr);
  const fpr = run('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], good.stdout).stdout.toString();
  assert.equal(fpr.split('=')[1]!.replace(/[:\s]/g, ''), own.fingerprint);
  assert.notEqual(run('openssl', ['pkcs12', '-in', p12, '-noout', '-passin', 'pass:wrong']).status, 0);

  writeFileSync(path('wrong.txt'), 'not it\n');
  const bad = lb(other.dir, ['certs', 'import', p12, '--passphrase-file', path('wrong.txt')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /passphrase/);
  const imp = lb(other.dir, ['certs', 'import', p12, '--passphrase-file', passFile]);
  assert.equal(imp.status, 0, imp.stderr);
  const list = JSON.parse(lb(other.dir, ['certs', 'list', '--json']).stdout) as CertificateList;
  assert.deepEqual(
    list.own.map((o) => o.fingerprint),
    [own.fingerprint],
  );
});

test('the export passphrase and the private key reach no data directory file, log or output', async () => {
  // the private key as openssl reads it from the exported file
  const keyPem = run('openssl', [
    'pkcs12',
    '-in',
    path('ann.p12'),
    '-nocerts',
    '-noenc',
    '-passin',
    `file:${passFile}`,
  ]).stdout;
  const keyDer = run('openssl', ['pkey', '-outform', 'DER'], keyPem).stdout;
  assert.ok(keyDer.length > 1000, 'an RSA 3072 key');
  const keyB64 = keyDer.toString('base64');
  await bridge?.stop('SIGTERM');
  outputs.push(bridge?.stderr() ?? '');
  bridge = null;

  const files = assertNoSecrets({
    dirs: [home.dir, other.dir],
    outputs,
    secrets: [
      { what: 'passphrase', value: PASS },
      // a stretch of the key that any encoding of it would carry
      { what: 'private key', value: keyDer.subarray(keyDer.length - 200) },
      { what: 'private key (base64)', value: keyB64.slice(200, 264) },
    ],
  });
  assert.ok(files.some((f) => f.endsWith('lockbridge.log')));
});
