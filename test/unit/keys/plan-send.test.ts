import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAutocryptValue } from '../../../app/keys/autocrypt/header.ts';
import { minimizeKey } from '../../../app/keys/autocrypt/minimize.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../../app/keys/memory-repo.ts';
import { planSend } from '../../../app/keys/plan-send.ts';
import { makeKey } from './pgp-helpers.ts';

test('planSend: keyring + Autocrypt recommendation + contact settings → per-recipient plan and keys', async () => {
  const repo = new InMemoryKeyringRepo();
  const keyring = new Keyring({ repo });
  const autocrypt = new AutocryptService({ repo, keyring });
  await keyring.own.generate('me@example.org');
  const bob = await makeKey('bob@example.org');
  await autocrypt.processIncoming({
    from: ['bob@example.org'],
    contentType: 'text/plain',
    date: Date.now(),
    receivedAt: Date.now(),
    autocryptHeaders: [
      formatAutocryptValue({
        addr: 'bob@example.org',
        preferEncrypt: 'mutual',
        keydata: (await minimizeKey(bob.publicKey, 'bob@example.org')).write(),
      }),
    ],
  });
  const carol = await makeKey('carol@example.org', { revoked: true });
  await keyring.importKeys(carol.armoredPublic);
  keyring.setContactSettings('dan@example.org', { encrypt: 'always' });
  const account = { encrypt: 'when-possible' as const, sign: true, attachKey: true };

  const p1 = await planSend(
    { keyring, autocrypt },
    { from: 'Me@example.org', to: ['Bob <bob@example.org>'], cc: [], bcc: ['carol@example.org'], account },
  );
  assert.equal(p1.policy.recipients[0]!.plan, 'encrypt-sign');
  assert.equal(p1.policy.recipients[1]!.plan, 'sign', 'the revoked key is never used');
  assert.equal(p1.recipientKeys.get('bob@example.org')!.getFingerprint(), bob.publicKey.getFingerprint());
  assert.ok(!p1.recipientKeys.has('carol@example.org'));
  assert.ok(p1.senderKey?.isPrivate());
  assert.match(p1.autocryptHeader!, /^Autocrypt: addr=me@example.org; prefer-encrypt=mutual; keydata=/);

  const p2 = await planSend(
    { keyring, autocrypt },
    { from: 'me@example.org', to: ['dan@example.org'], cc: [], bcc: [], account },
  );
  assert.equal(p2.policy.refused, true);
  const plan = p2.policy.recipients[0]!.plan;
  assert.ok(typeof plan === 'object');
  assert.match(
    plan.reason,
    /no OpenPGP key found for dan@example.org \(looked in: keyring\), and your policy requires encryption/,
  );
});
