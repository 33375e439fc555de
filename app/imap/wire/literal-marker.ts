import { LBRACE, PLUS, RBRACE, TILDE, isDigit } from './chars.ts';

/** A literal announcement `{n}`, `{n+}`, `~{n}` or `~{n+}` at the end of a line. */
export interface LiteralMarker {
  /** Announced size; Infinity when the number is absurd (more than 15 digits). */
  size: number;
  /** true for `{n}` (the client waits for `+`), false for LITERAL+ `{n+}`. */
  sync: boolean;
  literal8: boolean;
  /** Offset of '{' (or of '~' for literal8) in the line. */
  start: number;
}

/**
 * Parses the literal marker that ends `line` (line without CRLF), or returns null if the line does
 * not end with one. Scans backwards from the end; O(digits).
 */
export function trailingLiteral(line: Uint8Array, end: number = line.length): LiteralMarker | null {
  let i = end - 1;
  if (i < 2 || line[i] !== RBRACE) return null;
  i--;
  let sync = true;
  if (line[i] === PLUS) {
    sync = false;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= 0 && isDigit(line[i])) i--;
  const digitsStart = i + 1;
  if (digitsStart === digitsEnd || i < 0 || line[i] !== LBRACE) return null;
  let start = i;
  let literal8 = false;
  if (i > 0 && line[i - 1] === TILDE) {
    literal8 = true;
    start = i - 1;
  }
  let size: number;
  if (digitsEnd - digitsStart > 15) size = Infinity;
  else {
    size = 0;
    for (let k = digitsStart; k < digitsEnd; k++) size = size * 10 + ((line[k] as number) - 0x30);
  }
  return { size, sync, literal8, start };
}
