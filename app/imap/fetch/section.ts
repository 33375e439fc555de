/**
 * Section bytes from the stored raw message and its precomputed part offsets (never re-parses the
 * MIME structure): BODY[], [HEADER], [TEXT], [HEADER.FIELDS (..)], [.NOT], [n], [n.MIME],
 * [n.HEADER] / [n.TEXT] of message/rfc822 parts.
 */
import type { MessagePartOffsets } from '../backend.ts';
import type { SectionSpec } from './items.ts';
import {
  compileFields,
  filterHeader,
  headerFieldRanges,
  type FieldMatcher,
} from '../../mime/header-fields.ts';

export { compileFields, filterHeader, headerFieldRanges, type FieldMatcher };

const EMPTY = Buffer.alloc(0);

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
  const p = numberedPart(spec, parts);
  if (!p) return EMPTY;
  if (spec.text === '') return raw.subarray(p.bodyStart, p.bodyEnd);
  if (spec.text === 'MIME') return raw.subarray(p.headerStart, p.bodyStart);
  // HEADER / TEXT of a part that is not a message: RFC 3501 §6.4.5 allows them only on
  // message/rfc822 parts; Dovecot answers an empty string, and so do we.
  if (p.contentType !== 'message/rfc822' && p.contentType !== 'message/global') return EMPTY;
  const hEnd = headerEnd(raw, p.bodyStart, p.bodyEnd);
  const hdr = raw.subarray(p.bodyStart, hEnd);
  if (spec.text === 'HEADER') return hdr;
  if (spec.text === 'HEADER.FIELDS') return filterHeader(hdr, fieldMatcher(spec), false);
  if (spec.text === 'HEADER.FIELDS.NOT') return filterHeader(hdr, fieldMatcher(spec), true);
  return raw.subarray(hEnd, p.bodyEnd);
}

/** The part a numbered section names (undefined when there is none). */
function numberedPart(
  spec: SectionSpec,
  parts: MessagePartOffsets[] | undefined,
): MessagePartOffsets | undefined {
  const ps = parts ?? [];
  const id = spec.path.join('.');
  const p = findPart(ps, id);
  if (p) return p;
  // BODY[1] of a non-multipart message is its body (RFC 3501 §6.4.5).
  const root = findPart(ps, '');
  if (id === '1' && root && !root.contentType.startsWith('multipart/')) return { ...root, section: '1' };
  return undefined;
}

/**
 * The bytes sectionBytes gives for a section that is not header-only, as a range [start, end) of
 * the raw message, known without reading it (a message read a piece at a time: FETCH of a 20 MB
 * message); null when finding it needs the bytes (HEADER / TEXT of an encapsulated message).
 * `headLength` is the length of the message's header block.
 */
export function sectionRange(
  spec: SectionSpec,
  size: number,
  parts: MessagePartOffsets[] | undefined,
  headLength: number,
): [number, number] | null {
  if (spec.path.length === 0) {
    if (spec.text === '') return [0, size];
    if (spec.text === 'TEXT') {
      const root = parts ? findPart(parts, '') : undefined;
      return [root && root.bodyStart > 0 ? root.bodyStart : headLength, size];
    }
    return null;
  }
  const p = numberedPart(spec, parts);
  if (!p) return [0, 0];
  if (spec.text === '') return [p.bodyStart, p.bodyEnd];
  if (spec.text === 'MIME') return [p.headerStart, p.bodyStart];
  if (p.contentType !== 'message/rfc822' && p.contentType !== 'message/global') return [0, 0];
  return null;
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
