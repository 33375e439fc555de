/** Keys interop with Sequoia sq 0.27: its certificates import and are used; ours work in sq. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lb-keys-sq-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const sq = (args: string[], input?: string): string =>
  execFileSync('sq', args, {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, HOME: tmp },
  });

test('an sq-generated certificate imports and is the encryption key for its address', async () => {
  const keyFile = join(tmp, 'sq.key');
  const certFile = join(tmp, 'sq.cert');
  sq(['key', 'generate', '--userid', 'Sam <sam@example.org>', '--export', keyFile]);
  sq(['key', 'extract-cert', keyFile, '-o', certFile]);
  const armoredCert = sq(['armor', certFile]);
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const res = await kr.importKeys(armoredCert);
  assert.deepEqual(res[0]!.emails, ['sam@example.org']);
  const use = await kr.contacts.encryptionKeyFor('sam@example.org');
  assert.ok(use);
  // what we encrypt to it, sq decrypts
  const enc = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'hi sam' }),
    encryptionKeys: use.key,
    format: 'binary',
  });
  const encFile = join(tmp, 'm.pgp');
  writeFileSync(encFile, enc);
  assert.equal(sq(['decrypt', '--recipient-key', keyFile, encFile]), 'hi sam');
});

test('our exported public key works in sq (encrypt to it, we decrypt)', async () => {
  const kr = new Keyring({ repo: new InMemoryKeyringRepo() });
  const rec = await kr.own.generate('me@example.org');
  const pubFile = join(tmp, 'me.asc');
  writeFileSync(pubFile, kr.own.exportPublic('me@example.org'));
  const inspect = sq(['inspect', pubFile]);
  assert.match(inspect, new RegExp(rec.fingerprint));
  assert.match(inspect, /Key flags: transport encryption, data-at-rest encryption/);
  const out = join(tmp, 'to-me.pgp');
  // `--compression none`: sq's default `pad` appends padding after the deflate stream, which
  // openpgp.js 6.3 on Node 24 (native DecompressionStream) rejects as trailing junk — a message
  // decryption issue reported to the crypto layer, not a key issue.
  sq(['encrypt', '--compression', 'none', '--recipient-cert', pubFile, '-o', out], 'from sq');
  const msg = await openpgp.readMessage({ armoredMessage: readFileSync(out, 'utf8') });
  const dec = await openpgp.decrypt({ message: msg, decryptionKeys: await kr.own.privateKey(rec) });
  assert.equal(dec.data, 'from sq');
});
