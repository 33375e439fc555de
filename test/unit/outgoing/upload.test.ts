// What goes to the provider is encrypted to the user's own key (and decrypts back to what the
// client appended, minus local status headers); already-encrypted mail is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { inlineEngine } from '../../../app/crypto/engine.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { createUploadEncryptor, isPgpEncrypted, stripLocalHeaders } from '../../../app/outgoing/upload.ts';
import { prepareMessage } from '../../../app/outgoing/prepare.ts';

const ctx = { accountId: 1, email: 'me@example.test', remoteMailbox: 'Sent' };
const raw = Buffer.from(
  'From: me@example.test\r\nTo: bob@example.test\r\nSubject: draft 42\r\nX-Lockbridge-Encryption: none\r\nContent-Type: text/plain\r\n\r\nsecret draft text\r\n',
);

test('uploads are encrypted to self and decrypt to the original', async () => {
  const keyring = new Keyring({ repo: new InMemoryKeyringRepo() });
  await keyring.own.generate('me@example.test');
  const encrypt = createUploadEncryptor({ keyring, engine: inlineEngine });
  const up = await encrypt(raw, ctx);
  assert.ok(isPgpEncrypted(up));
  assert.ok(!up.toString().includes('secret draft text'));
  assert.ok(!up.toString().includes('draft 42'), 'the subject is protected too');
  const key = await keyring.own.privateKey(keyring.own.active('me@example.test')!);
  const back = await decryptMessage(up, { decryptionKeys: [key], verificationKeys: [key.toPublic()] });
  assert.equal(back.status, 'encrypted');
  assert.equal(back.signature, 'valid');
  assert.match(back.mime.toString(), /secret draft text/);
  assert.ok(
    back.innerHeaders.some((h) => h.name.toLowerCase() === 'subject' && h.value.includes('draft 42')),
  );
  assert.ok(!back.mime.toString().includes('X-Lockbridge'));
  assert.equal(await encrypt(up, ctx), up, 'already encrypted: unchanged');
});

test('without an own key the upload is refused (never silently plaintext)', async () => {
  const keyring = new Keyring({ repo: new InMemoryKeyringRepo() });
  const encrypt = createUploadEncryptor({ keyring, engine: inlineEngine });
  await assert.rejects(encrypt(raw, ctx), /no own key/);
});

test('the upload drops the same local-only fields as a submission (X-Lockbridge-*, Autocrypt-Draft-State)', () => {
  const local = Buffer.from(
    'From: me@example.test\r\nX-Lockbridge-Encryption: none\r\nAutocrypt-Draft-State: encrypt=yes\r\n' +
      'X-Lockbridge-Upload2 : t\r\nBcc: eve@example.test\r\nContent-Type: text/plain\r\n\r\nbody\r\n',
  );
  const up = stripLocalHeaders(local).toString();
  const sent = prepareMessage(local, { messageIdDomain: 'example.test' }).base.toString();
  for (const out of [up, sent]) assert.doesNotMatch(out, /x-lockbridge-|autocrypt-draft-state/i);
  assert.match(up, /^Bcc: eve@example\.test\r$/m, "the user's own copy keeps its Bcc");
  assert.doesNotMatch(sent, /^Bcc:/im);
});
