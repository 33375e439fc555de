// Issue 19, gpgsm (GnuPG 2.2.40) on the user's other machine, in the user's world (real Dovecot +
// Postfix, the real `serve`, the real CLI, an IMAP client at the bridge). The user issues a
// certificate (`certs issue`) and exports it (`certs export --pkcs12`): that one file imports into
// gpgsm (which reads no PBES2-HMAC-SHA-256 PKCS#12, i.e. no OpenSSL 3 default file and none the
// old export wrote), `openssl pkcs12` and NSS `pk12util`. gpgsm, trusting the Lockbridge root,
// decrypts and verifies the S/MIME copy Lockbridge sent to the user at the provider; mail gpgsm
// signs and encrypts with the imported key, and mail signed by gpgsm's own self-signed
// certificate, reach the local IMAP client decrypted and verified with the status headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorld, type World, waitFor, servedBySubject, headerOf } from '../../helpers/bridge-world.ts';
import { cliAsync } from '../../helpers/cli.ts';
import { GpgsmHome } from '../../helpers/crypto/gpgsm.ts';
import { run, runOk } from '../../helpers/crypto/gpg.ts';
import type { CertificateList } from '../../../app/control/contract.ts';

const PASS = 'p12 for gpgsm 5&x'; // no '%': the test pinentry does not percent-escape
const GINA = 'gina@example.test';
let w: World;
let g: GpgsmHome;
let scratch: string;
before(async () => {
  w = await startWorld({ pollSeconds: 1 });
  g = new GpgsmHome();
  scratch = mkdtempSync(join(g.dir, 'scratch-'));
});
after(async () => {
  await w?.close();
  g?.dispose();
});

const lb = (args: string[]) => cliAsync(['--home', w.home, ...args], w.env);

let ownFpr = '';

test('the PKCS#12 Lockbridge exports imports into gpgsm 2.2, openssl pkcs12 and NSS pk12util alike', async () => {
  const issued = await lb(['certs', 'issue', w.user]);
  assert.equal(issued.status, 0, issued.stderr);
  const passFile = join(scratch, 'pass');
  writeFileSync(passFile, `${PASS}\n`);
  const p12Path = join(scratch, 'me.p12');
  const e = await lb([
    'certs',
    'export',
    w.user,
    '--pkcs12',
    '--passphrase-file',
    passFile,
    '--out',
    p12Path,
  ]);
  assert.equal(e.status, 0, e.stderr);
  const list = JSON.parse((await lb(['certs', 'list', '--json'])).stdout) as CertificateList;
  ownFpr = list.own[0]!.fingerprint;

  // openssl: the compatible format, opened with the passphrase
  const info = run('openssl', ['pkcs12', '-in', p12Path, '-info', '-noout', '-passin', `file:${passFile}`]);
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stderr, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
  assert.match(info.stderr, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC/);
  assert.notEqual(run('openssl', ['pkcs12', '-in', p12Path, '-noout', '-passin', 'pass:wrong']).status, 0);
  // NSS
  const nss = mkdtempSync(join(scratch, 'nss-'));
  runOk('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
  runOk('pk12util', ['-i', p12Path, '-d', `sql:${nss}`, '-W', PASS, '-K', '']);
  assert.match(runOk('certutil', ['-K', '-d', `sql:${nss}`]).toString(), /rsa/i);
  // gpgsm: the key, the certificate and its chain
  g.importPkcs12(readFileSync(p12Path), PASS);
  const secret = g.gpgsm(['--list-secret-keys', '--with-colons']).toString();
  assert.match(secret, new RegExp(`<${w.user.replace(/[.@]/g, '\\$&')}>|${w.user.replace(/[.@]/g, '\\$&')}`));
  const all = g.gpgsm(['--list-keys']).toString();
  assert.match(all, /Lockbridge Root CA/);
  assert.match(all, /Lockbridge Intermediate CA/);
  // gpgsm trusts the Lockbridge root, as the user does on that machine
  const rootPem = (await lb(['certs', 'export', w.user])).stdout.split('-----END CERTIFICATE-----\n')[2]!;
  g.trust(runOk('openssl', ['x509', '-outform', 'DER'], `${rootPem}-----END CERTIFICATE-----\n`));
});

test('gpgsm decrypts the S/MIME copy Lockbridge sent and verifies its signature through the Lockbridge root', async () => {
  await w.start();
  // gina reads mail with gpgsm: her certificate (self-signed, made there) is imported here
  const ginaPem = join(scratch, 'gina.pem');
  writeFileSync(ginaPem, runOk('openssl', ['x509', '-inform', 'DER'], g.genSelfSigned(GINA)));
  const imp = await lb(['certs', 'import', ginaPem]);
  assert.equal(imp.status, 0, imp.stderr);
  await w.provider.addUser(GINA, 'gina pw');
  await w.submit({ from: w.user, to: GINA, subject: 'to gpgsm', text: 'Grüße an gpgsm\n' });
  const text = await waitFor("the S/MIME copy in gina's INBOX at the provider", async () => {
    const c = await w.provider.imapClient(GINA);
    try {
      const lock = await c.getMailboxLock('INBOX', { readOnly: true });
      try {
        if (!c.mailbox || !c.mailbox.exists) return null;
        for await (const m of c.fetch('1:*', { source: true })) {
          const t = m.source!.toString('latin1');
          if (/Subject: to gpgsm/.test(t)) return t;
        }
        return null;
      } finally {
        lock.release();
      }
    } finally {
      await c.logout().catch(() => {});
    }
  });
  assert.match(text, /application\/pkcs7-mime; smime-type=enveloped-data/);
  const der = Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4), 'base64');
  const inner = g.over(['--decrypt'], der).toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(inner)![1]!;
  const start = inner.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const end = inner.indexOf(`\r\n--${boundary}`, start);
  const sigPart = inner.slice(end + boundary.length + 6);
  const sig = sigPart.slice(sigPart.indexOf('\r\n\r\n') + 4, sigPart.indexOf(`\r\n--${boundary}--`));
  const dataFile = join(scratch, 'signed');
  const sigFile = join(scratch, 'signed.p7s');
  writeFileSync(dataFile, Buffer.from(inner.slice(start, end), 'latin1'));
  writeFileSync(sigFile, Buffer.from(sig, 'base64'));
  // no CRLs are published for the Lockbridge CAs; the path must end at the trusted root
  const v = run(
    'gpgsm',
    ['--homedir', g.dir, '--batch', '--disable-crl-checks', '--verify', sigFile, dataFile],
    undefined,
    { GNUPGHOME: g.dir },
  );
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /Good signature from/);
  assert.doesNotMatch(v.stderr, /not trusted|root certificate is not marked trusted/i);
  assert.match(inner, /Gr=C3=BC=C3=9Fe an gpgsm/);
});

