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

/** Keep (or drop, with `not`) the named fields of a header block; result ends with the blank line. */
export function filterHeader(header: Buffer, fields: string[] | ReadonlySet<string>, not: boolean): Buffer {
  const want = Array.isArray(fields)
    ? new Set(fields.map((f) => f.toLowerCase()))
    : (fields as ReadonlySet<string>);
  let maxLen = 0;
  for (const f of want) if (f.length > maxLen) maxLen = f.length;
  const out: Buffer[] = [];
  let total = 0;
  // Runs of kept lines are copied as one slice.
  let runStart = -1;
  let pos = 0;
  const n = header.length;
  let keep = false;
  while (pos < n) {
    let eol = header.indexOf(0x0a, pos);
    eol = eol < 0 ? n : eol + 1;
    const first = header[pos];
    if (first === 0x0d || first === 0x0a) break; // blank line: end of header
    if (first !== 0x20 && first !== 0x09) {
      const colon = header.indexOf(0x3a, pos);
      let match = false;
      if (colon > pos && colon < eol) {
        let end = colon;
        while (end > pos && (header[end - 1] === 0x20 || header[end - 1] === 0x09)) end--;
        if (end - pos <= maxLen) match = want.has(header.toString('latin1', pos, end).toLowerCase());
        keep = match !== not;
      } else keep = false;
    }
    if (keep) {
      if (runStart < 0) runStart = pos;
    } else if (runStart >= 0) {
      out.push(header.subarray(runStart, pos));
      total += pos - runStart;
      runStart = -1;
    }
    pos = eol;
  }
  if (runStart >= 0) {
    out.push(header.subarray(runStart, pos));
    total += pos - runStart;
  }
  out.push(CRLF);
  return Buffer.concat(out, total + 2);
}

const FIELD_SETS = new WeakMap<SectionSpec, ReadonlySet<string>>();

/** The lower-cased field names of a HEADER.FIELDS section, computed once per request. */
function fieldSet(spec: SectionSpec): ReadonlySet<string> {
  let set = FIELD_SETS.get(spec);
  if (!set) {
    set = new Set(spec.fields.map((f) => f.toLowerCase()));
    FIELD_SETS.set(spec, set);
  }
  return set;
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
    const hdr = headerOnly ?? raw.subarray(0, rootBodyStart(raw, parts));
    if (spec.text === 'HEADER') return hdr;
    if (spec.text === 'HEADER.FIELDS') return filterHeader(hdr, fieldSet(spec), false);
    if (spec.text === 'HEADER.FIELDS.NOT') return filterHeader(hdr, fieldSet(spec), true);
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
  if (spec.text === 'HEADER.FIELDS') return filterHeader(hdr, fieldSet(spec), false);
  if (spec.text === 'HEADER.FIELDS.NOT') return filterHeader(hdr, fieldSet(spec), true);
  return raw.subarray(hEnd, p.bodyEnd);
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
