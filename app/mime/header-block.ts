/**
 * Raw header-block scanning over bytes (RFC 5322 §2.2, lenient like Dovecot).
 *
 * - parseHeaderBlock(buf, start, end) → { fields, headerEnd, bodyStart }: each field keeps its byte
 *   range (start of the name … end after its last line ending, folding included).
 * - fieldValue(buf, field, keepFolding?, maxBytes?) → the unfolded raw value (CR/LF removed and outer
 *   whitespace trimmed; with keepFolding only the leading whitespace and final line break go; not RFC 2047-decoded),
 *   at most maxBytes (MAX_FIELD_VALUE_BYTES for analysis; Infinity where the value is copied on, as crypto does).
 * - firstValue(buf, block, lowerName, keepFolding?) → the first such field's value or null.
 * - bytesToText(buf, start, end) → a string: UTF-8 when valid, else windows-1252 (8-bit headers).
 */

export interface HeaderField {
  /** field name as written (trimmed) */
  name: string;
  /** lowercase field name */
  lower: string;
  /** offset of the first byte of the field line */
  start: number;
  /** offset just after the colon */
  valueStart: number;
  /** offset just after the line ending of the field's last (continuation) line */
  end: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** offset where the blank line that ends the header starts (= bodyStart when there is none) */
  headerEnd: number;
  /** offset of the first body byte (after the blank line) */
  bodyStart: number;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SP = 32;
const TAB = 9;

export function parseHeaderBlock(buf: Uint8Array, start: number, end: number): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = start;
  let current: HeaderField | null = null;
  while (pos < end) {
    let nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end - 1;
    const lineEnd = nl + 1; // after LF (or end)
    // blank line: "\n" or "\r\n"
    const first = buf[pos];
    if (first === LF || (first === CR && pos + 1 < end && buf[pos + 1] === LF)) {
      if (current) fields.push(current);
      return { fields, headerEnd: pos, bodyStart: lineEnd };
    }
    if ((first === SP || first === TAB) && current) {
      current.end = lineEnd;
    } else {
      if (current) fields.push(current);
      current = null;
      // find the colon on this line
      let colon = -1;
      for (let i = pos; i < lineEnd; i++) {
        const c = buf[i];
        if (c === COLON) {
          colon = i;
          break;
        }
        if (c === LF || c === CR) break;
      }
      if (colon > pos) {
        let ne = colon;
        while (ne > pos && (buf[ne - 1] === SP || buf[ne - 1] === TAB)) ne--;
        if (ne > pos) {
          const name = latin1(buf, pos, ne);
          current = { name, lower: name.toLowerCase(), start: pos, valueStart: colon + 1, end: lineEnd };
        }
      } else if (colon < 0) {
        // a line without a colon: kept (like Dovecot) as a field with that name and no value
        let ne = lineEnd;
        while (ne > pos && (buf[ne - 1] === LF || buf[ne - 1] === CR)) ne--;
        const name = latin1(buf, pos, ne);
        current = { name, lower: name.toLowerCase(), start: pos, valueStart: lineEnd, end: lineEnd };
      }
    }
    pos = lineEnd;
  }
  if (current) fields.push(current);
  return { fields, headerEnd: end, bodyStart: end };
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i] as number);
  return s;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const cp1252 = new TextDecoder('windows-1252');

/** Bytes → string: pure ASCII fast path, UTF-8 when valid, else windows-1252. */
export function bytesToText(buf: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if ((buf[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    if (end - start < 64) return latin1(buf, start, end);
    return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  }
  const view = buf.subarray(start, end);
  try {
    return utf8Fatal.decode(view);
  } catch {
    return cp1252.decode(view);
  }
}

/**
 * Analysis (ENVELOPE, SEARCH/SORT keys, full-text, trust checks) reads at most this much of one
 * field's value; the message itself is stored and served whole. Real fields are far smaller (a
 * 1,000-recipient To is ~40 KB); a hostile 1 MB Subject of encoded words would otherwise cost
 * 0.2-1 s of one thread per message (decode, display, index).
 */
export const MAX_FIELD_VALUE_BYTES = 64 * 1024;

/** The end of a value cut to maxBytes: at its last fold (line break) within the limit,
 * so no encoded word or address is split, else at a UTF-8 character boundary. */
function boundedEnd(buf: Uint8Array, s: number, e: number, maxBytes: number): number {
  if (e - s <= maxBytes) return e;
  let cut = s + maxBytes;
  const fold = buf.subarray(s, cut).lastIndexOf(LF);
  if (fold > 0) return s + fold + 1;
  while (cut > s && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
  return cut;
}

/** Unfolded raw value: CR and LF removed, leading and trailing whitespace trimmed. */
export function fieldValue(
  buf: Uint8Array,
  field: HeaderField,
  keepFolding = false,
  maxBytes = MAX_FIELD_VALUE_BYTES,
): string {
  let s = field.valueStart;
  let e = field.end;
  while (s < e && (buf[s] === SP || buf[s] === TAB)) s++;
  e = boundedEnd(buf, s, e, maxBytes);
  if (keepFolding) {
    while (e > s && (buf[e - 1] === LF || buf[e - 1] === CR)) e--;
    return bytesToText(buf, s, e);
  }
  while (e > s && (buf[e - 1] === LF || buf[e - 1] === CR || buf[e - 1] === SP || buf[e - 1] === TAB)) e--;
  const text = bytesToText(buf, s, e);
  return text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0 ? text.replace(/\r?\n|\r/g, '') : text;
}

export function findField(block: HeaderBlock, lower: string): HeaderField | undefined {
  for (const f of block.fields) if (f.lower === lower) return f;
  return undefined;
}

export function firstValue(
  buf: Uint8Array,
  block: HeaderBlock,
  lower: string,
  keepFolding = false,
): string | null {
  const f = findField(block, lower);
  return f ? fieldValue(buf, f, keepFolding) : null;
}
