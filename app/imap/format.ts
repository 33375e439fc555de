/** Serialisation helpers for response text (strings, flags, dates). */

const ATOM_SPECIALS = /[(){ \x00-\x1f\x7f%*"\\\]]/;

/**
 * Text after a status (resp-text, RFC 3501 §9: no CR, LF or NUL): line breaks become a space,
 * other control characters `?` — messages may quote what a client sent, e.g. a mailbox name.
 */
export function responseText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '?');
}

/** A quoted string (only for values without CR/LF/NUL; callers use `literalOrQuoted` otherwise). */
export function quoted(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** nstring for text that may contain anything: quoted when safe, else a literal. */
export function nstring(s: string | null | undefined): string {
  if (s === null || s === undefined) return 'NIL';
  return stringValue(s);
}

/** A string value: quoted if it can be, else a {n} literal (inline, as text). */
export function stringValue(s: string): string {
  if (/[\r\n\x00]/.test(s) || /[^\x01-\x7f]/.test(s)) {
    return `{${Buffer.byteLength(s)}}\r\n${s}`;
  }
  return quoted(s);
}

/** astring: a bare atom when possible (mailbox names in LIST/STATUS), else quoted / literal. */
export function astring(s: string): string {
  if (s.length > 0 && !isNil(s) && !ATOM_SPECIALS.test(s) && /^[\x21-\x7e]+$/.test(s)) return s;
  return stringValue(s);
}

/** Mailbox name in responses: like Dovecot, bare INBOX/atoms, otherwise quoted. */
export function mailboxName(s: string): string {
  if (/[\r\n\x00]/.test(s)) return `{${Buffer.byteLength(s)}}\r\n${s}`;
  if (s.length > 0 && !isNil(s) && /^[\x21-\x7e]+$/.test(s) && !/[(){%*"\\\]]/.test(s)) return s;
  return quoted(s);
}

/** A bare NIL would be read as nil: such names are quoted (like Dovecot's `"NIL"`). */
function isNil(s: string): boolean {
  return s.length === 3 && s.toUpperCase() === 'NIL';
}

export function flagList(flags: readonly string[]): string {
  return '(' + flags.join(' ') + ')';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** IMAP date-time `"dd-Mon-yyyy hh:mm:ss +0000"` (UTC), quoted. */
export function internalDate(ms: number): string {
  const d = new Date(ms);
  const day = d.getUTCDate();
  return (
    '"' +
    (day < 10 ? ' ' + day : String(day)) +
    '-' +
    MONTHS[d.getUTCMonth()] +
    '-' +
    d.getUTCFullYear() +
    ' ' +
    pad2(d.getUTCHours()) +
    ':' +
    pad2(d.getUTCMinutes()) +
    ':' +
    pad2(d.getUTCSeconds()) +
    ' +0000"'
  );
}
