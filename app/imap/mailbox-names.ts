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
 * pattern as an NFA over the name (hand-written: a regular expression or glob library backtracks, and
 * `LIST "" "**********q"` took seconds): O(name length × pattern tokens) per name, runs of wildcards
 * collapsed, and a pattern with more literal characters than the name is refused before any work.
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
  const m = tokens.length;
  const active = new Uint8Array(m + 1);
  let cur = new Int32Array(m + 1);
  let next = new Int32Array(m + 1);
  return (name: string): boolean => {
    if (literals > name.length) return false;
    active.fill(0);
    // add state s and, through wildcards that match the empty string, the states after it
    const add = (list: Int32Array, count: number, s: number): number => {
      while (s <= m && !active[s]) {
        active[s] = 1;
        list[count++] = s;
        if (s < m && tokens[s]! < 0) s++;
        else break;
      }
      return count;
    };
    let n = add(cur, 0, 0);
    for (let i = 0; i < name.length && n > 0; i++) {
      const c = name.charCodeAt(i);
      for (let j = 0; j < n; j++) active[cur[j]!] = 0;
      let k = 0;
      for (let j = 0; j < n; j++) {
        const s = cur[j]!;
        if (s === m) continue;
        const t = tokens[s]!;
        if (t === STAR || (t === PERCENT && c !== 0x2f)) k = add(next, k, s);
        else if (t === c) k = add(next, k, s + 1);
      }
      const tmp = cur;
      cur = next;
      next = tmp;
      n = k;
    }
    return n > 0 && active[m] === 1;
  };
}
