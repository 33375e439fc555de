/**
 * A message's preview text (what IMAP PREVIEW, RFC 8970, sends): the text of its first displayable
 * text part — text/plain before text/html, attachments and encapsulated messages skipped — decoded
 * as full-text search decodes it (bodyText: transfer encoding, charset, HTML reduced to text), quoted
 * lines of plain text (`> ...`, the message replied to) left out as Dovecot leaves them out, then
 * every run of whitespace and control characters made one space, trimmed, and cut to `maxChars`
 * characters (code points: never half a surrogate pair). '' when there is no such text.
 *
 * - messagePreview(raw, parts, maxChars) → string
 */
import type { MimePart } from './types.ts';
import { bodyText } from './text-extract.ts';
import { firstValue, parseHeaderBlock } from './header-block.ts';

/**
 * At most this much of a part's encoded body is decoded: far more than a preview needs, even behind
 * a big HTML head, and bounded for a huge part.
 */
const SCAN_BYTES = 256 * 1024;

function isAttachment(raw: Uint8Array, p: MimePart): boolean {
  const v = firstValue(raw, parseHeaderBlock(raw, p.headerStart, p.bodyStart), 'content-disposition');
  return v !== null && /^\s*attachment\b/i.test(v);
}

function choosePart(raw: Uint8Array, parts: readonly MimePart[]): MimePart | undefined {
  const encapsulated = parts.filter(
    (p) => p.contentType === 'message/rfc822' || p.contentType === 'message/global',
  );
  const shown = (p: MimePart): boolean =>
    p.section !== '' &&
    !encapsulated.some((m) => p.section.startsWith(m.section + '.')) &&
    !isAttachment(raw, p);
  return (
    parts.find((p) => p.contentType === 'text/plain' && shown(p)) ??
    parts.find((p) => p.contentType === 'text/html' && shown(p))
  );
}

export function messagePreview(raw: Uint8Array, parts: readonly MimePart[], maxChars: number): string {
  const p = choosePart(raw, parts);
  if (!p) return '';
  const end = Math.min(p.bodyEnd, p.bodyStart + SCAN_BYTES);
  let text = bodyText(raw.subarray(p.bodyStart, end), p.encoding, p.charset ?? null, p.contentType);
  if (p.contentType === 'text/plain') text = text.replace(/^>.*$/gm, '');
  text = text.replace(/[\s\x00-\x1f\x7f]+/gu, ' ').trim();
  if (text.length <= maxChars) return text;
  let out = '';
  let n = 0;
  for (const ch of text.slice(0, maxChars * 2)) {
    if (n++ === maxChars) break;
    out += ch;
  }
  return out.trimEnd();
}
