/** Byte classes of the IMAP grammar (RFC 3501 §9 / RFC 9051 §9), as lookup tables. */

export const SP = 0x20;
export const CR = 0x0d;
export const LF = 0x0a;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const LPAREN = 0x28;
export const RPAREN = 0x29;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const TILDE = 0x7e;
export const LT = 0x3c;
export const GT = 0x3e;
export const DOT = 0x2e;
export const PLUS = 0x2b;

function table(pred: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = pred(b) ? 1 : 0;
  return t;
}

/**
 * Bytes that may appear in an atom / unquoted astring argument. RFC ATOM-CHAR minus the atom
 * specials '(' ')' '{' '"' SP CTL, but lenient where real arguments need it: list wildcards '%' '*'
 * (LIST patterns, sequence sets `1:*`), '\' (flags `\Seen`). '[' and ']' are handled by the parser
 * (they open/close sections, or are ASTRING-CHARs as in `[Gmail]/Sent`).
 */
export const ATOM_CHAR = table(
  (b) =>
    b > 0x20 &&
    b < 0x7f &&
    b !== LPAREN &&
    b !== RPAREN &&
    b !== LBRACE &&
    b !== DQUOTE &&
    b !== LBRACKET &&
    b !== RBRACKET,
);

/** Bytes of a tag: ASTRING-CHAR except '+' (RFC 3501 `tag`); no list wildcards, no quoted-specials. */
export const TAG_CHAR = table(
  (b) =>
    b > 0x20 &&
    b < 0x7f &&
    b !== LPAREN &&
    b !== RPAREN &&
    b !== LBRACE &&
    b !== DQUOTE &&
    b !== BACKSLASH &&
    b !== 0x25 /* % */ &&
    b !== 0x2a /* * */ &&
    b !== PLUS,
);

/** Bytes of a command name: letters, digits, '-', '_', '.' (covers XLIST, X-GM-*, UID). */
export const COMMAND_CHAR = table(
  (b) =>
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x30 && b <= 0x39) ||
    b === 0x2d ||
    b === 0x5f ||
    b === DOT,
);

export function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}
