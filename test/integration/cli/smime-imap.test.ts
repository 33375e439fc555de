// Issue 19 in the user's world (real Dovecot + Postfix, the real `serve`, the real CLI, an IMAP
// client at the bridge): the user imports their S/MIME certificate from an `openssl pkcs12` file
// (`lockbridge certs import --passphrase-file`) and trusts their CA (`certs import --trusted`);
// mail made by `openssl cms` (RSA and EC recipients, enveloped and authEnveloped, signed opaque
// and detached) and a garbled one are delivered to the provider; the local IMAP client is served
// each one decrypted and verified with the status headers, the garbled one as `failed`, and sync
// goes on past it. `certs list` then shows the sender's certificate learnt from the signed mail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startWorld, type World, waitFor, servedBySubject, headerOf } from '../../helpers/bridge-world.ts';
import { cliAsync } from '../../helpers/cli.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';

let w: World;
let ca: OpensslCa;
let bob: OsslUser;
before(async () => {
  w = await startWorld({ pollSeconds: 1 });
  ca = new OpensslCa();
  bob = ca.user('bob@example.test', 'ec');
});
after(async () => {
  await w?.close();
  ca?.dispose();
});

const lb = (args: string[]) => cliAsync(['--home', w.home, ...args], w.env);
const fpr = (u: OsslUser) => createHash('sha256').update(u.certDer).digest('hex').toUpperCase();

test('openssl-made S/MIME mail reaches the local IMAP client decrypted and verified, with the status headers', async () => {
  const meRsa = ca.user(w.user, 'rsa');
  const meEc = ca.user(w.user, 'ec');
  const passFile = join(ca.dir, 'pass.txt');
  writeFileSync(passFile, 'p12 secret\n');
  for (const u of [meRsa, meEc]) {
    const p12 = join(ca.dir, `${u.kind}.p12`);
    writeFileSync(p12, ca.pkcs12(u, 'p12 secret'));
    const r = await lb(['certs', 'import', p12, '--passphrase-file', passFile]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Imported own\\s+${w.user}\\s`));
  }
  const wrong = join(ca.dir, 'wrong.txt');
  writeFileSync(wrong, 'not it\n');
  const bad = await lb(['certs', 'import', join(ca.dir, 'rsa.p12'), '--passphrase-file', wrong]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /passphrase/);
  const caFile = join(ca.dir, 'ca.pem');
  const t = await lb(['certs', 'import', caFile, '--trusted']);
  assert.equal(t.status, 0, t.stderr);
  assert.match(
    t.stdout,
    /^Imported ca\s+-\s+Lockbridge Test CA\s+[0-9A-F]{64}\s+own-chain\s+expires \d{4}-\d\d-\d\d\s+trusted$/m,
  );

  const text = (body: string) => `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
  const head = (subject: string) =>
    `From: Bob <bob@example.test>\r\nTo: ${w.user}\r\nSubject: ${subject}\r\nDate: Sun, 06 Dec 2026 04:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W+/g, '')}@example.test>\r\n`;
  const deliver = (raw: Buffer | string) => w.provider.appendRaw(w.user, 'INBOX', raw);
  await deliver(
    ca.cms(['-encrypt', '-aes-256-cbc', meRsa.certPath], text('rsa enveloped body'), head('rsa cbc')),
  );
  await deliver(ca.cms(['-encrypt', '-aes-256-gcm', meEc.certPath], text('ec gcm body'), head('ec gcm')));
  await deliver(
    ca.cms(
      ['-sign', '-nodetach', '-signer', bob.certPath, '-inkey', bob.keyPath],
      text('opaque body'),
      head('opaque'),
    ),
  );
  await deliver(
    ca.cms(
      ['-sign', '-signer', bob.certPath, '-inkey', bob.keyPath],
      text('detached body'),
      head('detached'),
    ),
  );
  await deliver(
    head('garbled') +
      'MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n' +
      'Content-Transfer-Encoding: base64\r\n\r\nTm90IENNUyBhdCBhbGwsIGp1c3QgdGV4dA==\r\n',
  );
  await deliver(head('plain after') + '\r\nplain text after the garbled one\r\n');

  await w.start();
  const inbox = await waitFor('the six messages served locally', async () => {
    const m = await servedBySubject(w);
    return m.size === 6 && m;
  });
  for (const [subject, body] of [
    ['rsa cbc', 'rsa enveloped body'],
    ['ec gcm', 'ec gcm body'],
  ] as const) {
    const m = inbox.get(subject)!;
    assert.equal(headerOf(m, 'X-Lockbridge-Encryption'), 'encrypted', subject);
    assert.equal(headerOf(m, 'X-Lockbridge-Standard'), 'smime', subject);
    assert.ok(m.includes(body), subject);
    assert.doesNotMatch(m, /pkcs7-mime/);
  }
  const opaque = inbox.get('opaque')!;
  assert.equal(headerOf(opaque, 'X-Lockbridge-Encryption'), 'none');
  assert.match(
    headerOf(opaque, 'X-Lockbridge-Signature')!,
    new RegExp(`^valid; signer=${fpr(bob)}; trust=ca; expires=`),
  );
  assert.ok(opaque.includes('opaque body'));
  const detached = inbox.get('detached')!;
  assert.match(
    headerOf(detached, 'X-Lockbridge-Signature')!,
    new RegExp(`^valid; signer=${fpr(bob)}; trust=`),
  );
  const garbled = inbox.get('garbled')!;
  assert.equal(headerOf(garbled, 'X-Lockbridge-Encryption'), 'failed');
  assert.match(headerOf(garbled, 'X-Lockbridge-Reason')!, /garbled CMS/);
  assert.equal(headerOf(inbox.get('plain after')!, 'X-Lockbridge-Encryption'), 'none');

  // bob's certificate was learnt from his signed mail
  const list = await lb(['certs', 'list', '--json']);
  assert.equal(list.status, 0, list.stderr);
  const certs = JSON.parse(list.stdout) as {
    own: { emails: string[] }[];
    certificates: { fingerprint: string; emails: string[]; source: string }[];
  };
  assert.equal(certs.own.length, 2);
  const learnt = certs.certificates.find((c) => c.fingerprint === fpr(bob));
  assert.deepEqual(learnt && { emails: learnt.emails, source: learnt.source }, {
    emails: ['bob@example.test'],
    source: 'learned',
  });
});