test('mail gpgsm signs and encrypts with the imported key, and mail signed by its own certificate, reach the local IMAP client decrypted and verified', async () => {
  const entity = (body: string) => `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
  const head = (from: string, subject: string) =>
    `From: ${from}\r\nTo: ${w.user}\r\nSubject: ${subject}\r\nDate: Sun, 06 Dec 2026 05:00:00 +0000\r\n` +
    `Message-ID: <${subject.replace(/\W+/g, '')}@example.test>\r\nMIME-Version: 1.0\r\n`;
  const p7m = (type: string, b64: Buffer) =>
    `Content-Type: application/pkcs7-mime; smime-type=${type}; name="smime.p7m"\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\n${b64.toString().replace(/\r?\n/g, '\r\n')}`;
  // signed (opaque) by gpgsm's own self-signed certificate
  const gina = g.over(['--sign', '-u', GINA, '--base64'], entity('opaque from gina'));
  await w.provider.appendRaw(w.user, 'INBOX', head(GINA, 'gpgsm opaque') + p7m('signed-data', gina));
  // signed with the user's own (imported) key, then encrypted to the user's certificate
  g.loopback = false;
  const signed = p7m(
    'signed-data',
    g.over(['--sign', '-u', w.user, '--include-certs', '-1', '--base64'], entity('triple from gpgsm')),
  );
  const triple = g.over(['--encrypt', '-r', w.user, '--base64'], signed);
  await w.provider.appendRaw(w.user, 'INBOX', head(w.user, 'gpgsm triple') + p7m('enveloped-data', triple));

  const inbox = await waitFor('the gpgsm messages served locally', async () => {
    const m = await servedBySubject(w);
    return m.has('gpgsm triple') && m.has('gpgsm opaque') && m;
  });
  const t = inbox.get('gpgsm triple')!;
  assert.equal(headerOf(t, 'X-Lockbridge-Encryption'), 'encrypted');
  assert.equal(headerOf(t, 'X-Lockbridge-Standard'), 'smime');
  assert.match(
    headerOf(t, 'X-Lockbridge-Signature')!,
    new RegExp(`^valid; signer=${ownFpr}; trust=ca; expires=`),
  );
  assert.ok(t.includes('triple from gpgsm'));
  const o = inbox.get('gpgsm opaque')!;
  assert.equal(headerOf(o, 'X-Lockbridge-Encryption'), 'none');
  // gina's certificate was imported for the mail to her above
  assert.match(headerOf(o, 'X-Lockbridge-Signature')!, /^valid; signer=[0-9A-F]{64}; trust=known; /);
  assert.ok(o.includes('opaque from gina'));
});
