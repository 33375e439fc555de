/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6.7, §6.8), lenient, pure.
 *
 * - decodeBase64(bytes) → Buffer (ignores whitespace and garbage, tolerates missing padding).
 * - decodeQuotedPrintable(bytes) → Buffer (soft line breaks removed; bad escapes kept literally).
 * - decodeTransfer(bytes, encoding) → Buffer for base64 / quoted-printable, else the same bytes.
 */
import { asBuffer } from './tree.ts';

export function decodeBase64(bytes: Uint8Array): Buffer {
  return Buffer.from(asBuffer(bytes).toString('latin1'), 'base64');
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
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

export function decodeTransfer(bytes: Uint8Array, encoding: string): Buffer {
  if (encoding === 'base64') return decodeBase64(bytes);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(bytes);
  return asBuffer(bytes);
}
