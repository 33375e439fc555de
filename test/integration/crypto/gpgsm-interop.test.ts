/**
 * Issue 19, inbound S/MIME made by gpgsm (GnuPG 2.2): enveloped-data to the user's RSA certificate
 * (from an openssl PKCS#12 imported into the store), opaque and detached signatures by a
 * self-signed certificate gpgsm made itself, and sign-then-encrypt — read through the product's
 * inbound path (createInboundProcessor, the encrypted store's keyring, the crypto worker pool).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Keyring } from '../../../app/keys/keyring.ts';
import type { ProcessInbound } from '../../../app/sync/types.ts';
import { startInboundRig, type InboundRig } from '../../helpers/crypto/inbound-rig.ts';
import { OpensslCa } from '../../helpers/crypto/openssl.ts';
import { GpgsmHome } from '../../helpers/crypto/gpgsm.ts';

const ME = 'me@example.test';
const GINA = 'gina@example.test';
const ctx = { accountId: 1, email: ME, remoteMailbox: 'INBOX' };

let rig: InboundRig;
let keyring: Keyring;
let processInbound: ProcessInbound;
let ca: OpensslCa;
let g: GpgsmHome;
let ginaFpr: string;

before(async () => {
  rig = await startInboundRig('lb-gpgsm-interop-');
  ({ keyring, processInbound } = rig);
  ca = new OpensslCa();
  const me = ca.user(ME, 'rsa');
  await keyring.smime!.importPkcs12(ca.pkcs12(me, 'pw'), 'pw');
  g = new GpgsmHome();
  ginaFpr = createHash('sha256').update(g.genSelfSigned(GINA)).digest('hex').toUpperCase();
  g.import(ca.caPem);
  g.trust(ca.must('openssl', ['x509', '-in', ca.path('ca.pem'), '-outform', 'DER']));
  g.import(me.certPem);
});

after(async () => {
  await rig.close();
  g.dispose();
  ca.dispose();
});

const ENTITY = 'Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße aus gpgsm\r\n';
const outer = (subject: string) =>
  `From: Gina <${GINA}>\r\nTo: ${ME}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W+/g, '')}@example.test>\r\nMIME-Version: 1.0\r\n`;
const p7m = (type: string, b64: Buffer) =>
  `Content-Type: application/pkcs7-mime; smime-type=${type}; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
  b64.toString().replace(/\r?\n/g, '\r\n');

async function serve(raw: string): Promise<{ head: (n: string) => string | undefined; text: string }> {
  const r = await processInbound(Buffer.from(raw), ctx);
  const text = r.served.toString('utf8');
  const headText = text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n(?=[ \t])/g, '');
  return { text, head: (n) => new RegExp(`^${n}: (.*)$`, 'mi').exec(headText)?.[1]?.trim() };
}

test('gpgsm --encrypt (to the user RSA certificate) is decrypted', async () => {
  const s = await serve(
    outer('gpgsm enveloped') + p7m('enveloped-data', g.over(['--encrypt', '-r', ME, '--base64'], ENTITY)),
  );
  assert.equal(s.head('X-Lockbridge-Encryption'), 'encrypted');
  assert.equal(s.head('X-Lockbridge-Standard'), 'smime');
  assert.ok(s.text.includes('Grüße aus gpgsm'));
});

test('gpgsm --sign (opaque) and --detach-sign (multipart/signed): valid, first contact, then known', async () => {
  const opaque = await serve(
    outer('gpgsm opaque') +
      p7m(
        'signed-data',
        g.over(['--sign', '--local-user', GINA, '--include-certs', '-1', '--base64'], ENTITY),
      ),
  );
  assert.equal(opaque.head('X-Lockbridge-Encryption'), 'none');
  assert.match(
    opaque.head('X-Lockbridge-Signature')!,
    new RegExp(`^valid; signer=${ginaFpr}; trust=first-contact; expires=`),
  );
  assert.ok(opaque.text.includes('Grüße aus gpgsm'));
  assert.match(opaque.text, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);

  const sig = g.over(['--detach-sign', '--local-user', GINA, '--include-certs', '-1', '--base64'], ENTITY);
  const b = 'gpgsm-boundary-01';
  const detached =
    outer('gpgsm detached') +
    `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="${b}"\r\n\r\n` +
    `--${b}\r\n${ENTITY}\r\n--${b}\r\nContent-Type: application/pkcs7-signature; name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
    sig.toString().replace(/\r?\n/g, '\r\n') +
    `\r\n--${b}--\r\n`;
  const d = await serve(detached);
  assert.match(
    d.head('X-Lockbridge-Signature')!,
    new RegExp(`^valid; signer=${ginaFpr}; trust=known; expires=`),
  );
  const t = await serve(detached.replace('Grüße', 'Grüsse'));
  assert.match(t.head('X-Lockbridge-Signature')!, new RegExp(`^invalid; signer=${ginaFpr}`));
});

test('gpgsm sign-then-encrypt: encrypted and validly signed', async () => {
  const signed = p7m(
    'signed-data',
    g.over(['--sign', '--local-user', GINA, '--include-certs', '-1', '--base64'], ENTITY),
  );
  const s = await serve(
    outer('gpgsm triple') + p7m('enveloped-data', g.over(['--encrypt', '-r', ME, '--base64'], signed)),
  );
  assert.equal(s.head('X-Lockbridge-Encryption'), 'encrypted');
  assert.match(s.head('X-Lockbridge-Signature')!, new RegExp(`^valid; signer=${ginaFpr}; trust=`));
  assert.ok(s.text.includes('Grüße aus gpgsm'));
});
