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

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export function decodeQuotedPrintable(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let o = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i] as number;
    if (c === 61 /* = */) {
      // soft line break: "=" [whitespace] CRLF / LF
      let j = i + 1;
      while (j < n && (bytes[j] === 32 || bytes[j] === 9)) j++;
      if (j < n && bytes[j] === 13 && bytes[j + 1] === 10) {
        i = j + 1;
        continue;
      }
      if (j < n && bytes[j] === 10) {
        i = j;
        continue;
      }
      if (j >= n) break; // "=" at the very end
      if (i + 2 < n + 0 && i + 2 <= n - 1) {
        const h = hexVal(bytes[i + 1] as number);
        const l = hexVal(bytes[i + 2] as number);
        if (h >= 0 && l >= 0) {
          out[o++] = (h << 4) | l;
          i += 2;
          continue;
        }
      }
      out[o++] = c;
      continue;
    }
    if (c === 32 || c === 9) {
      // trailing whitespace before a line break is transport padding (RFC 2045 §6.7 rule 3)
      let j = i;
      while (j < n && (bytes[j] === 32 || bytes[j] === 9)) j++;
      if (j >= n || bytes[j] === 13 || bytes[j] === 10) {
        i = j - 1;
        continue;
      }
    }
    out[o++] = c;
  }
  return out.subarray(0, o);
}

export function decodeTransfer(bytes: Uint8Array, encoding: string): Buffer {
  if (encoding === 'base64') return decodeBase64(bytes);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(bytes);
  return asBuffer(bytes);
}
