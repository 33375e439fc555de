/**
 * Section bytes from the stored raw message and its precomputed part offsets (never re-parses the
 * MIME structure): BODY[], [HEADER], [TEXT], [HEADER.FIELDS (..)], [.NOT], [n], [n.MIME],
 * [n.HEADER] / [n.TEXT] of message/rfc822 parts.
 */
import type { MessagePartOffsets } from '../backend.ts';
import type { SectionSpec } from './items.ts';
import { ImapNoError } from '../errors.ts';

/** End of the header block starting at `from` (index after the blank line), within [from, end). */
export function headerEnd(raw: Buffer, from: number, end: number): number {
  if (from >= end) return end;
  // Empty header: body starts right away.
  if (raw[from] === 0x0d && raw[from + 1] === 0x0a) return from + 2;
  if (raw[from] === 0x0a) return from + 1;
  let i = raw.indexOf('\n\n', from);
  let j = raw.indexOf('\r\n\r\n', from);
  if (i < 0 || i >= end) i = -1;
  if (j < 0 || j >= end) j = -1;
  if (j >= 0 && (i < 0 || j + 1 <= i)) return j + 4;
  if (i >= 0) return i + 2;
  return end;
}

const CRLF = Buffer.from('\r\n');

/**
 * A compiled HEADER.FIELDS name set: names grouped by length, as lower-case bytes, so a header line
 * is matched without allocating a string. Names with non-ASCII characters (possible only in SEARCH
 * HEADER) fall back to comparing latin1-decoded, lower-cased strings, as the simple form would.
 */
export interface FieldMatcher {
  readonly maxLen: number;
  /** byLen[n]: the wanted names of n bytes (lower-case ASCII). */
  readonly byLen: ReadonlyArray<readonly Uint8Array[] | undefined>;
  /** Set when some name is not ASCII: match by string instead. */
  readonly strings: ReadonlySet<string> | null;
}

export function compileFields(fields: Iterable<string>, lower = true): FieldMatcher {
  const names = [...new Set([...fields].map((f) => (lower ? f.toLowerCase() : f)))];
  let maxLen = 0;
  for (const f of names) if (f.length > maxLen) maxLen = f.length;
  if (names.some(notAscii)) return { maxLen, byLen: [], strings: new Set(names) };
  const byLen: Uint8Array[][] = [];
  for (const f of names) (byLen[f.length] ??= []).push(Buffer.from(f, 'latin1'));
  return { maxLen, byLen, strings: null };
}

function notAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function nameMatches(h: Buffer, start: number, end: number, m: FieldMatcher): boolean {
  const len = end - start;
  if (len > m.maxLen) return false;
  if (m.strings) return m.strings.has(h.toString('latin1', start, end).toLowerCase());
  const cands = m.byLen[len];
  if (!cands) return false;
  for (let c = 0; c < cands.length; c++) {
    const name = cands[c]!;
    let k = 0;
    for (; k < len; k++) {
      let b = h[start + k]!;
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== name[k]) break;
    }
    if (k === len) return true;
  }
  return false;
}

/**
 * The byte ranges of a header block kept by a HEADER.FIELDS (or, with `not`, .NOT) filter: runs of
 * kept lines as [start, end) pairs pushed onto `ranges` (cleared first). Returns their total length.
 * A field's folded continuation lines go with it; lines that are not fields are dropped; the scan
 * stops at the blank line. The caller appends the blank line (CRLF) that ends the result.
 */
export function headerFieldRanges(header: Buffer, m: FieldMatcher, not: boolean, ranges: number[]): number {
  ranges.length = 0;
  let total = 0;
  let runStart = -1;
  let keep = false;
  let pos = 0;
  const n = header.length;
  while (pos < n) {
    const first = header[pos]!;
    if (first === 0x0d || first === 0x0a) break; // blank line: end of header
    // end of line (after the LF) and, on a field line, its first colon
    let eol = pos;
    let colon = -1;
    if (first !== 0x20 && first !== 0x09) {
      while (eol < n) {
        const c = header[eol]!;
        if (c === 0x0a) break;
        if (c === 0x3a) {
          colon = eol;
          break;
        }
        eol++;
      }
      if (colon > pos) {
        let end = colon;
        while (end > pos && (header[end - 1] === 0x20 || header[end - 1] === 0x09)) end--;
        keep = nameMatches(header, pos, end, m) !== not;
      } else keep = false;
    }
    while (eol < n && header[eol] !== 0x0a) eol++;
    eol = eol < n ? eol + 1 : n;
    if (keep) {
      if (runStart < 0) runStart = pos;
    } else if (runStart >= 0) {
      ranges.push(runStart, pos);
      total += pos - runStart;
      runStart = -1;
    }
    pos = eol;
  }
  if (runStart >= 0) {
    ranges.push(runStart, pos);
    total += pos - runStart;
  }
  return total;
}

