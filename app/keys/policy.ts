/**
 * The sending policy: a PURE function from recipients, their keys and the settings (per account,
 * overridden per contact) to a plan per recipient. No I/O, no clock (the caller passes `now`).
 *
 * Per recipient (effective setting = contact override ?? account setting):
 * - encrypt 'never'  → 'sign' (if signing is on and the sender has a key) else 'plain'.
 * - encrypt 'always' → 'encrypt-sign' with a usable key, else refuse with a reason naming the
 *   problem (no key and where we looked / expired / revoked / cannot encrypt / no own key).
 * - encrypt 'when-possible' → 'encrypt-sign' with a usable key, else 'sign'/'plain'. A key known
 *   only from Autocrypt/gossip, unverified, whose Autocrypt recommendation is 'discourage'
 *   (stale or gossip-only) or 'disable' is not used unless the user requires encryption (a reply
 *   to encrypted mail gets 'encrypt' from the recommendation itself).
 * One message goes to all To+Cc recipients, so they must agree (Autocrypt: no silent mixing):
 * if any of them cannot be encrypted to, the 'when-possible' ones are downgraded to sign/plain;
 * those whose setting is 'always' stay encrypted, and keyless recipients in the same message are
 * then refused (the user can send them a separate message). Each Bcc recipient gets its own copy
 * (standards §7), so Bcc plans are never combined.
 *
 * Which standard encrypts (issue 19): S/MIME when the recipient has a usable certificate (the
 * caller passes only a held, valid one) and the sender an own S/MIME certificate for the From
 * address; OpenPGP when the recipient's key is usable (and not discouraged by Autocrypt) and the
 * sender has an own key; when both are possible `prefer` decides (default 'openpgp': it also
 * protects the Subject). With neither, the OpenPGP rules above apply unchanged.
 */
import type { Recommendation } from './autocrypt/recommend.ts';
import type { KeySource, KeyTrust } from './types.ts';

export type EncryptSetting = 'when-possible' | 'always' | 'never';

export type EncryptionStandard = 'openpgp' | 'smime';

export interface PolicySettings {
  encrypt: EncryptSetting;
  sign: boolean;
  attachKey: boolean;
}

export interface ContactOverrides {
  encrypt?: EncryptSetting | null;
  sign?: boolean | null;
  attachKey?: boolean | null;
}

export interface RecipientKeyFacts {
  fingerprint: string;
  source: KeySource;
  trust: KeyTrust;
  /** ms since epoch, null = never expires. */
  expiresAt: number | null;
  revoked: boolean;
  /** Has a valid encryption-capable (sub)key. */
  canEncrypt: boolean;
}

export interface RecipientInput {
  email: string;
  field: 'to' | 'cc' | 'bcc';
  key: RecipientKeyFacts | null;
  /** The Autocrypt recommendation for this recipient (final value), null when unknown. */
  autocrypt?: Recommendation | null;
  contact?: ContactOverrides | null;
  /** Where discovery looked, e.g. ['keyring', 'Autocrypt', 'WKD', 'keys.openpgp.org']. */
  looked?: string[];
  /** A usable S/MIME certificate held for the recipient (valid, not expired), by SHA-256 fingerprint. */
  smime?: { fingerprint: string } | null;
}

export interface PolicyInput {
  now: number;
  /** hasKey: an own OpenPGP key; hasSmime: an own valid S/MIME certificate for the address */
  sender: { email: string; hasKey: boolean; hasSmime?: boolean };
  account: PolicySettings;
  /** The standard used when a recipient can get either (default 'openpgp'). */
  prefer?: EncryptionStandard;
  recipients: RecipientInput[];
}

export type RecipientPlan = 'encrypt-sign' | 'sign' | 'plain' | { refuse: true; reason: string };

export interface PlannedRecipient {
  email: string;
  field: 'to' | 'cc' | 'bcc';
  plan: RecipientPlan;
  /** Attach the sender's public key to this recipient's copy. */
  attachKey: boolean;
  /** The key to encrypt to when plan = 'encrypt-sign' (OpenPGP), or the certificate (S/MIME). */
  keyFingerprint: string | null;
  /** Which standard encrypts when plan = 'encrypt-sign'; null otherwise. */
  standard: EncryptionStandard | null;
  /** Short explanation (for logs and the UI). */
  why: string;
}

export interface PolicyResult {
  recipients: PlannedRecipient[];
  /** True when at least one recipient is refused: the submission must be rejected, naming them. */
  refused: boolean;
}

