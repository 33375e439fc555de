/**
 * Byte-exact entity view for code that rewrites messages (signing, encryption, protected headers,
 * the served message, submission checks): fields keep their exact bytes so they can be copied into
 * another header block, and multipart parts are exact byte ranges (RFC 2046 §5.1.1), because a
 * signature covers a part's bytes as they stand. CRLF and bare-LF input alike.
 *
 * - parseEntity(buf) → { headers, bodyStart, body }: fields through header-block.ts; a line that is
 *   no field (no colon, or a name with other than printable ASCII) is skipped, never fatal.
 * - headerValue(entity, lname) → the first such field's unfolded value, or undefined.
 * - splitParts(body, boundary) → { parts, closed }: part ranges; a delimiter line is exactly
 *   `--boundary[--]` + transport padding (a longer boundary sharing the prefix is content), and
 *   the line break before it belongs to it.
 * - walkEntity(buf, visit) → depth-first over multipart children and identity-encoded
 *   message/rfc822 bodies; `visit` returns false to skip a node's children.
 *
 * tree.ts keeps its own splitting: IMAP's BODYSTRUCTURE and sections must match Dovecot's lenient
 * reading byte for byte (tests: dovecot-golden), which differs from this exact one.
 */
import { fieldValue, parseHeaderBlock } from './header-block.ts';
import { mediaType, type MediaType } from './params.ts';
import { asBuffer } from './tree.ts';

export interface RawHeader {
  /** field name as written */
  name: string;
  /** lowercase field name */
  lname: string;
  /** unfolded value, outer whitespace trimmed, still RFC 2047-encoded; never cut */
  value: string;
  /** the exact bytes of the field including its final line break (folding included) */
  raw: Buffer;
}

export interface RawEntity {
  headers: RawHeader[];
  /** offset where the body starts (after the blank line), = buf.length when there is none */
  bodyStart: number;
  /** the body bytes (a view into the input) */
  body: Buffer;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

export function parseEntity(input: Uint8Array): RawEntity {
  const buf = asBuffer(input);
  const block = parseHeaderBlock(buf, 0, buf.length);
  const headers: RawHeader[] = [];
  for (const f of block.fields) {
    if (buf[f.valueStart - 1] !== 0x3a || !FIELD_NAME.test(f.name)) continue;
    headers.push({
      name: f.name,
      lname: f.lower,
      value: fieldValue(buf, f, false, Infinity),
      raw: buf.subarray(f.start, f.end),
    });
  }
  return { headers, bodyStart: block.bodyStart, body: buf.subarray(block.bodyStart) };
}

export function headerValue(entity: RawEntity, lname: string): string | undefined {
  for (const h of entity.headers) if (h.lname === lname) return h.value;
  return undefined;
}

export interface PartRange {
  /** offset of the first byte of the part (its headers) within the multipart body */
  start: number;
  /** exclusive end offset (before the line break preceding the next delimiter) */
  end: number;
}

export interface MultipartSplit {
  parts: PartRange[];
  /** true when the close delimiter `--boundary--` was found */
  closed: boolean;
}

export function splitParts(body: Uint8Array, boundary: string): MultipartSplit {
  const buf = asBuffer(body);
  const delim = Buffer.from('--' + boundary, 'latin1');
  const parts: PartRange[] = [];
  let openStart = -1; // start of the part being read
  let from = 0;
  while (from <= buf.length) {
    const at = buf.indexOf(delim, from);
    if (at < 0) break;
    from = at + 1;
    if (at !== 0 && buf[at - 1] !== 0x0a) continue; // a delimiter starts a line
    let p = at + delim.length;
    const close = buf[p] === 0x2d && buf[p + 1] === 0x2d;
    if (close) p += 2;
    while (buf[p] === 0x20 || buf[p] === 0x09) p++; // transport padding
    let lineEnd: number;
    if (p >= buf.length) lineEnd = buf.length;
    else if (buf[p] === 0x0a) lineEnd = p + 1;
    else if (buf[p] === 0x0d && buf[p + 1] === 0x0a) lineEnd = p + 2;
    else continue; // `--boundaryX`: a longer boundary, not this one
    if (openStart >= 0) {
      let end = at;
      if (end > openStart && buf[end - 1] === 0x0a) end--;
      if (end > openStart && buf[end - 1] === 0x0d) end--;
      parts.push({ start: openStart, end: Math.max(openStart, end) });
    }
    if (close) return { parts, closed: true };
    openStart = lineEnd;
    from = lineEnd;
  }
  if (openStart >= 0) parts.push({ start: openStart, end: buf.length });
  return { parts, closed: false };
}

export interface WalkNode {
  entity: RawEntity;
  ct: MediaType;
  /** lowercase transfer encoding ('7bit' when absent) */
  cte: string;
  depth: number;
}

const MAX_WALK_DEPTH = 32;

export function walkEntity(buf: Uint8Array, visit: (node: WalkNode) => boolean | void, depth = 0): void {
  if (depth > MAX_WALK_DEPTH) return;
  const entity = parseEntity(buf);
  const ct = mediaType(headerValue(entity, 'content-type'));
  const cte = (headerValue(entity, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  if (visit({ entity, ct, cte, depth }) === false) return;
  const boundary = ct.params['boundary'];
  if (ct.mime.startsWith('multipart/') && boundary) {
    for (const r of splitParts(entity.body, boundary).parts)
      walkEntity(entity.body.subarray(r.start, r.end), visit, depth + 1);
  } else if (ct.mime === 'message/rfc822' && (cte === '7bit' || cte === '8bit' || cte === 'binary')) {
    walkEntity(entity.body, visit, depth + 1);
  }
}
