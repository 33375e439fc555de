/**
 * IMAP section resolution (RFC 3501 §6.4.5, RFC 9051 §6.4.5, RFC 3516 BINARY) over stored raw bytes
 * and the MimePart offsets from analyzeMessage — no re-parse of bodies.
 *
 * - parseSection(text) → Section | null: the text between `[` and `]`, e.g. '', '1.2', 'HEADER',
 *   'TEXT', '1.MIME', '2.HEADER', 'HEADER.FIELDS (From To)', '1.HEADER.FIELDS.NOT ("X-A" B)'.
 *   null means a syntax error (→ BAD).
 * - resolveSection(raw, parts, section) → Buffer (a subarray of raw where possible; filtered header
 *   bytes for HEADER.FIELDS[.NOT], original order and folding kept, ending with the blank line), or
 *   null when the part does not exist (Dovecot then answers with an empty string).
 * - resolveBinary(raw, parts, part) → { ok: true, data } decoded content (base64/QP → bytes) of a
 *   part for BINARY[part] / BINARY.SIZE[part] (a multipart / message part comes back with every
 *   encoded leaf below it decoded and marked "binary", like Dovecot), or { ok: false, reason: 'no-part' | 'unknown-cte' }
 *   (→ NO [UNKNOWN-CTE] per RFC 3516). binaryPieces(raw, parts, part, decoded?) gives the same
 *   content as the pieces it is made of (FETCH of a big message); decodeBigLeaves decodes its big
 *   leaves a piece per turn of the event loop.
 * - filterHeaderFields(raw, start, end, names, exclude) → Buffer
 * - findPart(parts, section) → MimePart | undefined
 */
import type { MimePart } from './types.ts';
import { parseHeaderBlock } from './header-block.ts';
import { asBuffer } from './tree.ts';
import { decodeBase64Sliced, decodeQuotedPrintableSliced, decodeTransfer } from './transfer-encoding.ts';

export type SectionText = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface Section {
  /** '' for the whole message, else '1', '1.2' ... */
  part: string;
  text: SectionText;
  /** header field names for HEADER.FIELDS[.NOT] (as given) */
  fields: string[];
}

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export function parseSection(text: string): Section | null {
  const t = text.trim();
  const m = /^[1-9]\d*(?:\.[1-9]\d*)*/.exec(t);
  const part = m ? m[0] : '';
  let rest = t.slice(part.length);
  if (part && rest.length > 0) {
    if (rest[0] !== '.' || rest.length === 1) return null;
    rest = rest.slice(1);
  }
  if (rest === '') return { part, text: '', fields: [] };
  const fm = /^(HEADER\.FIELDS(?:\.NOT)?)\s*\((.*)\)$/is.exec(rest);
  if (fm) {
    const fields = parseFieldList(fm[2] as string);
    if (fields === null || fields.length === 0) return null;
    return { part, text: (fm[1] as string).toUpperCase() as SectionText, fields };
  }
  const up = rest.toUpperCase();
  if (up === 'HEADER' || up === 'TEXT') return { part, text: up, fields: [] };
  if (up === 'MIME') {
    if (!part) return null; // MIME needs a part number
    return { part, text: 'MIME', fields: [] };
  }
  return null;
}

