/**
 * Autocrypt Level 1 header syntax (standards §3a): parse and format `Autocrypt:` and
 * `Autocrypt-Gossip:` values.
 * - addr and keydata are mandatory; keydata MUST be the last attribute (base64 of the binary key,
 *   folding whitespace removed);
 * - prefer-encrypt=mutual, anything else means nopreference;
 * - attributes starting with `_` are non-critical and ignored; any other unknown one (or a
 *   duplicate) makes the header invalid;
 * - a header larger than 10 KiB (with its name and folding) is invalid and never sent.
 */
import { tryCanonicalAddress } from '../address.ts';
import type { PreferEncrypt } from '../types.ts';

export const AUTOCRYPT_MAX_HEADER_BYTES = 10 * 1024;

export interface AutocryptHeader {
  /** Canonical address. */
  addr: string;
  preferEncrypt: PreferEncrypt;
  keydata: Uint8Array;
  /** Non-critical (`_`-prefixed) attributes, kept for diagnostics. */
  nonCritical: Record<string, string>;
}

export type ParseResult = { ok: true; header: AutocryptHeader } | { ok: false; error: string };

const KNOWN = new Set(['addr', 'prefer-encrypt', 'keydata']);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses a header value (folded or unfolded). `name` is only used for the size check
 * (default 'Autocrypt').
 */
export function parseAutocryptHeader(value: string, name = 'Autocrypt'): ParseResult {
  if (Buffer.byteLength(`${name}: ${value}`, 'utf8') > AUTOCRYPT_MAX_HEADER_BYTES)
    return { ok: false, error: 'header larger than 10 KiB' };
  const unfolded = value.replace(/\r?\n(?=[ \t])/g, '');
  const attrs = new Map<string, string>();
  const nonCritical: Record<string, string> = {};
  let sawKeydata = false;
  for (const raw of unfolded.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    if (sawKeydata) return { ok: false, error: 'keydata is not the last attribute' };
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, error: `malformed attribute ${JSON.stringify(part.slice(0, 40))}` };
    const key = part.slice(0, eq).trim().toLowerCase();
    const val = part.slice(eq + 1).trim();
    if (key.startsWith('_')) {
      nonCritical[key] = val;
      continue;
    }
    if (!KNOWN.has(key)) return { ok: false, error: `unknown critical attribute ${key}` };
    if (attrs.has(key)) return { ok: false, error: `duplicate attribute ${key}` };
    attrs.set(key, val);
    if (key === 'keydata') sawKeydata = true;
  }
  const addrRaw = attrs.get('addr');
  if (!addrRaw) return { ok: false, error: 'missing addr' };
  const addr = tryCanonicalAddress(addrRaw);
  if (!addr) return { ok: false, error: 'invalid addr' };
  const kd = attrs.get('keydata');
  if (kd === undefined) return { ok: false, error: 'missing keydata' };
  const b64 = kd.replace(/\s+/g, '');
  if (b64 === '' || !BASE64.test(b64)) return { ok: false, error: 'keydata is not base64' };
  const keydata = new Uint8Array(Buffer.from(b64, 'base64'));
  if (keydata.length === 0) return { ok: false, error: 'empty keydata' };
  const preferEncrypt: PreferEncrypt = attrs.get('prefer-encrypt') === 'mutual' ? 'mutual' : 'nopreference';
  return { ok: true, header: { addr, preferEncrypt, keydata, nonCritical } };
}

/**
 * The folded header value: `addr=...; [prefer-encrypt=mutual; ]keydata=` followed by base64 lines
 * of 76 characters, folded with CRLF + space. Gossip headers pass preferEncrypt = undefined.
 */
export function formatAutocryptValue(h: {
  addr: string;
  preferEncrypt?: PreferEncrypt;
  keydata: Uint8Array;
}): string {
  const b64 = Buffer.from(h.keydata).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  const pe = h.preferEncrypt === 'mutual' ? ' prefer-encrypt=mutual;' : '';
  return `addr=${h.addr};${pe} keydata=\r\n ${lines.join('\r\n ')}`;
}

/** The whole header field (`Autocrypt: ...` without the final CRLF); throws when over 10 KiB. */
export function formatAutocryptHeader(
  h: { addr: string; preferEncrypt?: PreferEncrypt; keydata: Uint8Array },
  name: 'Autocrypt' | 'Autocrypt-Gossip' = 'Autocrypt',
): string {
  const field = `${name}: ${formatAutocryptValue(h)}`;
  if (Buffer.byteLength(field, 'utf8') > AUTOCRYPT_MAX_HEADER_BYTES)
    throw new Error(`${name} header would exceed 10 KiB`);
  return field;
}
