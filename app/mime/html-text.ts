/**
 * HTML → plain text for full-text search (not for display): drops <script>/<style>/<head> content,
 * comments and tags, turns block-level tags into line breaks and decodes character references.
 *
 * - htmlToText(html) → string
 * - decodeEntities(text) → string (every HTML named reference, &#N; and &#xN;)
 */
import { decodeHTML } from 'entities';

/**
 * Character references as HTML5 reads them (all 2,231 named ones, numeric ones with the spec's
 * replacements, legacy forms without `;`), by the `entities` package. For search, a no-break space
 * is a space.
 */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  const d = decodeHTML(s);
  return d.indexOf('\u00a0') < 0 ? d : d.replaceAll('\u00a0', ' ');
}

const BLOCK_TAGS = new Set([
  'br',
  'p',
  'div',
  'tr',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'blockquote',
]);
const SKIP_TAGS = new Set(['script', 'style', 'head', 'title']);
/** inline tags do not separate words: "cr<b>è</b>me" is one word */
const INLINE_TAGS = new Set([
  'a',
  'b',
  'i',
  'u',
  's',
  'em',
  'strong',
  'span',
  'font',
  'small',
  'big',
  'sub',
  'sup',
  'code',
  'mark',
  'abbr',
]);

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/** Single pass: text between tags is kept (entities decoded), tags become a space or a line break. */
function indexOfCloseTag(html: string, name: string, from: number): number {
  // case-insensitive search for "</name"
  for (;;) {
    const i = html.indexOf('</', from);
    if (i < 0) return -1;
    if (html.slice(i + 2, i + 2 + name.length).toLowerCase() === name) return i;
    from = i + 2;
  }
}

export function htmlToText(html: string): string {
  const out: string[] = [];
  let pos = 0;
  const n = html.length;
  while (pos < n) {
    const lt = html.indexOf('<', pos);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > pos) {
      const seg = html.slice(pos, textEnd);
      out.push(seg.indexOf('&') >= 0 ? decodeEntities(seg) : seg);
    }
    if (lt < 0) break;
    // comment
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      pos = end < 0 ? n : end + 3;
      out.push(' ');
      continue;
    }
    let j = lt + 1;
    const closing = html.charCodeAt(j) === 47;
    if (closing) j++;
    const nameStart = j;
    while (j < n && isNameChar(html.charCodeAt(j))) j++;
    if (j === nameStart && !closing && html[j] !== '!' && html[j] !== '?') {
      // a lone "<" is text
      out.push('<');
      pos = lt + 1;
      continue;
    }
    const name = html.slice(nameStart, j).toLowerCase();
    const gt = html.indexOf('>', j);
    pos = gt < 0 ? n : gt + 1;
    if (!closing && SKIP_TAGS.has(name)) {
      const end = indexOfCloseTag(html, name, pos);
      if (end < 0) pos = n;
      else {
        const gt2 = html.indexOf('>', end);
        pos = gt2 < 0 ? n : gt2 + 1;
      }
      out.push(' ');
      continue;
    }
    if (INLINE_TAGS.has(name)) continue;
    out.push(BLOCK_TAGS.has(name) ? '\n' : ' ');
  }
  return out.join('').trim();
}

const ASCII_INCOMPATIBLE = /^(?:utf-16|utf-32|ucs-2|iso-2022|utf-7|hz-gb)/;

/** Whether tags can be stripped on the raw bytes before charset decoding. */
export function asciiCompatibleCharset(charset: string): boolean {
  return !ASCII_INCOMPATIBLE.test(charset);
}

/** Tag names packed into a number (5 bits per letter/digit, up to 10 characters). */
function packName(name: string): number {
  let v = 0;
  for (let k = 0; k < name.length; k++) v = v * 37 + packChar(name.charCodeAt(k));
  return v;
}

function packChar(c: number): number {
  if (c >= 65 && c <= 90) c += 32;
  if (c >= 97 && c <= 122) return c - 96; // 1..26
  if (c >= 48 && c <= 57) return c - 21; // 27..36
  return 0;
}

const enum_ = (names: Iterable<string>): Set<number> => new Set([...names].map(packName));
const SKIP_CODES = enum_(SKIP_TAGS);
const INLINE_CODES = enum_(INLINE_TAGS);
const BLOCK_CODES = enum_(BLOCK_TAGS);

/**
 * htmlToText over the bytes of an ASCII-compatible charset, in one tight pass: tags, comments and
 * script/style/head/title content are removed; inline tags vanish, block tags become LF, others a
 * space. The result still needs charset decoding and decodeEntities.
 */
export function stripHtmlBytes(src: Buffer): Buffer {
  const n = src.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = src[i] as number;
    if (c !== 60) {
      out[o++] = c;
      i++;
      continue;
    }
    // "<"
    if (src[i + 1] === 33 && src[i + 2] === 45 && src[i + 3] === 45) {
      const end = src.indexOf('-->', i + 4, 'latin1');
      i = end < 0 ? n : end + 3;
      out[o++] = 32;
      continue;
    }
    let j = i + 1;
    const closing = src[j] === 47;
    if (closing) j++;
    let code = 0;
    let len = 0;
    for (; j < n; j++) {
      const p = packChar(src[j] as number);
      if (p === 0) break;
      if (len < 10) code = code * 37 + p;
      len++;
    }
    if (len === 0 && !closing && src[j] !== 33 && src[j] !== 63) {
      out[o++] = 60; // a lone "<" is text
      i++;
      continue;
    }
    while (j < n && src[j] !== 62) j++;
    i = j + 1;
    if (len > 10) {
      out[o++] = 32;
      continue;
    }
    if (!closing && SKIP_CODES.has(code)) {
      // skip to the matching close tag (case-insensitive)
      let from = i;
      let end = -1;
      for (;;) {
        const k = src.indexOf('</', from, 'latin1');
        if (k < 0) break;
        let q = k + 2;
        let v = 0;
        for (; q < n; q++) {
          const p = packChar(src[q] as number);
          if (p === 0) break;
          v = v * 37 + p;
        }
        if (v === code) {
          end = q;
          break;
        }
        from = k + 2;
      }
      if (end < 0) i = n;
      else {
        const gt = src.indexOf(62, end);
        i = gt < 0 ? n : gt + 1;
      }
      out[o++] = 32;
      continue;
    }
    if (INLINE_CODES.has(code)) continue;
    out[o++] = BLOCK_CODES.has(code) ? 10 : 32;
  }
  return out.subarray(0, o);
}
