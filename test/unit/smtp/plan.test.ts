import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  planMessage,
  planRecipient,
  type PolicySettings,
  type RecipientFacts,
} from '../../../app/sync/outbox/plan.ts';
import { classifyRecipients } from '../../../app/sync/outbox/recipients.ts';

const S: PolicySettings = { encryptPolicy: 'when-possible', sign: true, hasOwnKey: true };
const key = (address: string, extra: Partial<RecipientFacts> = {}): RecipientFacts => ({
  address,
  hasKey: true,
  ...extra,
});
const nokey = (address: string, extra: Partial<RecipientFacts> = {}): RecipientFacts => ({
  address,
  hasKey: false,
  ...extra,
});

describe('sending plan', () => {
  it('per-recipient policy table', () => {
    const rows: [RecipientFacts, Partial<PolicySettings>, string][] = [
      [key('a@x'), {}, 'encrypt'],
      [nokey('a@x'), {}, 'sign'],
      [nokey('a@x'), { sign: false }, 'plain'],
      [nokey('a@x'), { hasOwnKey: false }, 'plain'],
      [key('a@x'), { encryptPolicy: 'never' }, 'sign'],
      [key('a@x'), { encryptPolicy: 'always' }, 'encrypt'],
      [nokey('a@x'), { encryptPolicy: 'always' }, 'refused:no usable OpenPGP key was found'],
      [
        nokey('a@x', { keyProblem: 'key lookup timed out' }),
        { encryptPolicy: 'always' },
        'refused:key lookup timed out',
      ],
      [key('a@x', { encrypt: 'never' }), {}, 'sign'],
      [nokey('a@x', { encrypt: 'always' }), {}, 'refused:no usable OpenPGP key was found'],
      [nokey('a@x', { encrypt: 'when-possible' }), { encryptPolicy: 'always' }, 'sign'],
      [nokey('a@x', { sign: false }), {}, 'plain'],
      [key('a@x', { sign: false }), {}, 'encrypt'],
    ];
    for (const [facts, s, want] of rows) {
      const p = planRecipient(facts, { ...S, ...s });
      const got = 'refused' in p ? `refused:${p.refused}` : p.protection;
      assert.equal(got, want, JSON.stringify({ facts, s }));
    }
  });

  it('groups visible recipients by protection and gives each Bcc its own copy', () => {
    const plan = planMessage([key('a@x'), nokey('b@x'), key('c@x')], [key('d@x'), nokey('e@x')], S);
    assert.deepEqual(plan, {
      ok: true,
      copies: [
        { kind: 'visible', protection: 'encrypt', recipients: ['a@x', 'c@x'] },
        { kind: 'visible', protection: 'sign', recipients: ['b@x'] },
        { kind: 'bcc', protection: 'encrypt', recipients: ['d@x'] },
        { kind: 'bcc', protection: 'sign', recipients: ['e@x'] },
      ],
    });
  });

  it('one refusal refuses the whole message and lists every refused recipient', () => {
    const plan = planMessage([key('a@x'), nokey('b@x')], [nokey('e@x')], { ...S, encryptPolicy: 'always' });
    assert.deepEqual(plan, {
      ok: false,
      refused: [
        { address: 'b@x', reason: 'no usable OpenPGP key was found' },
        { address: 'e@x', reason: 'no usable OpenPGP key was found' },
      ],
    });
  });

  it('Bcc = RCPT − (To ∪ Cc) after canonicalization; duplicates collapse', () => {
    const r = classifyRecipients(
      ['Bob@Example.NET', 'carol@example.net', 'dave@EXAMPLE.com', 'bob@example.net', 'grp@x.org'],
      ['"Bob B." <bob@example.net>, Team: carol@Example.net, grp@x.org;', ''],
    );
    assert.deepEqual(r.visible, ['bob@example.net', 'carol@example.net', 'grp@x.org']);
    assert.deepEqual(r.bcc, ['dave@example.com']);
    assert.equal(r.envelopeForm.get('bob@example.net'), 'Bob@Example.NET');
    const idn = classifyRecipients(['jörg@bücher.de'], ['jörg@xn--bcher-kva.de']);
    assert.deepEqual(idn.bcc, []);
  });
});
