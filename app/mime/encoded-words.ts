/**
 * RFC 2047 encoded-word decoding for header values (lenient, like most MUAs):
 *
 * - decodeEncodedWords(value) → string: `=?charset?B|Q?text?=` decoded; whitespace between adjacent
 *   encoded words dropped; consecutive words in the same charset are joined at the byte level first
 *   (so multi-byte characters split across words survive); malformed words are left as-is.
 * - encodeWords(text) → text as is when it is printable ASCII, else RFC 2047 B-encoded UTF-8 words of
 *   at most 39 bytes each (64 characters encoded: a "Subject: " line stays within the 76 characters
 *   of RFC 2047 §2), split between characters, space-separated.
 * Raw 8-bit header bytes are expected to be decoded to a string already (see header-block.ts).
 */
import { decodeCharset } from './charset.ts';

const EW = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function qDecode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '_') out.push(32);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Uint8Array.from(out);
}

function bDecode(text: string): Uint8Array {
  return Buffer.from(text, 'base64');
}

export function decodeEncodedWords(value: string): string {
  if (value.indexOf('=?') < 0) return value;
  let out = '';
  let last = 0;
  let pendingCharset: string | null = null;
  let pending: Uint8Array[] = [];
  const flush = (): void => {
    if (pendingCharset !== null) {
      out += decodeCharset(Buffer.concat(pending), pendingCharset);
      pending = [];
      pendingCharset = null;
    }
  };
  EW.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = EW.exec(value)) !== null) {
    const between = value.slice(last, m.index);
    const adjacent = pendingCharset !== null && /^[ \t\r\n]*$/.test(between);
    const charset = (m[1] as string).toLowerCase();
    const bytes = (m[2] as string).toLowerCase() === 'b' ? bDecode(m[3] as string) : qDecode(m[3] as string);
    if (adjacent && charset === pendingCharset) {
      pending.push(bytes);
    } else {
      flush();
      if (!adjacent) out += between;
      pendingCharset = charset;
      pending = [bytes];
    }
    last = m.index + m[0].length;
  }
  flush();
  out += value.slice(last);
  return out;
}

export function encodeWords(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch) > 39) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}