const RANGES: number[] = [];

/** Keep (or drop, with `not`) the named fields of a header block; result ends with the blank line. */
export function filterHeader(header: Buffer, fields: string[] | FieldMatcher, not: boolean): Buffer {
  const m = Array.isArray(fields) ? compileFields(fields) : fields;
  const total = headerFieldRanges(header, m, not, RANGES);
  const out = Buffer.allocUnsafe(total + 2);
  let at = 0;
  for (let i = 0; i < RANGES.length; i += 2) at += header.copy(out, at, RANGES[i]!, RANGES[i + 1]!);
  CRLF.copy(out, at);
  return out;
}

const FIELD_SETS = new WeakMap<SectionSpec, FieldMatcher>();

/** The compiled field names of a HEADER.FIELDS section, computed once per request. */
export function fieldMatcher(spec: SectionSpec): FieldMatcher {
  let m = FIELD_SETS.get(spec);
  if (!m) {
    m = compileFields(spec.fields);
    FIELD_SETS.set(spec, m);
  }
  return m;
}

function findPart(parts: MessagePartOffsets[], section: string): MessagePartOffsets | undefined {
  for (const p of parts) if (p.section === section) return p;
  return undefined;
}

/**
 * Section bytes. `raw` may be only the header block when the section needs no more (the caller
 * decides via `needsRaw`). Returns null when the part does not exist (answered as NIL... we send "").
 */
export function sectionBytes(
  spec: SectionSpec,
  raw: Buffer,
  parts: MessagePartOffsets[] | undefined,
  headerOnly: Buffer | undefined,
): Buffer {
  if (spec.path.length === 0) {
    if (spec.text === '') return raw;
    const hdr = rootHeader(raw, parts, headerOnly);
    if (spec.text === 'HEADER') return hdr;
    if (spec.text === 'HEADER.FIELDS') return filterHeader(hdr, fieldMatcher(spec), false);
    if (spec.text === 'HEADER.FIELDS.NOT') return filterHeader(hdr, fieldMatcher(spec), true);
    return raw.subarray(rootBodyStart(raw, parts)); // TEXT
  }
  const ps = parts ?? [];
  const id = spec.path.join('.');
  let p = findPart(ps, id);
  if (!p) {
    // BODY[1] of a non-multipart message is its body (RFC 3501 §6.4.5).
    const root = findPart(ps, '');
    if (id === '1' && root && !root.contentType.startsWith('multipart/')) p = { ...root, section: '1' };
  }
  if (!p) return Buffer.alloc(0);
  if (spec.text === '') return raw.subarray(p.bodyStart, p.bodyEnd);
  if (spec.text === 'MIME') return raw.subarray(p.headerStart, p.bodyStart);
  if (p.contentType !== 'message/rfc822' && p.contentType !== 'message/global') {
    throw new ImapNoError(null, 'Section is not a message/rfc822 part');
  }
  const hEnd = headerEnd(raw, p.bodyStart, p.bodyEnd);
  const hdr = raw.subarray(p.bodyStart, hEnd);
  if (spec.text === 'HEADER') return hdr;
  if (spec.text === 'HEADER.FIELDS') return filterHeader(hdr, fieldMatcher(spec), false);
  if (spec.text === 'HEADER.FIELDS.NOT') return filterHeader(hdr, fieldMatcher(spec), true);
  return raw.subarray(hEnd, p.bodyEnd);
}

/** The header block of the whole message: `headerOnly` when the row carries it, else cut from `raw`. */
export function rootHeader(
  raw: Buffer,
  parts: MessagePartOffsets[] | undefined,
  headerOnly: Buffer | undefined,
): Buffer {
  return headerOnly ?? raw.subarray(0, rootBodyStart(raw, parts));
}

function rootBodyStart(raw: Buffer, parts: MessagePartOffsets[] | undefined): number {
  const root = parts ? findPart(parts, '') : undefined;
  if (root && root.bodyStart > 0) return root.bodyStart;
  return headerEnd(raw, 0, raw.length);
}

/** Whether a section can be answered from the header block alone. */
export function headerOnlySection(spec: SectionSpec): boolean {
  return spec.path.length === 0 && spec.text.startsWith('HEADER');
}
