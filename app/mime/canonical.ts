/**
 * The form a message is stored (and served) in, so every IMAP literal of it is legal:
 *
 * - canonicalMessage(raw) → Buffer: leaf parts declared `Content-Transfer-Encoding: binary`
 *   (RFC 3516 APPEND) are re-encoded to base64 — IMAP forbids NUL in a plain literal, and BINARY[]
 *   decodes them back to the same bytes (Dovecot re-encodes likewise when serving BODY[]) — and
 *   every bare LF becomes CRLF (mbox files), so RFC822.SIZE is what is sent. The input is returned
 *   unchanged (no copy) when nothing needs changing.
 */
import { asBuffer, parseMimeTree, type MimeNode } from './tree.ts';
import { findField } from './header-block.ts';
import { normalizeCrlf } from './crlf.ts';
import { encodeBase64Lines } from './transfer-encoding.ts';

export function canonicalMessage(raw: Uint8Array): Buffer {
  // The MIME tree (offsets only, a few ms for 20 MB) finds binary parts exactly as they are read;
  // a regex over the whole message as a string took 0.1-0.4 s for 20 MB.
  return normalizeCrlf(reencodeBinary(asBuffer(raw)));
}

function binaryLeaves(n: MimeNode, out: MimeNode[]): void {
  if (n.isMultipart) for (const c of n.children) binaryLeaves(c, out);
  else if (n.message) binaryLeaves(n.message, out);
  else if (n.encoding === 'binary') out.push(n);
}

function reencodeBinary(buf: Buffer): Buffer {
  const leaves: MimeNode[] = [];
  binaryLeaves(parseMimeTree(buf), leaves);
  if (!leaves.length) return buf;
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const n of leaves.sort((a, b) => a.headerStart - b.headerStart)) {
    const field = findField(n.header, 'content-transfer-encoding');
    if (!field) continue;
    pieces.push(buf.subarray(pos, field.start), Buffer.from('Content-Transfer-Encoding: base64\r\n'));
    pieces.push(
      buf.subarray(field.end, n.bodyStart),
      encodeBase64Lines(buf.subarray(n.bodyStart, n.bodyEnd), false),
    );
    pos = n.bodyEnd;
  }
  pieces.push(buf.subarray(pos));
  return Buffer.concat(pieces);
}
