import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type PolicyInput,
  type PolicySettings,
  type RecipientInput,
  type RecipientKeyFacts,
  type RecipientPlan,
  planRecipients,
} from '../../../app/keys/policy.ts';

const NOW = Date.UTC(2026, 10, 23);
const LOOKED = ['keyring', 'Autocrypt', 'WKD', 'keys.openpgp.org'];
const key = (p: Partial<RecipientKeyFacts> = {}): RecipientKeyFacts => ({
  fingerprint: 'AAAA1111',
  source: 'wkd',
  trust: 'unverified',
  expiresAt: null,
  revoked: false,
  canEncrypt: true,
  ...p,
});
const acct = (p: Partial<PolicySettings> = {}): PolicySettings => ({
  encrypt: 'when-possible',
  sign: true,
  attachKey: false,
  ...p,
});
const rcpt = (email: string, p: Partial<RecipientInput> = {}): RecipientInput => ({
  email,
  field: 'to',
  key: key(),
  looked: LOOKED,
  ...p,
});
const run = (recipients: RecipientInput[], account = acct(), hasKey = true): PolicyInput => ({
  now: NOW,
  sender: { email: 'me@example.org', hasKey },
  account,
  recipients,
});
const planOf = (i: PolicyInput, n = 0): RecipientPlan => planRecipients(i).recipients[n]!.plan;
const reasonOf = (i: PolicyInput, n = 0): string => {
  const p = planOf(i, n);
  assert.ok(typeof p === 'object', `expected a refusal, got ${JSON.stringify(p)}`);
  return p.reason;
};

