/**
 * Golden fixtures (test/fixtures/pgp, made once by generate.ts with gpg): Thunderbird-shaped
 * encrypted (protected headers v1, outer Subject "...") and signed (OpenPGP_signature.asc)
 * messages decrypt and verify; the EFAIL fixtures are handled safely (no plaintext anywhere),
 * and gpg agrees about which fixtures are broken.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import { createWorkerPool } from '../../../app/crypto/worker-pool.ts';
import { parseEntity } from '../../../app/mime/entity.ts';
import { GpgHome, statusTokens } from '../../helpers/crypto/gpg.ts';

const dir = new URL('../../fixtures/pgp/', import.meta.url);
const file = (n: string) => readFileSync(new URL(n, dir));
const text = (n: string) => file(n).toString('utf8');
const fpr = Object.fromEntries(
  text('FINGERPRINTS')
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string]),
);
const bobSec = text('bob.sec.asc');
const alicePub = text('alice.pub.asc');
const CANARY = 'EFAIL-CANARY-PLAINTEXT';

let g: GpgHome;
before(() => {
  g = new GpgHome();
  g.importKey(bobSec);
  g.importKey(alicePub);
});
after(() => g.dispose());

function headers(b: Buffer, name: string): string[] {
  return parseEntity(b)
    .headers.filter((h) => h.lname === name)
    .map((h) => h.value);
}

test('Thunderbird-shaped encrypted message: decrypts, verifies, inner headers and gossip restored', async () => {
  const raw = file('thunderbird-encrypted.eml');
  const r = await decryptMessage(raw, { decryptionKeys: [bobSec], verificationKeys: [alicePub] });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.form, 'pgp-mime');
  assert.equal(r.signature, 'valid');
  assert.equal(r.signerFingerprint, fpr['alice']);
  assert.equal(r.signerMismatch, false);
  assert.equal(r.headerProtection, 'v1');
  assert.equal(r.gossip.length, 1);
  assert.match(r.gossip[0]!, /^addr=bob@example\.test; keydata=\s*mDMEa/);
  const served = buildServedMessage(raw, r);
  assert.deepEqual(headers(served, 'subject'), ['Budget 2027 (confidential)']);
  assert.deepEqual(headers(served, 'from'), ['Alice Example <alice@example.test>']);
  assert.deepEqual(headers(served, 'x-lockbridge-signature'), [`valid; signer=${fpr['alice']}`]);
  assert.equal(headers(served, 'autocrypt').length, 1, 'transport Autocrypt header kept');
  assert.equal(headers(served, 'autocrypt-gossip').length, 0, 'gossip is not served as a header');
  const s = served.toString('utf8');
  assert.ok(s.includes('the numbers are attached. Grüße, Alice'));
  assert.ok(s.includes('filename="budget.csv"'));
  assert.ok(!s.includes('protected-headers'));
  assert.ok(!s.includes('Subject: ...'));
});

test('Thunderbird-shaped signed message: valid over the exact bytes, also from an LF copy; attached key found', async () => {
  const raw = file('thunderbird-signed.eml');
  for (const copy of [raw, Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')]) {
    const r = await decryptMessage(copy, { decryptionKeys: [], verificationKeys: [alicePub] });
    assert.equal(r.status, 'none');
    assert.equal(r.form, 'pgp-mime-signed');
    assert.equal(r.signature, 'valid');
    assert.equal(r.signerFingerprint, fpr['alice']);
    assert.equal(r.innerHeaders.find((h) => h.name === 'Subject')?.value, 'Signed minutes');
    assert.equal(r.attachedKeys.length, 1);
  }
  // Re-folding a header inside the signed part breaks it (verification is over raw bytes).
  const refolded = Buffer.from(
    raw
      .toString('latin1')
      .replace(
        'boundary="------------mK2dN8bV4cX1zL7qW3eR9tY5";\r\n protected',
        'boundary="------------mK2dN8bV4cX1zL7qW3eR9tY5"; protected',
      ),
    'latin1',
  );
  assert.notDeepEqual(refolded, raw);
  const bad = await decryptMessage(refolded, { decryptionKeys: [], verificationKeys: [alicePub] });
  assert.equal(bad.signature, 'invalid');
  // Unknown key without lookup
  const unk = await decryptMessage(raw, { decryptionKeys: [] });
  assert.equal(unk.signature, 'unknown-key');
});

test('EFAIL fixtures: nothing decrypted, no plaintext in result or served message; gpg agrees they are unsafe', async () => {
  const pool = createWorkerPool({ size: 2 });
  try {
    for (const name of ['efail-no-mdc.eml', 'efail-bitflip.eml', 'efail-mixed.eml', 'efail-html-exfil.eml']) {
      const raw = file(name);
      for (const engine of ['inline', 'pool'] as const) {
        const opts = { decryptionKeys: [bobSec], verificationKeys: [alicePub] };
        const r = engine === 'pool' ? await pool.decryptMessage(raw, opts) : await decryptMessage(raw, opts);
        assert.notEqual(r.status, 'encrypted', name);
        const served = buildServedMessage(raw, r).toString('latin1');
        assert.ok(!r.mime.toString('latin1').includes(CANARY), `${name}: plaintext in result`);
        assert.ok(!served.includes(CANARY), `${name}: plaintext served`);
        assert.ok(/^X-Lockbridge-Encryption: (failed|none)\r$/m.test(served), name);
      }
    }
  } finally {
    await pool.close();
  }
  // the failing ones fail for the right reasons
  const noMdc = await decryptMessage(file('efail-no-mdc.eml'), { decryptionKeys: [bobSec] });
  assert.match(noMdc.reason!, /not integrity protected/);
  const flip = await decryptMessage(file('efail-bitflip.eml'), { decryptionKeys: [bobSec] });
  assert.equal(flip.status, 'failed');
  assert.match(flip.reason!, /integrity check failed|decryption failed/);
  const mixed = await decryptMessage(file('efail-mixed.eml'), { decryptionKeys: [bobSec] });
  assert.equal(mixed.status, 'none');
  assert.match(mixed.reason!, /left encrypted/);

  // gpg: the bit-flipped message fails its MDC; the tag-9 one is reported as not integrity protected.
  const armored = (n: string) =>
    /-----BEGIN PGP MESSAGE-----[\s\S]+?-----END PGP MESSAGE-----/.exec(text(n))![0];
  const gf = g.gpg(['--status-fd', '1', '--decrypt'], armored('efail-bitflip.eml'));
  assert.notEqual(gf.status, 0);
  assert.ok(statusTokens(gf.stdout).some((t) => t.startsWith('DECRYPTION_FAILED') || t.startsWith('BADMDC')));
  const gn = g.gpg(['--status-fd', '1', '--decrypt'], armored('efail-no-mdc.eml'));
  // (gpg streams the plaintext to stdout before it reports the failure — exactly what the bridge must not do)
  assert.ok(statusTokens(gn.stdout).includes('DECRYPTION_FAILED'));
  assert.match(gn.stderr, /not integrity protected/);
});
