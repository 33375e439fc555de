// Issue 19, expiry warnings beyond the Certificates page (real CLI): own S/MIME certificates
// imported from `openssl pkcs12` files — one that expired, one that expires in ten days, one valid
// for a year, and an expired one replaced by a newer certificate for the same address. `certs
// list` marks the first EXPIRED and the second EXPIRES SOON; `status` (and `status --json`'s
// certificateWarnings) names those two and not the others.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempHome } from '../../helpers/cli.ts';
import { OpensslCa } from '../../helpers/crypto/openssl.ts';
import type { BridgeStatus } from '../../../app/control/contract.ts';

const home = tempHome('lb-certs-expiry-');
const env = { LOCKBRIDGE_PASSPHRASE: 'store passphrase expiry', LOCKBRIDGE_LOCAL_PASSWORD: 'local-pw-exp' };
let ca: OpensslCa;
const lb = (args: string[]) => cli(['--home', home.dir, ...args], env);

/** openssl's YYYYMMDDHHMMSSZ for now + `days`. */
const at = (days: number) =>
  new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';

before(() => {
  assert.equal(lb(['init']).status, 0);
  ca = new OpensslCa();
  const pass = join(ca.dir, 'pass');
  writeFileSync(pass, 'p12 pass\n');
  const users = [
    ca.user('old@example.test', 'rsa', { start: at(-400), end: at(-5) }),
    ca.user('soon@example.test', 'ec', { end: at(10.5) }),
    ca.user('fine@example.test', 'rsa'),
    ca.user('renewed@example.test', 'rsa', { start: at(-400), end: at(-1) }),
    ca.user('renewed@example.test', 'rsa'),
  ];
  users.forEach((u, i) => {
    const f = join(ca.dir, `own${i}.p12`);
    writeFileSync(f, ca.pkcs12(u, 'p12 pass'));
    const r = lb(['certs', 'import', f, '--passphrase-file', pass]);
    assert.equal(r.status, 0, r.stderr);
  });
});
after(() => {
  ca?.dispose();
  home.cleanup();
});

test('certs list marks an expired own certificate EXPIRED and one expiring within 30 days EXPIRES SOON', () => {
  const r = lb(['certs', 'list']);
  assert.equal(r.status, 0, r.stderr);
  const own = (addr: string) => r.stdout.split('\n').filter((l) => l.startsWith(`own   ${addr}`));
  assert.match(own('old@example.test')[0]!, /EXPIRED \d{4}-\d\d-\d\d/);
  assert.match(own('soon@example.test')[0]!, /expires \d{4}-\d\d-\d\d EXPIRES SOON \(10 days left\)/);
  assert.doesNotMatch(own('fine@example.test')[0]!, /EXPIRE/);
});

test('status names the expired and the soon-expiring certificate (not the renewed one) and says what to do', () => {
  const r = lb(['status']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('S/MIME certificate'));
  assert.deepEqual(lines.length, 2, r.stdout);
  assert.match(
    lines[0]!,
    /^S\/MIME certificate for old@example\.test expired on \d{4}-\d\d-\d\d: issue a new one \(lockbridge certs issue old@example\.test\) or import one$/,
  );
  assert.match(
    lines[1]!,
    /^S\/MIME certificate for soon@example\.test expires on \d{4}-\d\d-\d\d \(in 10 days\)/,
  );
  const json = JSON.parse(lb(['status', '--json']).stdout) as BridgeStatus;
  assert.deepEqual(
    json.certificateWarnings?.map((w) => [w.emails[0], w.expired, w.daysLeft]),
    [
      ['old@example.test', true, 0],
      ['soon@example.test', false, 10],
    ],
  );
});
