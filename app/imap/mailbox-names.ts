/**
 * Mailbox names between the wire (modified UTF-7, or UTF-8 after ENABLE UTF8=ACCEPT) and the port
 * (UTF-8, '/' delimiter, `INBOX` upper-case), plus LIST pattern matching.
 */
import { decodeMUtf7, encodeMUtf7 } from './wire/mutf7.ts';
import { InvalidMailboxNameError } from './errors.ts';
import { mailboxName } from './format.ts';

export const DELIMITER = '/';

/** Client argument → port name. Throws InvalidMailboxNameError on a bad encoding or shape. */
export function fromWire(raw: string, utf8: boolean): string {
  let name: string;
  if (utf8 && /[^\x00-\x7f]/.test(raw)) name = raw;
  else {
    try {
      name = decodeMUtf7(raw);
    } catch {
      throw new InvalidMailboxNameError('Mailbox name is not valid modified UTF-7');
    }
  }
  return normalizeInbox(name);
}

/** `inbox`, `Inbox/x` → `INBOX`, `INBOX/x`. */
export function normalizeInbox(name: string): string {
  if (
    name.length >= 5 &&
    name.slice(0, 5).toUpperCase() === 'INBOX' &&
    (name.length === 5 || name[5] === DELIMITER)
  ) {
    return 'INBOX' + name.slice(5);
  }
  return name;
}

/** Checks a name for CREATE / RENAME targets. */
export function validateNewName(name: string): string {
  let n = name;
  if (n.endsWith(DELIMITER)) n = n.slice(0, -1); // RFC 3501: trailing delimiter = "will have inferiors"
  if (!n || n.startsWith(DELIMITER) || n.includes(DELIMITER + DELIMITER)) throw new InvalidMailboxNameError();
  if (/[\x00-\x1f\x7f]/.test(n))
    throw new InvalidMailboxNameError('Mailbox name contains control characters');
  if (n.split(DELIMITER).some((p) => p === '.' || p === '..')) throw new InvalidMailboxNameError();
  if (Buffer.byteLength(n) > 1000) throw new InvalidMailboxNameError('Mailbox name too long');
  return n;
}

/** Port name → response form (astring). */
export function toWire(name: string, utf8: boolean): string {
  return mailboxName(utf8 ? name : encodeMUtf7(name));
}

const STAR = -1;
const PERCENT = -2;

/**
 * Compile a LIST pattern (`*` any, `%` any except delimiter), reference prepended. Matching runs the
 * pattern as a bit-parallel NFA over the name (hand-written: a regular expression or glob library
 * backtracks, and `LIST "" "**********q"` took seconds): one pass over the name, each character
 * costing (pattern tokens / 32) word operations; runs of wildcards are collapsed, and a pattern
 * with more literal characters than the name is refused before any work.
 */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  let full = reference && !pattern.startsWith(DELIMITER) ? reference + pattern : pattern;
  full = normalizeInbox(full);
  const tokens: number[] = [];
  let literals = 0;
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i);
    if (c === 0x2a || c === 0x25) {
      const t = c === 0x2a ? STAR : PERCENT;
      const last = tokens.length ? tokens[tokens.length - 1]! : 0;
      if (last === STAR) continue; // `**`, `*%` → `*`
      if (last === PERCENT) {
        if (t === STAR) tokens[tokens.length - 1] = STAR; // `%*` → `*`
        continue; // `%%` → `%`
      }
      tokens.push(t);
    } else {
      tokens.push(c);
      literals++;
    }
  }
  // State i = "the first i tokens matched"; bit i of these masks is state i.
  const m = tokens.length;
  const words = (m >> 5) + 1;
  const mask = (): Uint32Array => new Uint32Array(words);
  const set = (b: Uint32Array, i: number): void => {
    b[i >> 5]! |= 1 << (i & 31);
  };
  const star = mask(); // states that stay on any character
  const pct = mask(); // states that stay on any character but the delimiter
  const wild = mask(); // wildcard states (they also match the empty string: state i+1 is active too)
  const advance = new Map<number, Uint32Array>(); // per character: states whose literal it is
  for (let i = 0; i < m; i++) {
    const t = tokens[i]!;
    if (t === STAR) set(star, i);
    else if (t === PERCENT) set(pct, i);
    else {
      let a = advance.get(t);
      if (!a) advance.set(t, (a = mask()));
      set(a, i);
      continue;
    }
    set(wild, i);
  }
  const accept = m;
  const cur = mask();
  const next = mask();
  /** d |= (d & wild) << 1: a wildcard state also lets the state after it in (runs are collapsed). */
  const closure = (d: Uint32Array): void => {
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const x = d[w]! & wild[w]!;
      const out = ((x << 1) | carry) >>> 0;
      carry = x >>> 31;
      d[w] = (d[w]! | out) >>> 0;
    }
  };
  return (name: string): boolean => {
    if (literals > name.length) return false;
    cur.fill(0);
    cur[0] = 1;
    closure(cur);
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      const adv = advance.get(c);
      const stay = c === 0x2f ? null : pct;
      let carry = 0;
      let any = 0;
      for (let w = 0; w < words; w++) {
        const d = cur[w]!;
        const moved = adv ? d & adv[w]! : 0;
        let v = ((moved << 1) | carry) >>> 0;
        carry = moved >>> 31;
        v |= d & star[w]!;
        if (stay) v |= d & stay[w]!;
        next[w] = v >>> 0;
        any |= v;
      }
      if (!any) return false;
      cur.set(next);
      closure(cur);
    }
    return (cur[accept >> 5]! & (1 << (accept & 31))) !== 0;
  };
}
