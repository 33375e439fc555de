/**
 * IMAP string serialization as it goes on the wire (RFC 3501 §4.3, RFC 9051), matching Dovecot:
 *
 * - imapNString(s) → NIL for null, else imapString(s).
 * - imapString(s) → a quoted string ("..." with \" and \\ escaped) or, when the value holds CR, LF,
 *   8-bit characters or more than 4 characters needing escapes, a literal `{n}\r\n...` where n counts
 *   the UTF-8 bytes of the value (the serialized strings are sent as UTF-8).
 * - imapNStringNoLf(s) → like imapNString with CR and LF removed first (Dovecot's _nolf variant).
 */

export function imapString(s: string): string {
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92) {
      if (escapes++ < 4) continue;
      return literal(s);
    }
    if (c === 13 || c === 10 || c >= 0x80 || c === 0) return literal(s);
  }
  if (escapes === 0) return '"' + s + '"';
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

function literal(s: string): string {
  return '{' + Buffer.byteLength(s, 'utf8') + '}\r\n' + s;
}

export function imapNString(s: string | null | undefined): string {
  return s === null || s === undefined ? 'NIL' : imapString(s);
}

export function imapNStringNoLf(s: string | null | undefined): string {
  if (s === null || s === undefined) return 'NIL';
  return imapString(s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0 ? s.replace(/[\r\n]/g, '') : s);
}
