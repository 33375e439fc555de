/**
 * Byte-exact MIME tree over raw message bytes (RFC 2045/2046), lenient like Dovecot.
 *
 * - parseMimeTree(raw) → MimeNode (the message root). Every node keeps exact offsets:
 *   headerStart … headerEnd (blank line) … bodyStart … bodyEnd. Per RFC 2046 §5.1.1 the line break
 *   before a boundary delimiter belongs to the delimiter, so a part's bodyEnd stops before it.
 * - Multiparts get `children`; message/rfc822 (identity encoding) gets `message`, the encapsulated
 *   message's root node. Missing close delimiters, missing boundaries and garbage are tolerated:
 *   a part simply ends where its enclosing region ends. Bodies are never decoded here.
 * - asBuffer(u8) → a Buffer view over the same bytes (no copy).
 */
import { parseHeaderBlock, firstValue, type HeaderBlock } from './header-block.ts';
import { parseContentType, paramValue, type MimeParam } from './params.ts';

export interface MimeNode {
  headerStart: number;
  /** where the blank line ending the header starts */
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  header: HeaderBlock;
  /** type and subtype as written (defaults: text/plain, or message/rfc822 inside multipart/digest) */
  type: string;
  subtype: string;
  /** lowercase 'type/subtype' */
  contentType: string;
  /** true when a valid Content-Type header was present */
  explicitType: boolean;
  params: MimeParam[];
  /** Content-Transfer-Encoding as written (trimmed), or null */
  encodingRaw: string | null;
  /** lowercase encoding, '7bit' by default */
  encoding: string;
  /** multipart children (empty for leaves) */
  children: MimeNode[];
  /** for message/rfc822: the encapsulated message */
  message: MimeNode | null;
  isMultipart: boolean;
}

const MAX_DEPTH = 100;
const LF = 10;
const CR = 13;
const DASH = 45;

export function asBuffer(raw: Uint8Array): Buffer {
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

export function parseMimeTree(raw: Uint8Array): MimeNode {
  const buf = asBuffer(raw);
  return parseEntity(buf, 0, buf.length, false, 0);
}

function parseEntity(
  buf: Buffer,
  start: number,
  end: number,
  digestChild: boolean,
  depth: number,
  trailing = 0,
): MimeNode {
  const header = parseHeaderBlock(buf, start, end);
  const ct = parseContentType(firstValue(buf, header, 'content-type'));
  const cteRaw = firstValue(buf, header, 'content-transfer-encoding');
  const cte = cteRaw ? cteToken(cteRaw) : null;
  let type = digestChild ? 'message' : 'text';
  let subtype = digestChild ? 'rfc822' : 'plain';
  let params: MimeParam[] = [];
  if (ct) {
    type = ct.type;
    subtype = ct.subtype;
    params = ct.params;
  }
  const contentType = (type + '/' + subtype).toLowerCase();
  const encoding = cte ? cte.toLowerCase() : '7bit';
  const node: MimeNode = {
    headerStart: start,
    headerEnd: header.headerEnd,
    bodyStart: header.bodyStart,
    bodyEnd: end,
    header,
    type,
    subtype,
    contentType,
    explicitType: ct !== null,
    params,
    encodingRaw: cte,
    encoding,
    children: [],
    message: null,
    isMultipart: false,
  };
  if (depth >= MAX_DEPTH) return node;
  const typeLower = type.toLowerCase();
  if (typeLower === 'multipart') {
    // like Dovecot: a multipart without a boundary is a multipart without parts
    node.isMultipart = true;
    const boundary = paramValue(params, 'boundary');
    if (boundary) splitMultipart(buf, node, boundary, subtype.toLowerCase() === 'digest', depth, trailing);
  } else if (contentType === 'message/rfc822') {
    // like Dovecot, also when the part is (wrongly) base64/QP encoded
    const msg = parseEntity(buf, node.bodyStart, end, false, depth + 1, trailing);
    node.message = msg;
    if (msg.bodyEnd > end) node.bodyEnd = msg.bodyEnd;
    else if (
      trailing > 0 &&
      msg.header.bodyStart === end &&
      msg.header.headerEnd === end &&
      end > node.bodyStart
    ) {
      // Dovecot quirk: an encapsulated header that runs into the delimiter keeps the delimiter's
      // line break in the message/rfc822 part's size (BODY[n] and lines), not in its header
      node.bodyEnd = end + trailing;
    }
  }
  return node;
}

function cteToken(v: string): string | null {
  const m = /^\s*([^\s;()]+)/.exec(v);
  return m ? (m[1] as string) : null;
}

/** Finds delimiter lines `--boundary` at line starts within the node's body and builds children. */
function splitMultipart(
  buf: Buffer,
  node: MimeNode,
  boundary: string,
  digest: boolean,
  depth: number,
  trailing: number,
): void {
  const b = Buffer.from('--' + boundary, 'latin1');
  const blen = b.length;
  const region = node.bodyStart;
  const end = node.bodyEnd;
  let from = region;
  let partStart = -1;
  for (;;) {
    const hit = findDelimiter(buf, b, from, region, end);
    if (hit < 0) break;
    if (partStart >= 0) {
      const e = delimiterBodyEnd(buf, hit, partStart);
      node.children.push(parseEntity(buf, partStart, e, digest, depth + 1, hit - e));
    }
    const isClose = hit + blen + 2 <= end && buf[hit + blen] === DASH && buf[hit + blen + 1] === DASH;
    if (isClose) {
      partStart = -1;
      // Dovecot: when the close-delimiter line is the last line of this region, its line break
      // (which is also the one before the enclosing delimiter) stays with this part
      let le = hit + blen + 2;
      while (le < end && buf[le] !== CR && buf[le] !== LF) le++;
      if (le === end && trailing > 0) node.bodyEnd = end + trailing;
      break;
    }
    const nl = buf.indexOf(LF, hit + blen);
    partStart = nl < 0 || nl >= end ? end : nl + 1;
    from = partStart;
  }
  if (partStart >= 0) node.children.push(parseEntity(buf, partStart, end, digest, depth + 1));
}

function findDelimiter(buf: Buffer, b: Buffer, from: number, region: number, end: number): number {
  for (;;) {
    const h = buf.indexOf(b, from);
    if (h < 0 || h + b.length > end) return -1;
    if (h === region || buf[h - 1] === LF) return h;
    from = h + 1;
  }
}

/** End of the part body before a delimiter at `lineStart`: drop the preceding CRLF (or LF). */
function delimiterBodyEnd(buf: Buffer, lineStart: number, partStart: number): number {
  let e = lineStart;
  if (e > partStart && buf[e - 1] === LF) {
    e--;
    if (e > partStart && buf[e - 1] === CR) e--;
  }
  return e;
}
