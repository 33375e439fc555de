/** Flag lists from client arguments: system flags normalised to canonical case, keywords validated. */
import type { ImapToken } from './wire/types.ts';
import { ImapBadError } from './errors.ts';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];
/**
 * Keywords RFC 9051 §2.3.2 defines; an IMAP4rev2 session finds them in FLAGS at SELECT (like every
 * keyword they are accepted and kept: PERMANENTFLAGS has \*).
 */
export const REV2_KEYWORDS = ['$Forwarded', '$MDNSent', '$Junk', '$NotJunk', '$Phishing'];
const CANON = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** One flag (system or keyword), canonical case for system flags. */
export function normalizeFlag(f: string): string {
  if (f.startsWith('\\')) {
    const c = CANON.get(f.toLowerCase());
    if (!c) throw new ImapBadError(`Invalid system flag ${f}`);
    return c;
  }
  if (!/^[\x21-\x7e]+$/.test(f) || /[(){%*"\\\]]/.test(f)) throw new ImapBadError('Invalid flag');
  return f;
}

/** Flags from a token list (or single atoms). `\Recent` is silently dropped (it cannot be set). */
export function parseFlags(tokens: ImapToken[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const t of tokens) {
    // A flag is an atom: `NIL` there is the keyword NIL (the parser reads it as nil).
    const v = t.type === 'atom' ? t.value : t.type === 'nil' ? 'NIL' : null;
    if (v === null) throw new ImapBadError('Invalid flag');
    if (v.toLowerCase() === '\\recent') continue;
    const f = normalizeFlag(v);
    if (seen.has(f.toLowerCase())) continue;
    seen.add(f.toLowerCase());
    out.push(f);
  }
  return out;
}
