/**
 * Exact multipart splitting (RFC 2046 §5.1.1): a part runs from the byte after the line break
 * that ends its delimiter line up to, but excluding, the line break that precedes the next
 * delimiter — that line break belongs to the delimiter. Works for CRLF and bare-LF bodies.
 */

export interface PartRange {
  /** offset of the first byte of the part (its headers) within the multipart body */
  start: number;
  /** exclusive end offset (before the CRLF/LF preceding the next delimiter) */
  end: number;
}

export interface MultipartSplit {
  parts: PartRange[];
  /** true when the close delimiter `--boundary--` was found */
  closed: boolean;
}

/** Split a multipart body into part ranges (offsets relative to `body`). */
export function splitMultipart(body: Buffer, boundary: string): MultipartSplit {
  const delim = Buffer.from('--' + boundary, 'latin1');
  const parts: PartRange[] = [];
  let openStart = -1; // start of the part being read
  let from = 0;
  while (from <= body.length) {
    const at = body.indexOf(delim, from);
    if (at < 0) break;
    from = at + 1;
    // A delimiter starts a line.
    if (at !== 0 && body[at - 1] !== 0x0a) continue;
    let p = at + delim.length;
    const close = body[p] === 0x2d && body[p + 1] === 0x2d;
    if (close) p += 2;
    // transport padding, then the line break (or the end of the body)
    while (body[p] === 0x20 || body[p] === 0x09) p++;
    let lineEnd: number;
    if (p >= body.length) lineEnd = body.length;
    else if (body[p] === 0x0a) lineEnd = p + 1;
    else if (body[p] === 0x0d && body[p + 1] === 0x0a) lineEnd = p + 2;
    else continue; // `--boundaryX`: a longer boundary, not ours
    if (openStart >= 0) {
      let end = at;
      if (end > openStart && body[end - 1] === 0x0a) end--;
      if (end > openStart && body[end - 1] === 0x0d) end--;
      parts.push({ start: openStart, end: Math.max(openStart, end) });
    }
    if (close) return { parts, closed: true };
    openStart = lineEnd;
    from = lineEnd;
  }
  if (openStart >= 0) parts.push({ start: openStart, end: body.length });
  return { parts, closed: false };
}