test('single recipient table', () => {
  type Row = [string, PolicyInput, RecipientPlan | RegExp];
  const rows: Row[] = [
    ['when-possible + usable key', run([rcpt('b@x.org')]), 'encrypt-sign'],
    ['when-possible + no key, sign on', run([rcpt('b@x.org', { key: null })]), 'sign'],
    [
      'when-possible + no key, sign off',
      run([rcpt('b@x.org', { key: null })], acct({ sign: false })),
      'plain',
    ],
    ['when-possible + expired key', run([rcpt('b@x.org', { key: key({ expiresAt: NOW - 1 }) })]), 'sign'],
    ['when-possible + revoked key', run([rcpt('b@x.org', { key: key({ revoked: true }) })]), 'sign'],
    ['when-possible + sign-only key', run([rcpt('b@x.org', { key: key({ canEncrypt: false }) })]), 'sign'],
    ['when-possible + no own key', run([rcpt('b@x.org')], acct(), false), 'plain'],
    ['never + key, sign on', run([rcpt('b@x.org')], acct({ encrypt: 'never' })), 'sign'],
    ['never + key, sign off', run([rcpt('b@x.org')], acct({ encrypt: 'never', sign: false })), 'plain'],
    ['never, but no own key to sign', run([rcpt('b@x.org')], acct({ encrypt: 'never' }), false), 'plain'],
    ['always + key', run([rcpt('b@x.org')], acct({ encrypt: 'always' })), 'encrypt-sign'],
    [
      'always + no key',
      run([rcpt('bob@example.org', { key: null })], acct({ encrypt: 'always' })),
      /^no OpenPGP key found for bob@example.org \(looked in: keyring, Autocrypt, WKD, keys.openpgp.org\), and your policy requires encryption$/,
    ],
    [
      'always + expired key',
      run([rcpt('b@x.org', { key: key({ expiresAt: Date.UTC(2026, 0, 2) }) })], acct({ encrypt: 'always' })),
      /expired on 2026-01-02, and your policy requires encryption/,
    ],
    [
      'always + revoked key',
      run([rcpt('b@x.org', { key: key({ revoked: true }) })], acct({ encrypt: 'always' })),
      /AAAA1111 of b@x.org is revoked/,
    ],
    [
      'always + no own key',
      run([rcpt('b@x.org')], acct({ encrypt: 'always' }), false),
      /lockbridge keys generate me@example.org/,
    ],
    [
      'contact override always beats account never',
      run([rcpt('b@x.org', { contact: { encrypt: 'always' } })], acct({ encrypt: 'never' })),
      'encrypt-sign',
    ],
    [
      'contact override never beats account always',
      run([rcpt('b@x.org', { contact: { encrypt: 'never' } })], acct({ encrypt: 'always' })),
      'sign',
    ],
    ['contact sign=false override', run([rcpt('b@x.org', { key: null, contact: { sign: false } })]), 'plain'],
    [
      'null contact fields inherit',
      run([rcpt('b@x.org', { contact: { encrypt: null, sign: null } })], acct({ encrypt: 'never' })),
      'sign',
    ],
    [
      'Autocrypt key, discourage (stale)',
      run([rcpt('b@x.org', { key: key({ source: 'autocrypt' }), autocrypt: 'discourage' })]),
      'sign',
    ],
    [
      'gossip key, discourage',
      run([rcpt('b@x.org', { key: key({ source: 'gossip' }), autocrypt: 'discourage' })]),
      'sign',
    ],
    [
      'Autocrypt key, discourage, but verified',
      run([
        rcpt('b@x.org', { key: key({ source: 'autocrypt', trust: 'verified' }), autocrypt: 'discourage' }),
      ]),
      'encrypt-sign',
    ],
    [
      'Autocrypt key, discourage, policy always',
      run(
        [rcpt('b@x.org', { key: key({ source: 'autocrypt' }), autocrypt: 'discourage' })],
        acct({ encrypt: 'always' }),
      ),
      'encrypt-sign',
    ],
    [
      'Autocrypt key, available',
      run([rcpt('b@x.org', { key: key({ source: 'autocrypt' }), autocrypt: 'available' })]),
      'encrypt-sign',
    ],
    [
      'WKD key ignores Autocrypt discourage',
      run([rcpt('b@x.org', { key: key({ source: 'wkd' }), autocrypt: 'discourage' })]),
      'encrypt-sign',
    ],
  ];
  for (const [name, input, expected] of rows) {
    if (expected instanceof RegExp) assert.match(reasonOf(input), expected, name);
    else assert.deepEqual(planOf(input), expected, name);
  }
});

test('To/Cc share one message: a keyless recipient downgrades the others (when-possible)', () => {
  const r = planRecipients(
    run([rcpt('a@x.org'), rcpt('b@x.org', { field: 'cc', key: null }), rcpt('c@x.org', { field: 'bcc' })]),
  );
  assert.deepEqual(
    r.recipients.map((x) => x.plan),
    ['sign', 'sign', 'encrypt-sign'],
  );
  assert.match(r.recipients[0]!.why, /also goes to b@x.org/);
  assert.equal(r.refused, false);
  assert.equal(r.recipients[2]!.keyFingerprint, 'AAAA1111');
  assert.equal(r.recipients[0]!.keyFingerprint, null);
});

test('To/Cc with a recipient who requires encryption: keyless ones are refused with an actionable reason', () => {
  const r = planRecipients(
    run([
      rcpt('a@x.org', { contact: { encrypt: 'always' } }),
      rcpt('b@x.org', { key: null }),
      rcpt('c@x.org'),
    ]),
  );
  assert.equal(r.recipients[0]!.plan, 'encrypt-sign');
  const b = r.recipients[1]!.plan;
  assert.ok(typeof b === 'object');
  assert.match(
    b.reason,
    /no OpenPGP key found for b@x.org .*a@x.org, whose policy requires encryption — send b@x.org a separate message/,
  );
  assert.equal(r.recipients[2]!.plan, 'encrypt-sign');
  assert.equal(r.refused, true);
});

