/**
 * Line-ending normalization for storage (RFC 5322 requires CRLF; IMAP sizes count stored octets).
 *
 * - normalizeCrlf(raw) → Buffer: every bare LF becomes CRLF, existing CRLF kept, a bare CR kept as is.
 *   Returns the input (as a Buffer view, no copy) when nothing needs changing.
 * - hasBareLf(raw) → whether any LF is not preceded by CR.
 */
import { asBuffer } from './tree.ts';

export function hasBareLf(raw: Uint8Array): boolean {
  const buf = asBuffer(raw);
  let pos = 0;
  for (;;) {
    const i = buf.indexOf(10, pos);
    if (i < 0) return false;
    if (i === 0 || buf[i - 1] !== 13) return true;
    pos = i + 1;
  }
}

export function normalizeCrlf(raw: Uint8Array): Buffer {
  const buf = asBuffer(raw);
  let bare = 0;
  let pos = 0;
  for (;;) {
    const i = buf.indexOf(10, pos);
    if (i < 0) break;
    if (i === 0 || buf[i - 1] !== 13) bare++;
    pos = i + 1;
  }
  if (bare === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + bare);
  let o = 0;
  pos = 0;
  for (;;) {
    const i = buf.indexOf(10, pos);
    if (i < 0) break;
    o += buf.copy(out, o, pos, i);
    if (i === 0 || buf[i - 1] !== 13) out[o++] = 13;
    out[o++] = 10;
    pos = i + 1;
  }
  buf.copy(out, o, pos);
  return out;
}
