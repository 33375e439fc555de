/**
 * Full-text-search text of a message: the decoded text of its text/* parts (QP/base64 decoded,
 * charset → UTF-8, HTML reduced to text), plus the decoded headers of encapsulated messages.
 * Non-text attachments are skipped; the result is capped at TEXT_CAP characters.
 *
 * - extractText(raw, root) → string
 * - bodyText(encoded, encoding, charset, contentType) → the text of one text/* body
 */
import type { MimeNode } from './tree.ts';
import { decodeTransfer } from './transfer-encoding.ts';
import { decodeCharset, normalizeCharset } from './charset.ts';
import { htmlToText, stripHtmlBytes, asciiCompatibleCharset, decodeEntities } from './html-text.ts';
import { paramValue } from './params.ts';
import { fieldValue } from './header-block.ts';
import { decodeEncodedWords } from './encoded-words.ts';

/**
 * Characters of text kept per message for full-text search: 256 KiB, some 40,000 words, more than
 * the text of nearly any mail; deriving and checking 1 MiB of it took 90-200 ms per message, in
 * one turn of the event loop.
 */
export const TEXT_CAP = 256 * 1024;

export function partText(buf: Uint8Array, node: MimeNode): string {
  return bodyText(
    buf.subarray(node.bodyStart, node.bodyEnd),
    node.encoding,
    paramValue(node.params, 'charset') ?? null,
    node.contentType,
  );
}

/**
 * partText when at most `wanted` characters of it are kept: a big part is decoded from its start,
 * a prefix of its bytes growing 4x at a time, until that gives more than `wanted` characters (the
 * whole of a 20 MB part took 0.2-1.5 s, on the event loop of an APPEND or of the full-text
 * indexer). The same bytes give the same text: search, which derives it again, agrees with the
 * index.
 */
function partTextUpTo(buf: Uint8Array, node: MimeNode, wanted: number): string {
  const body = buf.subarray(node.bodyStart, node.bodyEnd);
  const charset = paramValue(node.params, 'charset') ?? null;
  for (let n = 2 * wanted + PREFIX_SLACK; n < body.length; n *= 4) {
    const text = bodyText(body.subarray(0, n), node.encoding, charset, node.contentType);
    // what the cut may garble (an escape, a character, a tag) is beyond the characters kept
    if (text.length >= wanted + PREFIX_SLACK) return text;
  }
  return bodyText(body, node.encoding, charset, node.contentType);
}

/** Bytes beyond twice the characters wanted in a part's first prefix, and characters beyond them kept. */
const PREFIX_SLACK = 4096;

/**
 * The text of a text/* body as written (`encoded`): transfer encoding and charset decoded, HTML
 * reduced to text.
 */
export function bodyText(
  encoded: Uint8Array,
  encoding: string,
  charset: string | null,
  contentType: string,
): string {
  const bytes = decodeTransfer(encoded, encoding);
  if (contentType !== 'text/html') return decodeCharset(bytes, charset);
  if (charset === null || asciiCompatibleCharset(normalizeCharset(charset))) {
    // strip tags on the bytes (native copies), then decode once
    const text = decodeCharset(stripHtmlBytes(bytes), charset);
    return (text.indexOf('&') >= 0 ? decodeEntities(text) : text).trim();
  }
  return htmlToText(decodeCharset(bytes, charset));
}

export function extractText(buf: Uint8Array, root: MimeNode): string {
  const out: string[] = [];
  let len = 0;
  const push = (s: string): boolean => {
    if (s.length === 0) return true;
    if (len + s.length > TEXT_CAP) {
      out.push(s.slice(0, TEXT_CAP - len));
      len = TEXT_CAP;
      return false;
    }
    out.push(s);
    len += s.length;
    return true;
  };
  const walk = (node: MimeNode): boolean => {
    if (len >= TEXT_CAP) return false;
    if (node.isMultipart) {
      // multipart/alternative: text/plain and text/html usually carry the same words; index both
      // only when cheap: index every child (search must find words of either rendering)
      for (const c of node.children) if (!walk(c)) return false;
      return true;
    }
    if (node.message) {
      const m = node.message;
      for (const f of m.header.fields) {
        if (f.lower === 'subject' || f.lower === 'from' || f.lower === 'to' || f.lower === 'cc') {
          if (!push(f.name + ': ' + decodeEncodedWords(fieldValue(buf, f)) + '\n')) return false;
        }
      }
      return walk(m);
    }
    if (node.type.toLowerCase() !== 'text') return true;
    return push(partTextUpTo(buf, node, TEXT_CAP - len) + '\n');
  };
  walk(root);
  let text = out.join('');
  let e = text.length;
  while (e > 0 && text.charCodeAt(e - 1) === 10) e--;
  if (e < text.length) text = text.slice(0, e);
  return text;
}
