/** Small builders for header blocks and multipart bodies (CRLF, folded lines, random boundaries). */
import { randomBytes } from 'node:crypto';
import type { RawHeader } from './headers.ts';
import { toCRLF } from './line-endings.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Thunderbird-style boundary: 12 dashes + 24 random alphanumerics. */
export function randomBoundary(): string {
  const bytes = randomBytes(24);
  let s = '------------';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

/** `Name: value` folded at whitespace to keep lines under 78 characters where possible, CRLF. */
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

/** The exact raw bytes of a header field, CRLF-terminated. */
export function rawField(h: RawHeader): Buffer {
  const b = toCRLF(h.raw);
  return b[b.length - 1] === 0x0a ? b : Buffer.concat([b, Buffer.from('\r\n')]);
}

/** Build a multipart body: each part is a full entity (headers + blank line + body), CRLF. */
export function buildMultipartBody(boundary: string, parts: Buffer[], preamble?: string): Buffer {
  const chunks: Buffer[] = [];
  if (preamble) chunks.push(Buffer.from(preamble + '\r\n'));
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`), p, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** A boundary that does not occur in any of the given contents. */
export function freshBoundary(...contents: Buffer[]): string {
  for (;;) {
    const b = randomBoundary();
    if (!contents.some((c) => c.includes('--' + b))) return b;
  }
}
