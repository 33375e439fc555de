/**
 * Raw header splitting for the crypto layer: exact byte offsets, no re-serialization. Accepts
 * CRLF and bare-LF input (a store that normalized line endings). Values are unfolded but never
 * decoded (RFC 2047 words stay as they are), so they can be copied into another header block.
 */

export interface RawHeader {
  /** field name as written */
  name: string;
  /** lowercase field name */
  lname: string;
  /** unfolded value, leading/trailing whitespace trimmed, still RFC 2047-encoded */
  value: string;
  /** the exact bytes of the field including its final line break */
  raw: Buffer;
}

export interface RawEntity {
  headers: RawHeader[];
  /** offset where the body starts (after the blank line), = buf.length when there is none */
  bodyStart: number;
  /** the body bytes (a view into the input) */
  body: Buffer;
}

/** Offset just after the blank line that ends the header block (or buf.length). */
export function findBodyStart(buf: Buffer): { headerEnd: number; bodyStart: number } {
  // A part may start directly with its blank line (no headers at all).
  if (buf[0] === 0x0a) return { headerEnd: 0, bodyStart: 1 };
  if (buf[0] === 0x0d && buf[1] === 0x0a) return { headerEnd: 0, bodyStart: 2 };
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0) return { headerEnd: buf.length, bodyStart: buf.length };
    const next = nl + 1;
    if (buf[next] === 0x0a) return { headerEnd: next, bodyStart: next + 1 };
    if (buf[next] === 0x0d && buf[next + 1] === 0x0a) return { headerEnd: next, bodyStart: next + 2 };
    i = next;
  }
  return { headerEnd: buf.length, bodyStart: buf.length };
}

/** Parse the header fields of a header block (bytes up to, not including, the blank line). */
export function parseHeaderBlock(block: Buffer): RawHeader[] {
  const out: RawHeader[] = [];
  let start = 0;
  let i = 0;
  while (i < block.length) {
    let nl = block.indexOf(0x0a, i);
    if (nl < 0) nl = block.length - 1;
    const next = nl + 1;
    const cont = block[next] === 0x20 || block[next] === 0x09;
    if (cont && next < block.length) {
      i = next;
      continue;
    }
    pushField(out, block.subarray(start, next));
    start = next;
    i = next;
  }
  return out;
}

function pushField(out: RawHeader[], raw: Buffer): void {
  const text = raw.toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return; // not a header field (garbage line): ignored, never fatal
  const name = text.slice(0, colon).trim();
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) return;
  const value = text
    .slice(colon + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/\r?\n$/, '')
    .trim();
  out.push({ name, lname: name.toLowerCase(), value, raw });
}

/** Split an entity (message or MIME part) into its header fields and body. */
export function parseEntity(buf: Buffer): RawEntity {
  const { headerEnd, bodyStart } = findBodyStart(buf);
  return { headers: parseHeaderBlock(buf.subarray(0, headerEnd)), bodyStart, body: buf.subarray(bodyStart) };
}
