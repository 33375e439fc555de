/**
 * From per-recipient plans (the sending policy of app/keys/policy.ts, applied to each recipient)
 * to the copies that go upstream (pure, table-tested):
 *  - any refusal refuses the whole message (nothing is queued);
 *  - visible (To/Cc) recipients are grouped by protection — one OpenPGP-encrypted copy for all of
 *    them that are encrypted to with OpenPGP (their keys + the sender's), one S/MIME copy for those
 *    encrypted to with S/MIME (their certificates + the sender's), one signed (or plain) copy for
 *    the others;
 *  - every Bcc recipient gets a copy of its own.
 * All copies carry the same headers and Message-ID; no copy names a Bcc recipient (no header, no
 * PKESK, no gossip).
 */
/** 'encrypt': PGP/MIME encrypted (+signed); 'smime': S/MIME signed then encrypted. */
export type Protection = 'encrypt' | 'smime' | 'sign' | 'plain';

export type RecipientPlan =
  { address: string; protection: Protection } | { address: string; refused: string };

export interface CopyPlan {
  kind: 'visible' | 'bcc';
  protection: Protection;
  /** envelope recipients of this copy (canonical) */
  recipients: string[];
}

export type MessagePlan =
  { ok: true; copies: CopyPlan[] } | { ok: false; refused: { address: string; reason: string }[] };

export function groupCopies(vis: readonly RecipientPlan[], hidden: readonly RecipientPlan[]): MessagePlan {
  const refused: { address: string; reason: string }[] = [];
  for (const p of [...vis, ...hidden])
    if ('refused' in p) refused.push({ address: p.address, reason: p.refused });
  if (refused.length) return { ok: false, refused };
  const copies: CopyPlan[] = [];
  for (const protection of ['encrypt', 'smime', 'sign', 'plain'] as const) {
    const group = vis.filter((p) => 'protection' in p && p.protection === protection).map((p) => p.address);
    if (group.length) copies.push({ kind: 'visible', protection, recipients: group });
  }
  for (const p of hidden)
    if ('protection' in p) copies.push({ kind: 'bcc', protection: p.protection, recipients: [p.address] });
  return { ok: true, copies };
}

/**
 * A submission the policy refused is kept in the outbox as a 'failed' item holding the client's
 * message as submitted (never relayed as it is: only sent again through the submission pipeline).
 * Its envelope carries the refused recipients and why.
 */
export interface RefusedEnvelope {
  from: string;
  to: string[];
  smtpUtf8: boolean;
  refused: { address: string; reason: string }[];
  messageId: string;
  subject: string;
  [extra: string]: unknown;
}

/** The refused recipients of a kept refused submission; null for an ordinary outbox copy. */
export function refusedRecipients(envelope: {
  [k: string]: unknown;
}): { address: string; reason: string }[] | null {
  const r = envelope['refused'];
  if (!Array.isArray(r)) return null;
  return r.filter(
    (x): x is { address: string; reason: string } =>
      typeof x === 'object' && x !== null && typeof x.address === 'string' && typeof x.reason === 'string',
  );
}
