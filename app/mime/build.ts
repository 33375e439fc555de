/**
 * Writing header blocks and multipart bodies (CRLF throughout).
 *
 * - foldField(name, value) → `Name: value` folded at whitespace to keep lines within 78 characters
 *   where possible, CRLF-terminated.
 * - rawField(header) → the exact bytes of a parsed field (entity.ts), CRLF, with a final line break.
 * - buildMultipartBody(boundary, parts, preamble?) → the body of a multipart whose parts are full
 *   entities (headers + blank line + body); a part may be given as its pieces (e.g. headers, body).
 * - multipartChunks(boundary, parts, preamble?) → the same body as a list of buffers, for a caller
 *   that joins it with more: a megabyte part is then copied once, not once per level of framing.
 * - freshBoundary(...contents) → a Thunderbird-style boundary (12 dashes + 24 random alphanumerics)
 *   that occurs in none of the contents.
 */
import { randomBytes } from 'node:crypto';
import { normalizeCrlf } from './crlf.ts';
import type { RawHeader } from './entity.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomBoundary(): string {
  let s = '------------';
  for (const b of randomBytes(24)) s += ALNUM[b % ALNUM.length];
  return s;
}

export function foldField(name: string, value: string): string {
  const words = value.split(/(?<=\S)(?=[ \t])/);
  let line = name + ':';
  const lines: string[] = [];
  for (const w of words) {
    const piece = line.length === name.length + 1 && !/^[ \t]/.test(w) ? ' ' + w : w;
    if (line.length + piece.length > 76 && line.trim().length > name.length + 1) {
      lines.push(line);
      line = /^[ \t]/.test(piece) ? piece : ' ' + piece;
    } else line += piece;
  }
  lines.push(line);
  return lines.join('\r\n') + '\r\n';
}

export function rawField(h: RawHeader): Buffer {
  const b = normalizeCrlf(h.raw);
  return b[b.length - 1] === 0x0a ? b : Buffer.concat([b, Buffer.from('\r\n')]);
}

/** A multipart part: the entity, or its pieces in order. */
type PartBytes = Buffer | readonly Buffer[];

export function multipartChunks(boundary: string, parts: readonly PartBytes[], preamble?: string): Buffer[] {
  const chunks: Buffer[] = [];
  if (preamble) chunks.push(Buffer.from(preamble + '\r\n'));
  for (const p of parts)
    chunks.push(Buffer.from(`--${boundary}\r\n`), ...(Buffer.isBuffer(p) ? [p] : p), Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return chunks;
}

export function buildMultipartBody(boundary: string, parts: readonly PartBytes[], preamble?: string): Buffer {
  return Buffer.concat(multipartChunks(boundary, parts, preamble));
}

export function freshBoundary(...contents: Buffer[]): string {
  for (;;) {
    const b = randomBoundary();
    if (!contents.some((c) => c.includes('--' + b))) return b;
  }
}
