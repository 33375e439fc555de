/**
 * Content-Transfer-Encoding codec (RFC 2045 §6.7, §6.8), lenient decoders, pure.
 *
 * - decodeBase64(bytes) → Buffer (ignores whitespace and garbage, tolerates missing padding).
 * - decodeQuotedPrintable(bytes) → Buffer (soft line breaks removed; bad escapes kept literally).
 * - decodeBase64Sliced / decodeQuotedPrintableSliced(bytes, yieldLoop) → the same bytes in pieces,
 *   decoded a piece per turn of the event loop (BINARY of a 20 MB message).
 * - decodeTransfer(bytes, encoding) → Buffer for base64 / quoted-printable (any case, padded), else
 *   the same bytes.
 * - encodeQuotedPrintable(bytes) → Buffer: what signing needs (RFC 3156 §3): 76-column lines, CRLF,
 *   trailing whitespace, a leading "From " and a leading "." encoded.
 * - encodeBase64Lines(bytes, finalBreak?) → Buffer: base64 in 76-character CRLF lines.
 */
import { asBuffer } from './tree.ts';

export function decodeBase64(bytes: Uint8Array): Buffer {
  const buf = asBuffer(bytes);
  const text = buf.toString('latin1');
  // Node also reads the URL-safe alphabet ('-', '_'); RFC 2045 §6.8 says to ignore them
  if (buf.indexOf(0x2d) < 0 && buf.indexOf(0x5f) < 0) return Buffer.from(text, 'base64');
  return Buffer.from(text.replace(/[-_]/g, ''), 'base64');
}

/** Base64 alphabet bytes (not '='), for decodeBase64Sliced. */
const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64[c.charCodeAt(0)] = 1;

/**
 * decodeBase64 of a big body in pieces of about `piece` bytes, a turn of the event loop between
 * two (decoding 20 MB at once held the loop 50-300 ms); the decoded pieces in order (joined, they
 * are what decodeBase64 gives; joining 15 MB is itself a long turn). Pieces end at a line end
 * after a multiple of 4 base64 characters, so they decode to the same bytes as the whole; a body
 * with anything but the alphabet, line ends and final padding is decoded whole, as decodeBase64
 * does.
 */
export async function decodeBase64Sliced(
  bytes: Uint8Array,
  yieldLoop: () => Promise<unknown>,
  piece = 1 << 20,
): Promise<Buffer[]> {
  const buf = asBuffer(bytes);
  const out: Buffer[] = [];
  let start = 0;
  let chars = 0; // alphabet characters since `start`
  let cut = -1; // the last line end after a multiple of 4 characters
  let padded = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (B64[c] === 1) {
      if (padded) return [decodeBase64(buf)];
      chars++;
    } else if (c === 0x0a) {
      if (chars % 4 === 0) cut = i + 1;
    } else if (c === 0x3d) padded = true;
    else if (c !== 0x0d) return [decodeBase64(buf)];
    if (i - start >= piece && cut > start) {
      out.push(Buffer.from(buf.toString('latin1', start, cut), 'base64'));
      start = cut;
      chars = 0;
      for (let j = cut; j <= i; j++) if (B64[buf[j]!] === 1) chars++;
      await yieldLoop();
    }
  }
  out.push(Buffer.from(buf.toString('latin1', start), 'base64'));
  return out;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/**
 * decodeQuotedPrintable of a big body in pieces of about `piece` bytes, a turn of the event loop
 * between two (20 MB at once held the loop 190-270 ms); the decoded pieces in order. Pieces end
 * after a line feed: an escape, a soft break and the transport padding before a break are then
 * all within one piece, so the pieces decode to the bytes the whole decodes to.
 */
export async function decodeQuotedPrintableSliced(
  bytes: Uint8Array,
  yieldLoop: () => Promise<unknown>,
  piece = 1 << 20,
): Promise<Buffer[]> {
  const buf = asBuffer(bytes);
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const lf = start + piece < buf.length ? buf.indexOf(10, start + piece - 1) : -1;
    if (lf < 0 || lf + 1 >= buf.length) break;
    out.push(decodeQuotedPrintable(buf.subarray(start, lf + 1)));
    start = lf + 1;
    await yieldLoop();
  }
  out.push(decodeQuotedPrintable(buf.subarray(start)));
  return out;
}

/** One tight pass; whitespace before a line break (or the end) is transport padding and dropped. */
export function decodeQuotedPrintable(bytes: Uint8Array): Buffer {
  const src = bytes;
  const n = src.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  let keep = 0; // output before this index is never stripped (decoded escapes, soft breaks)
  let i = 0;
  while (i < n) {
    const c = src[i] as number;
    if (c !== 61 && c !== 13 && c !== 10) {
      out[o++] = c;
      i++;
      continue;
    }
    if (c === 61) {
      if (i + 2 < n) {
        const h = HEX[src[i + 1] as number] as number;
        const l = HEX[src[i + 2] as number] as number;
        if ((h | l) >= 0) {
          out[o++] = (h << 4) | l;
          i += 3;
          keep = o;
          continue;
        }
      }
      let j = i + 1;
      while (j < n && (src[j] === 32 || src[j] === 9)) j++;
      if (j >= n) break; // "=" at the very end: a soft break into nothing
      if (src[j] === 13 && src[j + 1] === 10) {
        i = j + 2;
        keep = o;
        continue;
      }
      if (src[j] === 10) {
        i = j + 1;
        keep = o;
        continue;
      }
      out[o++] = 61; // a bad escape is kept literally
      i++;
      keep = o;
      continue;
    }
    // a line break: drop the transport padding before it
    while (o > keep && (out[o - 1] === 32 || out[o - 1] === 9)) o--;
    out[o++] = c;
    i++;
    keep = o;
  }
  while (o > keep && (out[o - 1] === 32 || out[o - 1] === 9)) o--;
  return out.subarray(0, o);
}

export function decodeTransfer(bytes: Uint8Array, encoding: string | null | undefined): Buffer {
  const enc = encoding ? encoding.trim().toLowerCase() : '';
  if (enc === 'base64') return decodeBase64(bytes);
  if (enc === 'quoted-printable') return decodeQuotedPrintable(bytes);
  return asBuffer(bytes);
}

const HEX_DIGITS = '0123456789ABCDEF';

/** Lines are kept as hard breaks (CRLF or LF in, CRLF out); a soft break keeps lines within 76 columns. */
export function encodeQuotedPrintable(data: Uint8Array): Buffer {
  const buf = asBuffer(data);
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    const stop = nl < 0 ? buf.length : nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
    out.push(encodeQpLine(buf, start, stop));
    if (nl < 0) break;
    start = nl + 1;
  }
  return Buffer.from(out.join('\r\n'), 'latin1');
}

function encodeQpLine(buf: Buffer, start: number, end: number): string {
  let line = '';
  let enc = '';
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    let piece: string;
    const plain = (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && i !== end - 1);
    const leading =
      i === start && (c === 46 || (c === 70 && buf.toString('latin1', start, start + 5) === 'From '));
    if (plain && !leading) piece = String.fromCharCode(c);
    else piece = '=' + HEX_DIGITS[c >> 4] + HEX_DIGITS[c & 15];
    if (enc.length + piece.length > 75) {
      line += enc + '=\r\n';
      enc = '';
    }
    enc += piece;
  }
  return line + enc;
}

export function encodeBase64Lines(data: Uint8Array, finalBreak = true): Buffer {
  const b64 = asBuffer(data).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.from(lines.join('\r\n') + (finalBreak && lines.length ? '\r\n' : ''), 'latin1');
}
