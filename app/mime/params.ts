/**
 * MIME structured header values (RFC 2045 §5.1, RFC 2183, RFC 2231), parsed like Dovecot:
 *
 * - parseContentType(value) → { type, subtype, params, wellFormed } (type/subtype as written, or null
 *   if there is no type; wellFormed false when the subtype is missing or garbage was skipped)
 * - parseDisposition(value) → { value, params } | null
 * - parseParams(text, pos) → MimeParam[] in order; RFC 2231 continuations (name*0, name*1*) merged
 *   into `name` or, when any piece is extended, `name*` with the charset''%xx value kept encoded.
 * - decodeParamValue(params, name) → the decoded value of `name` / `name*` (for filenames).
 * - paramValue(params, name) → raw value (case-insensitive name) or undefined.
 * - mediaType(value) → { mime, params } for code that acts on a Content-Type (crypto, submission
 *   checks): lowercase 'type/subtype' ('text/plain' when missing or invalid, RFC 2045 §5.2) and every
 *   parameter by lowercase name, RFC 2231 pieces joined and charset-decoded.
 */
import { decodeCharset } from './charset.ts';

export interface MimeParam {
  name: string;
  value: string;
}

export interface ContentType {
  type: string;
  subtype: string;
  params: MimeParam[];
  /** RFC 2045 syntax throughout: a subtype, and nothing skipped between the parameters */
  wellFormed: boolean;
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: number): boolean {
  if (c <= 32 || c === 127) return false;
  return TSPECIALS.indexOf(String.fromCharCode(c)) < 0;
}

/** Skips whitespace and (nested) comments; returns the new position. */
export function skipCfws(s: string, pos: number): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c === 32 || c === 9 || c === 13 || c === 10) pos++;
    else if (c === 40) {
      let depth = 1;
      pos++;
      while (pos < s.length && depth > 0) {
        const d = s.charCodeAt(pos);
        if (d === 92) pos += 2;
        else {
          if (d === 40) depth++;
          else if (d === 41) depth--;
          pos++;
        }
      }
    } else break;
  }
  return pos;
}

function readToken(s: string, pos: number): [string, number] {
  const start = pos;
  while (pos < s.length && isTokenChar(s.charCodeAt(pos))) pos++;
  return [s.slice(start, pos), pos];
}

function readQuoted(s: string, pos: number): [string, number] {
  // s[pos] === '"'
  pos++;
  let out = '';
  while (pos < s.length) {
    const c = s[pos] as string;
    if (c === '"') return [out, pos + 1];
    if (c === '\\' && pos + 1 < s.length) {
      out += s[pos + 1];
      pos += 2;
      continue;
    }
    out += c;
    pos++;
  }
  return [out, pos];
}

export function parseContentType(value: string | null): ContentType | null {
  if (value === null) return null;
  const [type, afterType] = readToken(value, skipCfws(value, 0));
  let pos = skipCfws(value, afterType);
  if (!type) return null;
  let subtype = '';
  if (value[pos] === '/') {
    // like Dovecot: "text" alone is type "text" with an empty subtype
    pos = skipCfws(value, pos + 1);
    [subtype, pos] = readToken(value, pos);
  }
  const { params, wellFormed } = readParams(value, pos);
  return { type, subtype, params, wellFormed: wellFormed && subtype !== '' };
}

export function parseDisposition(value: string | null): { value: string; params: MimeParam[] } | null {
  if (value === null) return null;
  const [v, pos] = readToken(value, skipCfws(value, 0));
  if (!v) return null;
  return { value: v, params: parseParams(value, pos) };
}

/** Parameters after the main value: `; name=value` ... (lenient: garbage between params is skipped). */
export function parseParams(s: string, pos: number): MimeParam[] {
  return readParams(s, pos).params;
}

