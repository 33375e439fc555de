import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkerPool } from '../../../app/crypto/worker-pool.ts';
import { inlineEngine } from '../../../app/crypto/engine.ts';
import type { CryptoEngine } from '../../../app/crypto/engine.ts';
import { CryptoKeyError } from '../../../app/crypto/errors.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { makeKey, plainMessage } from '../../helpers/crypto/keys.ts';

let alice: TestKey;
let bob: TestKey;
let pool: CryptoEngine;

before(async () => {
  [alice, bob] = await Promise.all([
    makeKey('Alice', 'alice@example.test'),
    makeKey('Bob', 'bob@example.test'),
  ]);
  pool = createWorkerPool({ size: 2 });
});
after(async () => {
  await pool.close();
});

test('pool and in-thread engine give the same results (encrypt in one, decrypt in the other)', async () => {
  const raw = plainMessage({ subject: 'pooled', body: 'x'.repeat(30_000) + '\r\n' });
  const viaPool = await pool.encryptMessage(raw, {
    encryptionKeys: [alice.publicKey],
    signingKeys: [bob.privateKey],
  });
  const inline = await inlineEngine.decryptMessage(viaPool, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.publicKey],
  });
  const pooled = await pool.decryptMessage(viaPool, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.armoredPublic],
  });
  assert.equal(pooled.status, 'encrypted');
  assert.equal(pooled.signature, 'valid');
  assert.ok(Buffer.isBuffer(pooled.mime));
  assert.deepEqual(pooled.mime, inline.mime);
  assert.deepEqual(pooled.innerHeaders, inline.innerHeaders);
  assert.equal(pooled.signerFingerprint, inline.signerFingerprint);

  const signed = await pool.signMessage(raw, { signingKeys: [bob.privateKey] });
  const v = await inlineEngine.decryptMessage(signed, {
    decryptionKeys: [],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(v.signature, 'valid');
});

test('many concurrent jobs all complete; key lookups cross threads', async () => {
  const msgs = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      inlineEngine.encryptMessage(plainMessage({ subject: `n${i}` }), {
        encryptionKeys: [alice.publicKey],
        signingKeys: [bob.privateKey],
      }),
    ),
  );
  let lookups = 0;
  const results = await Promise.all(
    msgs.map((m) =>
      pool.decryptMessage(m, {
        decryptionKeys: [alice.privateKey],
        lookupVerificationKeys: async () => {
          lookups++;
          return [bob.publicKey];
        },
      }),
    ),
  );
  assert.equal(lookups, 40);
  results.forEach((r, i) => {
    assert.equal(r.status, 'encrypted');
    assert.equal(r.signature, 'valid');
    assert.equal(r.innerHeaders.find((h) => h.name === 'Subject')?.value, `n${i}`);
  });
});

test('typed errors cross the thread boundary', async () => {
  await assert.rejects(
    pool.encryptMessage(plainMessage({}), { encryptionKeys: ['not a key'], signingKeys: [] }),
    (err: unknown) => err instanceof CryptoKeyError,
  );
});

test('small plain mail is answered on the calling thread (no worker starts), as the in-thread engine answers it', async () => {
  const fresh = createWorkerPool({ size: 1 });
  let started = 0;
  const onWorker = () => started++;
  process.on('worker', onWorker);
  try {
    const withKey = plainMessage({
      subject: 'my key',
      contentType: 'multipart/mixed; boundary="b"',
      body: [
        '--b',
        'Content-Type: text/plain',
        '',
        'my key is attached',
        '--b',
        'Content-Type: application/pgp-keys',
        '',
        bob.armoredPublic.trim(),
        '--b--',
        '',
      ].join('\r\n'),
    });
    const opts = { decryptionKeys: [alice.privateKey], verificationKeys: [bob.publicKey] };
    for (const raw of [plainMessage({ subject: 'plain' }), withKey]) {
      const here = await fresh.decryptMessage(raw, opts);
      assert.deepEqual(here, await inlineEngine.decryptMessage(raw, opts));
      assert.equal(here.form, 'plain');
    }
    assert.equal((await fresh.decryptMessage(withKey, opts)).attachedKeys.length, 1);
    assert.equal(started, 0, 'a worker started for plain mail');

    // something to decrypt still goes to a worker
    const enc = await inlineEngine.encryptMessage(plainMessage({ subject: 'secret' }), {
      encryptionKeys: [alice.publicKey],
      signingKeys: [bob.privateKey],
    });
    assert.equal((await fresh.decryptMessage(enc, opts)).status, 'encrypted');
    assert.equal(started, 1);
  } finally {
    process.off('worker', onWorker);
    await fresh.close();
  }
});
