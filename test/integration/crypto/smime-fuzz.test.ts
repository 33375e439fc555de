/**
 * Issue 19, bad input: openssl-made S/MIME messages (enveloped RSA/CBC, authEnveloped EC/GCM,
 * opaque and detached signatures) with seeded random damage to their CMS — bytes flipped, cut
 * short, or spliced — always give a result (never an exception: sync goes on), and damage never
 * passes unmarked: authEnveloped (GCM) decrypts to the original text or fails; CBC enveloped-data
 * is malleable (no MAC), so altered content may decrypt — it then carries the "not
 * integrity-protected" note, as every CBC message without a valid signature does; a signature over
 * damaged content is never `valid`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import type { SmimeMaterial } from '../../../app/crypto/smime.ts';
import { seeded } from '../../helpers/seeded.ts';
import { OpensslCa, type OsslUser } from '../../helpers/crypto/openssl.ts';

const ME = 'me@example.test';
let ca: OpensslCa;
let meRsa: OsslUser;
let meEc: OsslUser;
let bob: OsslUser;
let material: SmimeMaterial;

before(() => {
  ca = new OpensslCa();
  meRsa = ca.user(ME, 'rsa');
  meEc = ca.user(ME, 'ec');
  bob = ca.user('bob@example.test', 'rsa');
  const pkcs8 = (u: OsslUser) =>
    ca.must('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', u.keyPath, '-outform', 'DER']);
  const caDer = ca.must('openssl', ['x509', '-in', ca.path('ca.pem'), '-outform', 'DER']);
  material = {
    identities: [meRsa, meEc].map((u) => ({ certificate: u.certDer, privateKey: pkcs8(u) })),
    trustAnchors: [caDer],
  };
});
after(() => ca.dispose());

const TEXT = 'the one true text of this message';
const ENTITY = `Content-Type: text/plain\r\n\r\n${TEXT}\r\n`;
const HEAD = `From: bob@example.test\r\nTo: ${ME}\r\nSubject: fuzz\r\n`;

/** The message's headers and its CMS (DER), and a way to put damaged DER back in. */
function split(raw: Buffer): { der: Buffer; rebuild: (der: Buffer) => Buffer } {
  const text = raw.toString('latin1');
  const at = text.indexOf('\r\n\r\n', text.indexOf('application/pkcs7-')) + 4;
  const end = text.indexOf('\r\n--', at);
  const b64 = text.slice(at, end === -1 ? undefined : end);
  const rest = end === -1 ? '\r\n' : text.slice(end);
  return {
    der: Buffer.from(b64, 'base64'),
    rebuild: (der) =>
      Buffer.from(text.slice(0, at) + der.toString('base64').replace(/.{76}/g, '$&\r\n') + rest, 'latin1'),
  };
}

function damage(der: Buffer, r: ReturnType<typeof seeded>): Buffer {
  const out = Buffer.from(der);
  switch (r.int(3)) {
    case 0: // flip 1-4 bytes
      for (let i = 1 + r.int(4); i > 0; i--) {
        const at = r.int(out.length);
        out[at] = out[at]! ^ (1 + r.int(255));
      }
      return out;
    case 1: // cut short
      return out.subarray(0, r.int(out.length));
    default: {
      // splice: a stretch copied over another
      const len = 1 + r.int(32);
      const from = r.int(Math.max(1, out.length - len));
      const to = r.int(Math.max(1, out.length - len));
      out.copy(out, to, from, from + len);
      return out.equals(der) ? damage(der, r) : out;
    }
  }
}

test('damaged CMS never throws and never passes as good', async () => {
  const r = seeded();
  const samples = [
    {
      kind: 'enveloped',
      cipher: 'cbc',
      raw: ca.cms(['-encrypt', '-aes-256-cbc', meRsa.certPath], ENTITY, HEAD),
    },
    {
      kind: 'enveloped',
      cipher: 'gcm',
      raw: ca.cms(['-encrypt', '-aes-128-gcm', meEc.certPath], ENTITY, HEAD),
    },
    {
      kind: 'signed',
      cipher: '',
      raw: ca.cms(['-sign', '-nodetach', '-signer', bob.certPath, '-inkey', bob.keyPath], ENTITY, HEAD),
    },
    {
      kind: 'signed',
      cipher: '',
      raw: ca.cms(['-sign', '-signer', bob.certPath, '-inkey', bob.keyPath], ENTITY, HEAD),
    },
  ] as const;
  await r.report(async () => {
    for (const s of samples) {
      const good = await decryptMessage(s.raw, { decryptionKeys: [], smime: material });
      if (s.kind === 'enveloped') assert.equal(good.status, 'encrypted');
      else assert.equal(good.signature, 'valid');
      const { der, rebuild } = split(s.raw);
      for (let i = 0; i < 60; i++) {
        const bad = damage(der, r);
        const res = await decryptMessage(rebuild(bad), { decryptionKeys: [], smime: material });
        assert.ok(['encrypted', 'none', 'failed'].includes(res.status));
        if (s.kind === 'enveloped') {
          if (res.status === 'encrypted' && !res.mime.toString('latin1').includes(TEXT)) {
            // CBC is malleable: altered content can decrypt; it is then never unmarked
            if (s.cipher !== 'cbc') assert.fail(`${s.cipher}: damaged content decrypted`);
            assert.match(res.reason ?? '', /not integrity-protected/);
          }
          if (res.status !== 'encrypted') assert.equal(res.status, 'failed');
          if (res.status === 'failed') assert.ok(res.reason);
        } else if (res.signature === 'valid') {
          // only damage outside what the signature covers (e.g. an unsigned certificate field
          // the signer was not taken from) may leave it valid: the content must be intact
          assert.ok(res.status !== 'failed');
          const shown = res.unwrapped ? res.mime : rebuild(bad);
          assert.ok(shown.toString('latin1').includes(TEXT));
        }
      }
    }
  });
});
