import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupCopies, type RecipientPlan } from '../../../app/outgoing/plan.ts';
import { classifyRecipients } from '../../../app/outgoing/recipients.ts';

const enc = (address: string): RecipientPlan => ({ address, protection: 'encrypt' });
const sig = (address: string): RecipientPlan => ({ address, protection: 'sign' });
const pla = (address: string): RecipientPlan => ({ address, protection: 'plain' });
const ref = (address: string, reason = 'no key'): RecipientPlan => ({ address, refused: reason });

describe('copies from per-recipient plans', () => {
  it('groups visible recipients by protection and gives each Bcc its own copy', () => {
    const plan = groupCopies([enc('a@x'), sig('b@x'), enc('c@x'), pla('f@x')], [enc('d@x'), sig('e@x')]);
    assert.deepEqual(plan, {
      ok: true,
      copies: [
        { kind: 'visible', protection: 'encrypt', recipients: ['a@x', 'c@x'] },
        { kind: 'visible', protection: 'sign', recipients: ['b@x'] },
        { kind: 'visible', protection: 'plain', recipients: ['f@x'] },
        { kind: 'bcc', protection: 'encrypt', recipients: ['d@x'] },
        { kind: 'bcc', protection: 'sign', recipients: ['e@x'] },
      ],
    });
  });

  it('S/MIME recipients get their own visible copy beside the OpenPGP one (issue 19)', () => {
    const smi = (address: string): RecipientPlan => ({ address, protection: 'smime' });
    assert.deepEqual(groupCopies([enc('a@x'), smi('b@x'), pla('c@x'), smi('d@x')], [smi('e@x')]), {
      ok: true,
      copies: [
        { kind: 'visible', protection: 'encrypt', recipients: ['a@x'] },
        { kind: 'visible', protection: 'smime', recipients: ['b@x', 'd@x'] },
        { kind: 'visible', protection: 'plain', recipients: ['c@x'] },
        { kind: 'bcc', protection: 'smime', recipients: ['e@x'] },
      ],
    });
  });

  it('only Bcc recipients: one copy each, no visible copy', () => {
    assert.deepEqual(groupCopies([], [enc('d@x'), enc('e@x')]), {
      ok: true,
      copies: [
        { kind: 'bcc', protection: 'encrypt', recipients: ['d@x'] },
        { kind: 'bcc', protection: 'encrypt', recipients: ['e@x'] },
      ],
    });
  });

  it('one refusal refuses the whole message and lists every refused recipient', () => {
    assert.deepEqual(groupCopies([enc('a@x'), ref('b@x')], [ref('e@x', 'expired key')]), {
      ok: false,
      refused: [
        { address: 'b@x', reason: 'no key' },
        { address: 'e@x', reason: 'expired key' },
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
