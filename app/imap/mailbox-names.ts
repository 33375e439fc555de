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

/** Compile a LIST pattern (`*` any, `%` any except delimiter), reference prepended. */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  let full = reference && !pattern.startsWith(DELIMITER) ? reference + pattern : pattern;
  full = normalizeInbox(full);
  let re = '^';
  for (const ch of full) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += '[^/]*';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  re += '$';
  const rx = new RegExp(re, 's');
  return (name: string) => rx.test(name);
}
