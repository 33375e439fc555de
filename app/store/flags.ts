/** IMAP system flags ⇄ the messages.flags bitmask; keywords kept as a space-separated string. */

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;

const BIT_BY_NAME = new Map<string, number>(SYSTEM_FLAGS.map((f, i) => [f.toLowerCase(), 1 << i]));

/** The bit of a system flag (any case), or undefined for keywords and \\Recent. */
export function systemFlagBit(flag: string): number | undefined {
  return BIT_BY_NAME.get(flag.toLowerCase());
}

/** Flags as IMAP names, system flags first in canonical spelling. */
export function flagsToList(bits: number, keywords: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < SYSTEM_FLAGS.length; i++) if (bits & (1 << i)) out.push(SYSTEM_FLAGS[i]!);
  if (keywords) for (const k of keywords.split(' ')) out.push(k);
  return out;
}

export interface PackedFlags {
  bits: number;
  keywords: string[];
}

/** Splits IMAP flag names into the bitmask and keywords (deduplicated case-insensitively). */
export function packFlags(flags: readonly string[]): PackedFlags {
  let bits = 0;
  const keywords: string[] = [];
  const seen = new Set<string>();
  for (const f of flags) {
    const lower = f.toLowerCase();
    const bit = BIT_BY_NAME.get(lower);
    if (bit !== undefined) bits |= bit;
    else if (lower === '\\recent' || f.startsWith('\\'))
      continue; // not storable
    else if (!seen.has(lower)) {
      seen.add(lower);
      keywords.push(f);
    }
  }
  return { bits, keywords };
}

export function joinKeywords(keywords: readonly string[]): string {
  return keywords.join(' ');
}

export function splitKeywords(s: string): string[] {
  return s ? s.split(' ') : [];
}

export type FlagOp = 'add' | 'remove' | 'replace';

/** Applies an add/remove/replace to (bits, keywords); returns the new pair. */
export function applyFlagOp(
  op: FlagOp,
  bits: number,
  keywords: string,
  change: PackedFlags,
): { bits: number; keywords: string } {
  if (op === 'replace') return { bits: change.bits, keywords: joinKeywords(change.keywords) };
  const cur = splitKeywords(keywords);
  if (op === 'add') {
    const have = new Set(cur.map((k) => k.toLowerCase()));
    for (const k of change.keywords) if (!have.has(k.toLowerCase())) cur.push(k);
    return { bits: bits | change.bits, keywords: joinKeywords(cur) };
  }
  const drop = new Set(change.keywords.map((k) => k.toLowerCase()));
  return { bits: bits & ~change.bits, keywords: joinKeywords(cur.filter((k) => !drop.has(k.toLowerCase()))) };
}
