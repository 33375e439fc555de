/**
 * The per-recipient sending plan and the copies it implies (pure, table-tested).
 *
 * Policy per recipient (contact setting overrides the account's):
 *  - 'never'         → sign (when signing is on and an own key exists) or plain;
 *  - 'when-possible' → encrypt+sign when a usable key was found, else sign/plain;
 *  - 'always'        → encrypt+sign, or REFUSE with the reason when no key was found.
 * Any refusal refuses the whole message (nothing is queued).
 *
 * Copies: visible (To/Cc) recipients are grouped by protection — one encrypted copy for all of
 * them that have keys (their keys + the sender's), one signed (or plain) copy for those without;
 * every Bcc recipient gets a copy of its own. All copies carry the same headers and Message-ID;
 * no copy names a Bcc recipient (no header, no PKESK, no gossip).
 */
export type EncryptPolicy = 'when-possible' | 'always' | 'never';
export type Protection = 'encrypt' | 'sign' | 'plain';

export interface RecipientFacts {
  /** canonical address */
  address: string;
  /** a usable encryption key was found */
  hasKey: boolean;
  /** why not, when !hasKey (shown in a refusal) */
  keyProblem?: string;
  /** per-contact overrides (null/undefined = account setting) */
  encrypt?: EncryptPolicy | null;
  sign?: boolean | null;
}

export interface PolicySettings {
  encryptPolicy: EncryptPolicy;
  sign: boolean;
  /** the sender has an active own key (needed to sign) */
  hasOwnKey: boolean;
}

export type RecipientPlan =
  { address: string; protection: Protection } | { address: string; refused: string };

export function planRecipient(r: RecipientFacts, s: PolicySettings): RecipientPlan {
  const policy = r.encrypt ?? s.encryptPolicy;
  const sign = (r.sign ?? s.sign) && s.hasOwnKey;
  if (policy !== 'never' && r.hasKey) return { address: r.address, protection: 'encrypt' };
  if (policy === 'always')
    return {
      address: r.address,
      refused: r.keyProblem ?? 'no usable OpenPGP key was found',
    };
  return { address: r.address, protection: sign ? 'sign' : 'plain' };
}

export interface CopyPlan {
  kind: 'visible' | 'bcc';
  protection: Protection;
  /** envelope recipients of this copy (canonical) */
  recipients: string[];
}

export type MessagePlan =
  { ok: true; copies: CopyPlan[] } | { ok: false; refused: { address: string; reason: string }[] };

export function planMessage(
  visible: readonly RecipientFacts[],
  bcc: readonly RecipientFacts[],
  s: PolicySettings,
): MessagePlan {
  const refused: { address: string; reason: string }[] = [];
  const vis = visible.map((r) => planRecipient(r, s));
  const hidden = bcc.map((r) => planRecipient(r, s));
  for (const p of [...vis, ...hidden])
    if ('refused' in p) refused.push({ address: p.address, reason: p.refused });
  if (refused.length) return { ok: false, refused };
  const copies: CopyPlan[] = [];
  for (const protection of ['encrypt', 'sign', 'plain'] as const) {
    const group = vis.filter((p) => 'protection' in p && p.protection === protection).map((p) => p.address);
    if (group.length) copies.push({ kind: 'visible', protection, recipients: group });
  }
  for (const p of hidden)
    if ('protection' in p) copies.push({ kind: 'bcc', protection: p.protection, recipients: [p.address] });
  return { ok: true, copies };
}