test('Bcc recipients are planned alone; all encryptable → all encrypt', () => {
  const r = planRecipients(
    run([rcpt('a@x.org'), rcpt('b@x.org', { field: 'cc' }), rcpt('c@x.org', { field: 'bcc', key: null })]),
  );
  assert.deepEqual(
    r.recipients.map((x) => x.plan),
    ['encrypt-sign', 'encrypt-sign', 'sign'],
  );
});

test('refusals in always mode name each recipient; attachKey follows settings and needs an own key', () => {
  const r = planRecipients(
    run(
      [rcpt('a@x.org', { key: null }), rcpt('b@x.org', { key: key({ revoked: true }) })],
      acct({ encrypt: 'always', attachKey: true }),
    ),
  );
  assert.equal(r.refused, true);
  assert.ok(r.recipients.every((x) => typeof x.plan === 'object' && x.attachKey === false));
  const a = planRecipients(
    run([rcpt('a@x.org'), rcpt('b@x.org', { contact: { attachKey: false } })], acct({ attachKey: true })),
  );
  assert.deepEqual(
    a.recipients.map((x) => x.attachKey),
    [true, false],
  );
  const noKey = planRecipients(run([rcpt('a@x.org')], acct({ attachKey: true }), false));
  assert.equal(noKey.recipients[0]!.attachKey, false);
});

test('S/MIME or OpenPGP per recipient (issue 19): certificate, key, preference, policy', () => {
  const cert = { fingerprint: 'CERT2222' };
  const both = (p: Partial<PolicyInput> = {}, r: Partial<RecipientInput> = {}, a = acct()): PolicyInput => ({
    ...run([rcpt('b@x.org', { smime: cert, ...r })], a),
    sender: { email: 'me@example.org', hasKey: true, hasSmime: true },
    ...p,
  });
  const pick = (i: PolicyInput) => {
    const r = planRecipients(i).recipients[0]!;
    return [r.plan, r.standard, r.keyFingerprint];
  };
  type Row = [string, PolicyInput, unknown[]];
  const rows: Row[] = [
    ['certificate only', both({}, { key: null }), ['encrypt-sign', 'smime', 'CERT2222']],
    ['key only', both({}, { smime: null }), ['encrypt-sign', 'openpgp', 'AAAA1111']],
    ['both, default preference: OpenPGP', both(), ['encrypt-sign', 'openpgp', 'AAAA1111']],
    ['both, prefer S/MIME', both({ prefer: 'smime' }), ['encrypt-sign', 'smime', 'CERT2222']],
    ['both, prefer OpenPGP', both({ prefer: 'openpgp' }), ['encrypt-sign', 'openpgp', 'AAAA1111']],
    [
      'certificate, but no own S/MIME certificate: the OpenPGP rules',
      both({ sender: { email: 'me@example.org', hasKey: true, hasSmime: false } }, { key: null }),
      ['sign', null, null],
    ],
    [
      'certificate, no own OpenPGP key',
      both({ sender: { email: 'me@example.org', hasKey: false, hasSmime: true } }),
      ['encrypt-sign', 'smime', 'CERT2222'],
    ],
    [
      'expired OpenPGP key and a certificate',
      both({}, { key: key({ expiresAt: NOW - 1 }) }),
      ['encrypt-sign', 'smime', 'CERT2222'],
    ],
    [
      'gossip key Autocrypt discourages, and a certificate',
      both({}, { key: key({ source: 'gossip' }), autocrypt: 'discourage' }),
      ['encrypt-sign', 'smime', 'CERT2222'],
    ],
    [
      'always, no OpenPGP key but a certificate: not refused',
      both({}, { key: null }, acct({ encrypt: 'always' })),
      ['encrypt-sign', 'smime', 'CERT2222'],
    ],
    ['never, with a certificate', both({}, {}, acct({ encrypt: 'never' })), ['sign', null, null]],
  ];
  for (const [name, input, want] of rows) assert.deepEqual(pick(input), want, name);
});
