/**
 * Glue for the submission path: gathers, for one outgoing message, each recipient's key
 * (keyring → Autocrypt → network discovery, all within one deadline), the Autocrypt
 * recommendation and the contact settings, then applies the pure policy (policy.ts).
 */
import type * as openpgp from 'openpgp';
import { canonicalAddress } from './address.ts';
import type { AutocryptService } from './autocrypt/service.ts';
import type { Recommendation } from './autocrypt/recommend.ts';
import type { KeyDiscovery } from './discovery/discover.ts';
import { inspectKey } from './key-info.ts';
import type { Keyring } from './keyring.ts';
import { type PolicyResult, type PolicySettings, type RecipientInput, planRecipients } from './policy.ts';

export interface SendRequest {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  account: PolicySettings;
  replyToEncrypted?: boolean;
  /** Bound for all lookups of this message (the keyLookupTimeoutMs setting). */
  timeoutMs?: number;
}

export interface SendPlan {
  policy: PolicyResult;
  /** Public keys to encrypt to, by canonical recipient address (only for 'encrypt-sign' plans). */
  recipientKeys: Map<string, openpgp.PublicKey>;
  /** The sender's active private key (signing, encrypt-to-self), or null. */
  senderKey: openpgp.PrivateKey | null;
  /** The sender's `Autocrypt:` header field, or null. */
  autocryptHeader: string | null;
}

export async function planSend(
  deps: { keyring: Keyring; discovery?: KeyDiscovery | null; autocrypt?: AutocryptService | null },
  req: SendRequest,
): Promise<SendPlan> {
  const { keyring } = deps;
  const from = canonicalAddress(req.from);
  const own = keyring.own.active(from);
  const senderKey = own ? await keyring.own.privateKey(own) : null;
  const fields: { email: string; field: 'to' | 'cc' | 'bcc' }[] = [];
  const seen = new Set<string>();
  for (const [list, field] of [
    [req.to, 'to'],
    [req.cc, 'cc'],
    [req.bcc, 'bcc'],
  ] as const) {
    for (const raw of list) {
      const email = canonicalAddress(raw);
      if (seen.has(email)) continue;
      seen.add(email);
      fields.push({ email, field });
    }
  }
  const emails = fields.map((f) => f.email);
  const found = deps.discovery
    ? await deps.discovery.discoverAll(
        emails,
        req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs },
      )
    : null;
  const at = new Date(keyring.now());
  const inputs: RecipientInput[] = [];
  const keys = new Map<string, openpgp.PublicKey>();
  for (const f of fields) {
    let looked: string[] = ['keyring'];
    if (found) looked = found.get(f.email)?.looked ?? looked;
    // discovery recorded what it found; the keyring's key-change policy decides which key is used
    const use = await keyring.contacts.encryptionKeyFor(f.email);
    const key = use?.key ?? null;
    const stored = use?.record;
    let facts: RecipientInput['key'] = null;
    if (key) {
      const info = await inspectKey(key, at);
      facts = {
        fingerprint: info.fingerprint,
        source: stored?.source ?? 'manual',
        trust: stored?.trust ?? 'unverified',
        expiresAt: info.expiresAt,
        revoked: info.revoked,
        canEncrypt: info.canEncrypt,
      };
      keys.set(f.email, key);
    }
    let autocrypt: Recommendation | null = null;
    if (deps.autocrypt) {
      autocrypt = (
        await deps.autocrypt.recommend(f.email, {
          fromEmail: from,
          replyToEncrypted: req.replyToEncrypted ?? false,
        })
      ).final;
    }
    const c = keyring.getContact(f.email);
    inputs.push({
      email: f.email,
      field: f.field,
      key: facts,
      autocrypt,
      looked,
      contact: c ? { encrypt: c.encrypt, sign: c.sign, attachKey: c.attachKey } : null,
    });
  }
  const policy = planRecipients({
    now: keyring.now(),
    sender: { email: from, hasKey: senderKey !== null },
    account: req.account,
    recipients: inputs,
  });
  for (const r of policy.recipients) if (r.plan !== 'encrypt-sign') keys.delete(r.email);
  const autocryptHeader = deps.autocrypt ? await deps.autocrypt.headerFor(from) : null;
  return { policy, recipientKeys: keys, senderKey, autocryptHeader };
}
