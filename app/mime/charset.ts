/**
 * Charset conversion to UTF-16 strings, via the WHATWG TextDecoder (utf-8, iso-8859-*, windows-125x,
 * koi8-*, gb18030, big5, shift_jis, euc-*, iso-2022-jp, utf-16 ...), and iconv-lite for what the
 * WHATWG set lacks (utf-7, the IBM/DOS code pages cp437, cp850, ..., mac*). Pure.
 *
 * - decodeCharset(bytes, charset) → string; unknown charsets fall back to UTF-8 when the bytes are
 *   valid UTF-8, else windows-1252. Never throws.
 * - normalizeCharset(name) → a label TextDecoder accepts (handles aliases like "utf8", "latin1", "cp1252").
 */

import { isUtf8, isAscii } from 'node:buffer';
import iconv from 'iconv-lite';

interface Decoder {
  decode(bytes: Buffer): string;
}

const decoders = new Map<string, Decoder | null>();
const cp1252 = new TextDecoder('windows-1252');

/** iconv-lite also knows pseudo-charsets (base64, hex, binary) that no mail means: not those. */
const ICONV_NAME = /^(?!base64$|hex$|binary$|_)[a-z]/;

function iconvDecoder(charset: string): Decoder {
  return {
    decode: (b) => {
      try {
        return iconv.decode(b, charset);
      } catch {
        return cp1252.decode(b); // decodeCharset never throws
      }
    },
  };
}

const ALIASES: Record<string, string> = {
  utf8: 'utf-8',
  'unicode-1-1-utf-7': 'utf-7',
  csunicode11utf7: 'utf-7',
  latin1: 'iso-8859-1',
  'iso8859-1': 'iso-8859-1',
  ascii: 'us-ascii',
  'us-ascii': 'us-ascii',
  'ansi_x3.4-1968': 'us-ascii',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1252: 'windows-1252',
  cp1253: 'windows-1253',
  cp1254: 'windows-1254',
  cp1255: 'windows-1255',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  cp1258: 'windows-1258',
  'x-unknown': 'utf-8',
  unknown: 'utf-8',
  'unknown-8bit': 'utf-8',
};

export function normalizeCharset(name: string): string {
  let n = name.trim().toLowerCase().replace(/^"|"$/g, '');
  const star = n.indexOf('*'); // RFC 2231 language suffix in encoded words
  if (star >= 0) n = n.slice(0, star);
  const alias = ALIASES[n];
  if (alias) return alias;
  const m = /^iso[-_]?8859[-_]?(\d+)$/.exec(n);
  if (m) return 'iso-8859-' + m[1];
  const w = /^(?:windows|win|cp)[-_]?(125\d)$/.exec(n);
  if (w) return 'windows-' + w[1];
  return n;
}

function decoderFor(charset: string): Decoder | null {
  let d = decoders.get(charset);
  if (d !== undefined) return d;
  try {
    d = new TextDecoder(charset === 'us-ascii' ? 'windows-1252' : charset);
  } catch {
    d = ICONV_NAME.test(charset) && iconv.encodingExists(charset) ? iconvDecoder(charset) : null;
  }
  // the names come from mail: remember a bounded number of them
  if (decoders.size < 512) decoders.set(charset, d);
  return d;
}

export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined): string {
  const cs = charset ? normalizeCharset(charset) : 'us-ascii';
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (cs === 'us-ascii' || cs === 'utf-8') {
    if (isAscii(b)) return b.toString('latin1');
    if (cs === 'utf-8' || isUtf8(b)) return b.toString('utf8');
    return cp1252.decode(b);
  }
  const d = decoderFor(cs);
  if (d) return d.decode(b);
  return isUtf8(b) ? b.toString('utf8') : cp1252.decode(b);
}
