/**
 * Who gets what: the envelope (RCPT TO) is the truth; the header's To/Cc say which envelope
 * recipients are visible. Bcc = RCPT − (To ∪ Cc), compared after canonicalization (pure).
 */
import { addressesOf } from '../mime/address.ts';
import { tryCanonicalAddress } from '../keys/address.ts';

export interface RecipientSets {
  /** Envelope recipients named in To or Cc, canonical, in envelope order. */
  visible: string[];
  /** Envelope recipients named in neither (Bcc), canonical, in envelope order. */
  bcc: string[];
  /** Canonical envelope address → the address exactly as given in RCPT TO. */
  envelopeForm: Map<string, string>;
}

export function canonical(addr: string): string {
  return tryCanonicalAddress(addr) ?? addr.trim().toLowerCase();
}

/** Addresses of header values (To, Cc), groups flattened, canonical. */
export function headerAddresses(values: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) for (const a of addressesOf(v)) out.add(canonical(a));
  return out;
}

export function classifyRecipients(rcptTo: readonly string[], toCcValues: readonly string[]): RecipientSets {
  const named = headerAddresses(toCcValues);
  const visible: string[] = [];
  const bcc: string[] = [];
  const envelopeForm = new Map<string, string>();
  for (const r of rcptTo) {
    const c = canonical(r);
    if (envelopeForm.has(c)) continue;
    envelopeForm.set(c, r);
    (named.has(c) ? visible : bcc).push(c);
  }
  return { visible, bcc, envelopeForm };
}