function readParams(s: string, pos: number): { params: MimeParam[]; wellFormed: boolean } {
  const raw: MimeParam[] = [];
  let wellFormed = true;
  while (pos < s.length) {
    pos = skipCfws(s, pos);
    if (pos >= s.length) break;
    if (s[pos] !== ';') {
      // garbage: skip to the next ';'
      wellFormed = false;
      const next = s.indexOf(';', pos);
      if (next < 0) break;
      pos = next;
    }
    pos = skipCfws(s, pos + 1);
    let name: string;
    [name, pos] = readToken(s, pos);
    pos = skipCfws(s, pos);
    if (!name && pos >= s.length) break; // a final ';'
    if (!name || s[pos] !== '=') {
      wellFormed = false;
      continue;
    }
    pos = skipCfws(s, pos + 1);
    let value: string;
    if (s[pos] === '"') [value, pos] = readQuoted(s, pos);
    else {
      // lenient token: anything up to ';' or whitespace
      const start = pos;
      while (pos < s.length && s[pos] !== ';' && s[pos] !== ' ' && s[pos] !== '\t') pos++;
      value = s.slice(start, pos);
    }
    raw.push({ name, value });
  }
  return { params: mergeRfc2231(raw), wellFormed };
}

/** Merges RFC 2231 continuations: key*0=a key*1=b → key=ab; extended pieces → key*=charset''... */
function mergeRfc2231(params: MimeParam[]): MimeParam[] {
  if (!params.some((p) => p.name.includes('*'))) return params;
  const out: MimeParam[] = [];
  const groups = new Map<string, { pieces: { idx: number; value: string; ext: boolean }[] }>();
  for (const p of params) {
    const m = /^([^*]+)\*(\d+)(\*?)$/.exec(p.name);
    if (!m) {
      out.push(p);
      continue;
    }
    const key = m[1] as string;
    let g = groups.get(key);
    if (!g) {
      g = { pieces: [] };
      groups.set(key, g);
    }
    g.pieces.push({ idx: Number(m[2]), value: p.value, ext: m[3] === '*' });
  }
  for (const [key, g] of groups) {
    g.pieces.sort((a, b) => a.idx - b.idx);
    const anyExt = g.pieces.some((p) => p.ext);
    let value = '';
    for (const p of g.pieces) {
      if (anyExt && !p.ext) value += encodeURIComponentLike(p.value);
      else value += p.value;
    }
    if (anyExt && !(g.pieces[0] as { ext: boolean }).ext) value = "''" + value;
    out.push({ name: anyExt ? key + '*' : key, value }); // like Dovecot: merged ones come last
  }
  return out;
}

function encodeURIComponentLike(s: string): string {
  return s.replace(/[%\s'*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export function paramValue(params: MimeParam[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const p of params) if (p.name.toLowerCase() === lower) return p.value;
  return undefined;
}

/** Decoded parameter value: plain `name`, or RFC 2231 `name*` (charset'lang'%xx) decoded. */
export function decodeParamValue(
  params: MimeParam[],
  name: string,
  decode: (bytes: Uint8Array, charset: string) => string,
): string | undefined {
  const ext = paramValue(params, name + '*');
  if (ext !== undefined) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(ext);
    if (m) {
      const bytes: number[] = [];
      const v = m[2] as string;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === '%' && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
          bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(v.charCodeAt(i) & 0xff);
      }
      return decode(Uint8Array.from(bytes), m[1] || 'us-ascii');
    }
    return ext;
  }
  return paramValue(params, name);
}

export interface MediaType {
  /** lowercase 'type/subtype' */
  mime: string;
  /** decoded values by lowercase name (a null-prototype object) */
  params: Record<string, string>;
}

export function mediaType(value: string | null | undefined): MediaType {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (value === null || value === undefined) {
    params['charset'] = 'us-ascii';
    return { mime: 'text/plain', params };
  }
  const ct = parseContentType(value);
  const valid = ct !== null && ct.subtype !== '';
  if (ct)
    for (const p of ct.params) {
      const name = p.name.toLowerCase().replace(/\*$/, '');
      params[name] ??= decodeParamValue(ct.params, name, decodeCharset) ?? p.value;
    }
  return { mime: valid ? (ct.type + '/' + ct.subtype).toLowerCase() : 'text/plain', params };
}