function parseFieldList(s: string): string[] | null {
  const out: string[] = [];
  let pos = 0;
  while (pos < s.length) {
    const c = s[pos] as string;
    if (c === ' ' || c === '\t') {
      pos++;
      continue;
    }
    if (c === '"') {
      let v = '';
      pos++;
      while (pos < s.length && s[pos] !== '"') {
        if (s[pos] === '\\') pos++;
        v += s[pos] ?? '';
        pos++;
      }
      if (s[pos] !== '"') return null;
      pos++;
      out.push(v);
      continue;
    }
    const start = pos;
    while (pos < s.length && !/[\s()"]/.test(s[pos] as string)) pos++;
    if (pos === start) return null;
    out.push(s.slice(start, pos));
  }
  return out;
}

export function findPart(parts: MimePart[], section: string): MimePart | undefined {
  for (const p of parts) if (p.section === section) return p;
  return undefined;
}

/** Filtered header bytes: matching fields (or all but those) in order, then the blank line. */
export function filterHeaderFields(
  raw: Uint8Array,
  start: number,
  end: number,
  names: string[],
  exclude: boolean,
): Buffer {
  const buf = asBuffer(raw);
  const block = parseHeaderBlock(buf, start, end);
  const set = new Set(names.map((n) => n.toLowerCase()));
  const chunks: Buffer[] = [];
  for (const f of block.fields) {
    if (set.has(f.lower) !== exclude) {
      const piece = buf.subarray(f.start, f.end);
      chunks.push(piece);
      // a last field without a line break (header runs to the end) still gets one
      if (piece.length > 0 && piece[piece.length - 1] !== 10) chunks.push(CRLF);
    }
  }
  // like Dovecot: the blank line comes back when the header had one or anything matched
  if (block.bodyStart > block.headerEnd || chunks.length > 0) chunks.push(CRLF);
  return Buffer.concat(chunks);
}

/** Header start/end of the message a section's HEADER/TEXT refers to ('' = the top-level one). */
function messageBounds(
  buf: Buffer,
  parts: MimePart[],
  part: string,
): { headerStart: number; headerEnd: number; bodyStart: number; end: number } | null {
  if (part === '') {
    const root = findPart(parts, '');
    if (!root) return null;
    return { headerStart: 0, headerEnd: root.bodyStart, bodyStart: root.bodyStart, end: buf.length };
  }
  const p = findPart(parts, part);
  if (!p || p.contentType !== 'message/rfc822') return null;
  const block = parseHeaderBlock(buf, p.bodyStart, p.bodyEnd);
  let headerEnd = block.bodyStart;
  if (block.headerEnd === p.bodyEnd) {
    // no blank line: a final line break belongs to the enclosing delimiter, not to this header
    if (headerEnd > p.bodyStart && buf[headerEnd - 1] === 10) headerEnd--;
    if (headerEnd > p.bodyStart && buf[headerEnd - 1] === 13) headerEnd--;
  }
  return { headerStart: p.bodyStart, headerEnd, bodyStart: block.bodyStart, end: p.bodyEnd };
}

export function resolveSection(raw: Uint8Array, parts: MimePart[], section: Section): Buffer | null {
  const buf = asBuffer(raw);
  switch (section.text) {
    case '': {
      if (section.part === '') return buf;
      const p = findPart(parts, section.part);
      return p ? buf.subarray(p.bodyStart, p.bodyEnd) : null;
    }
    case 'MIME': {
      const p = findPart(parts, section.part);
      if (!p) return null;
      return buf.subarray(p.headerStart, p.bodyStart);
    }
    case 'HEADER': {
      const m = messageBounds(buf, parts, section.part);
      return m ? buf.subarray(m.headerStart, m.headerEnd) : null;
    }
    case 'TEXT': {
      const m = messageBounds(buf, parts, section.part);
      return m ? buf.subarray(Math.min(m.bodyStart, m.end), m.end) : null;
    }
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      const m = messageBounds(buf, parts, section.part);
      if (!m) return null;
      return filterHeaderFields(
        buf,
        m.headerStart,
        m.headerEnd,
        section.fields,
        section.text === 'HEADER.FIELDS.NOT',
      );
    }
  }
  return EMPTY;
}

export type BinaryResult = { ok: true; data: Buffer } | { ok: false; reason: 'no-part' | 'unknown-cte' };
export type BinaryPieces = { ok: true; pieces: Buffer[] } | { ok: false; reason: 'no-part' | 'unknown-cte' };

const KNOWN_CTE = new Set(['7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

/** Decoded content for BINARY[part] (RFC 3516); part '' is the whole message with its leaves decoded. */
export function resolveBinary(raw: Uint8Array, parts: MimePart[], part: string): BinaryResult {
  const r = binaryPieces(raw, parts, part);
  if (!r.ok) return r;
  return { ok: true, data: r.pieces.length === 1 ? r.pieces[0]! : Buffer.concat(r.pieces) };
}

/**
 * resolveBinary's content as the pieces it is made of, in order, not joined: subarrays of `raw`
 * and decoded leaves (`decoded` holds leaves already decoded, in pieces, by section: see
 * decodeBigLeaves). FETCH sends a big one a piece per turn of the event loop.
 */
export function binaryPieces(
  raw: Uint8Array,
  parts: MimePart[],
  part: string,
  decoded?: ReadonlyMap<string, Buffer[]>,
): BinaryPieces {
  const buf = asBuffer(raw);
  const decode = (p: MimePart): Buffer[] =>
    decoded?.get(p.section) ?? [decodeTransfer(buf.subarray(p.bodyStart, p.bodyEnd), p.encoding)];
  if (part === '') return { ok: true, pieces: binaryDecodeRange(buf, parts, '', 0, buf.length, decode) };
  const p = findPart(parts, part);
  if (!p) return { ok: false, reason: 'no-part' };
  if (!KNOWN_CTE.has(p.encoding)) return { ok: false, reason: 'unknown-cte' };
  if (isComposite(p))
    return {
      ok: true,
      pieces: binaryDecodeRange(buf, parts, p.section + '.', p.bodyStart, p.bodyEnd, decode),
    };
  return { ok: true, pieces: decode(p) };
}

/**
 * The base64 and quoted-printable leaves of BINARY[part] bigger than `from` bytes, decoded a piece at a time with
 * `yieldLoop` between pieces, for binaryPieces' `decoded` (BINARY of a 20 MB message).
 */
export async function decodeBigLeaves(
  raw: Uint8Array,
  parts: MimePart[],
  part: string,
  from: number,
  yieldLoop: () => Promise<unknown>,
): Promise<Map<string, Buffer[]>> {
  const buf = asBuffer(raw);
  const out = new Map<string, Buffer[]>();
  for (const p of parts) {
    const sliced =
      p.encoding === 'base64'
        ? decodeBase64Sliced
        : p.encoding === 'quoted-printable'
          ? decodeQuotedPrintableSliced
          : null;
    if (p.section === '' || isComposite(p) || !sliced || p.bodyEnd - p.bodyStart < from) continue;
    if (part !== '' && p.section !== part && !p.section.startsWith(part + '.')) continue;
    out.set(p.section, await sliced(buf.subarray(p.bodyStart, p.bodyEnd), yieldLoop));
  }
  return out;
}

function isComposite(p: MimePart): boolean {
  return p.contentType.startsWith('multipart/') || p.contentType === 'message/rfc822';
}

/**
 * BINARY of the whole message or of a multipart / message/rfc822 part, like Dovecot: the part's bytes with every
 * base64/QP leaf below it decoded and its Content-Transfer-Encoding rewritten to "binary"; in pieces.
 */
function binaryDecodeRange(
  buf: Buffer,
  parts: MimePart[],
  prefix: string,
  start: number,
  end: number,
  decode: (leaf: MimePart) => Buffer[],
): Buffer[] {
  const leaves = parts
    .filter(
      (x) =>
        x.section.startsWith(prefix) &&
        !isComposite(x) &&
        (x.encoding === 'base64' || x.encoding === 'quoted-printable') &&
        x.section !== '' &&
        x.headerStart >= start,
    )
    .sort((a, b) => a.headerStart - b.headerStart);
  if (leaves.length === 0) return [buf.subarray(start, end)];
  const chunks: Buffer[] = [];
  let pos = start;
  for (const leaf of leaves) {
    if (leaf.headerStart < pos) continue;
    const block = parseHeaderBlock(buf, leaf.headerStart, leaf.bodyStart);
    const f = block.fields.find((x) => x.lower === 'content-transfer-encoding');
    if (!f) continue;
    // like Dovecot: the old field goes, the new one ends the header
    chunks.push(buf.subarray(pos, f.start), buf.subarray(f.end, block.headerEnd), BINARY_FIELD);
    chunks.push(buf.subarray(block.headerEnd, leaf.bodyStart));
    chunks.push(...decode(leaf));
    pos = leaf.bodyEnd;
  }
  chunks.push(buf.subarray(pos, end));
  return chunks;
}

const BINARY_FIELD = Buffer.from('Content-Transfer-Encoding: binary\r\n');
