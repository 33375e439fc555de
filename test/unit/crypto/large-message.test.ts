import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { signMessage } from '../../../app/crypto/pgp-mime-sign.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import { createWorkerPool } from '../../../app/crypto/worker-pool.ts';
import type { CryptoEngine } from '../../../app/crypto/engine.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { makeKey, plainMessage } from '../../helpers/crypto/keys.ts';

let key: TestKey;
let pool: CryptoEngine;
before(async () => {
  key = await makeKey('Big', 'big@example.test');
  pool = createWorkerPool({ size: 2 });
});
after(() => pool.close());

test('a 25 MB message encrypts, decrypts (in-thread and in the pool), signs and verifies intact', async () => {
  const att = Buffer.alloc(18 * 1024 * 1024);
  for (let i = 0; i < att.length; i++) att[i] = (i * 2654435761) >>> 24;
  const b64 = att.toString('base64').replace(/.{76}/g, '$&\r\n');
  const raw = plainMessage({
    contentType: 'multipart/mixed; boundary="zz"',
    cte: '7bit',
    body: `--zz\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--zz--\r\n`,
  });
  assert.ok(raw.length > 25_000_000);
  const enc = await encryptMessage(raw, { encryptionKeys: [key.publicKey], signingKeys: [key.privateKey] });
  const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const wantAtt = digest(Buffer.from(b64));
  for (const r of [
    await decryptMessage(enc, { decryptionKeys: [key.privateKey], verificationKeys: [key.publicKey] }),
    await pool.decryptMessage(enc, { decryptionKeys: [key.privateKey], verificationKeys: [key.publicKey] }),
  ]) {
    assert.equal(r.status, 'encrypted');
    assert.equal(r.signature, 'valid');
    const served = buildServedMessage(enc, r);
    const s = served.toString('latin1');
    const start = s.indexOf('base64\r\n\r\n') + 10;
    assert.equal(digest(Buffer.from(s.slice(start, s.indexOf('\r\n--zz--', start)), 'latin1')), wantAtt);
  }
  const signed = await signMessage(raw, { signingKeys: [key.privateKey] });
  const v = await decryptMessage(signed, { decryptionKeys: [], verificationKeys: [key.publicKey] });
  assert.equal(v.signature, 'valid');
});