export function isRefusal(p: RecipientPlan): p is { refuse: true; reason: string } {
  return typeof p === 'object';
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

type KeyVerdict = { usable: true } | { usable: false; problem: string };

function judgeKey(r: RecipientInput, now: number): KeyVerdict {
  const k = r.key;
  const looked = r.looked && r.looked.length ? ` (looked in: ${r.looked.join(', ')})` : '';
  if (!k) return { usable: false, problem: `no OpenPGP key found for ${r.email}${looked}` };
  if (k.revoked)
    return { usable: false, problem: `the OpenPGP key ${k.fingerprint} of ${r.email} is revoked` };
  if (k.expiresAt !== null && k.expiresAt <= now)
    return {
      usable: false,
      problem: `the OpenPGP key ${k.fingerprint} of ${r.email} expired on ${day(k.expiresAt)}`,
    };
  if (!k.canEncrypt)
    return {
      usable: false,
      problem: `the OpenPGP key ${k.fingerprint} of ${r.email} has no usable encryption subkey`,
    };
  return { usable: true };
}

function autocryptDiscourages(r: RecipientInput): boolean {
  const k = r.key;
  if (!k || k.trust === 'verified') return false;
  if (k.source !== 'autocrypt' && k.source !== 'gossip') return false;
  return r.autocrypt === 'discourage' || r.autocrypt === 'disable';
}

interface Individual {
  r: RecipientInput;
  encrypt: EncryptSetting;
  sign: boolean;
  attachKey: boolean;
  plan: RecipientPlan;
  why: string;
  standard?: EncryptionStandard;
}

function unencrypted(sign: boolean, hasKey: boolean): 'sign' | 'plain' {
  return sign && hasKey ? 'sign' : 'plain';
}

function individual(r: RecipientInput, input: PolicyInput): Individual {
  const c = r.contact ?? {};
  const encrypt = c.encrypt ?? input.account.encrypt;
  const sign = c.sign ?? input.account.sign;
  const attachKey = (c.attachKey ?? input.account.attachKey) && input.sender.hasKey;
  const base = { r, encrypt, sign, attachKey };
  if (encrypt === 'never')
    return {
      ...base,
      plan: unencrypted(sign, input.sender.hasKey),
      why: 'encryption is off for this recipient',
    };
  const verdict = judgeKey(r, input.now);
  if (r.smime && input.sender.hasSmime) {
    const pgp = verdict.usable && input.sender.hasKey && (encrypt === 'always' || !autocryptDiscourages(r));
    if (!pgp || input.prefer === 'smime')
      return {
        ...base,
        plan: 'encrypt-sign',
        standard: 'smime',
        why: `S/MIME certificate ${r.smime.fingerprint}${pgp ? ' (S/MIME preferred)' : ''}`,
      };
  }
  if (encrypt === 'always') {
    if (!verdict.usable)
      return {
        ...base,
        plan: { refuse: true, reason: `${verdict.problem}, and your policy requires encryption` },
        why: verdict.problem,
      };
    if (!input.sender.hasKey)
      return {
        ...base,
        plan: {
          refuse: true,
          reason: `${input.sender.email} has no own OpenPGP key to sign with (run: lockbridge keys generate ${input.sender.email}), and your policy requires encryption`,
        },
        why: 'no own key',
      };
    return {
      ...base,
      plan: 'encrypt-sign',
      standard: 'openpgp',
      why: `key ${r.key!.fingerprint} (${r.key!.source})`,
    };
  }
  if (!verdict.usable) return { ...base, plan: unencrypted(sign, input.sender.hasKey), why: verdict.problem };
  if (!input.sender.hasKey)
    return { ...base, plan: 'plain', why: `${input.sender.email} has no own OpenPGP key` };
  if (autocryptDiscourages(r))
    return {
      ...base,
      plan: unencrypted(sign, true),
      why: `Autocrypt recommends against encrypting to ${r.email} (${r.autocrypt})`,
    };
  return {
    ...base,
    plan: 'encrypt-sign',
    standard: 'openpgp',
    why: `key ${r.key!.fingerprint} (${r.key!.source})`,
  };
}

export function planRecipients(input: PolicyInput): PolicyResult {
  const each = input.recipients.map((r) => individual(r, input));
  const group = each.filter((i) => i.r.field !== 'bcc' && !isRefusal(i.plan));
  const notEncrypted = group.filter((i) => i.plan !== 'encrypt-sign');
  const encrypted = group.filter((i) => i.plan === 'encrypt-sign');
  if (notEncrypted.length > 0 && encrypted.length > 0) {
    const required = encrypted.filter((i) => i.encrypt === 'always');
    if (required.length === 0) {
      const names = notEncrypted.map((i) => i.r.email).join(', ');
      for (const i of encrypted) {
        i.plan = unencrypted(i.sign, input.sender.hasKey);
        i.why = `sent unencrypted: this message also goes to ${names}, who cannot receive encrypted mail`;
      }
    } else {
      const needs = required.map((i) => i.r.email).join(', ');
      for (const i of notEncrypted) {
        const problem = i.encrypt === 'never' ? `encryption is off for ${i.r.email}` : i.why;
        i.plan = {
          refuse: true,
          reason: `${problem}; this message also goes to ${needs}, whose policy requires encryption — send ${i.r.email} a separate message`,
        };
      }
      for (const i of encrypted) {
        if (i.encrypt !== 'always') i.why += ' (encrypted with the recipients who require it)';
      }
    }
  }
  const recipients: PlannedRecipient[] = each.map((i) => ({
    email: i.r.email,
    field: i.r.field,
    plan: i.plan,
    attachKey: i.attachKey && !isRefusal(i.plan),
    keyFingerprint:
      i.plan !== 'encrypt-sign'
        ? null
        : i.standard === 'smime'
          ? (i.r.smime?.fingerprint ?? null)
          : (i.r.key?.fingerprint ?? null),
    standard: i.plan === 'encrypt-sign' ? (i.standard ?? 'openpgp') : null,
    why: i.why,
  }));
  return { recipients, refused: recipients.some((r) => isRefusal(r.plan)) };
}

/**
 * Does the policy require encryption to this recipient (contact override, else the account
 * setting)? Then a message to them is never sent unencrypted, not even when the user asks.
 */
export function encryptionRequired(account: EncryptSetting, contact?: EncryptSetting | null): boolean {
  return (contact ?? account) === 'always';
}
