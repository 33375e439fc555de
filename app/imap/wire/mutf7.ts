/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3). Printable US-ASCII (0x20-0x7e) stands for
 * itself except '&', which is written '&-'; every other run of characters is '&' + modified BASE64
 * (',' instead of '/', no padding) of its UTF-16BE code units + '-'. Decoding is strict.
 */
import { UserError } from '../../shared/errors.ts';

export class MUtf7Error extends UserError {
  override name = 'MUtf7Error';
  /** Offset in the input where the problem was found. */
  readonly position: number;
  constructor(message: string, position: number) {
    super('mutf7', `Invalid modified UTF-7 mailbox name: ${message}`);
    this.position = position;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** Encodes a (well-formed) JavaScript string. Throws MUtf7Error on a lone surrogate. */
export function encodeMUtf7(name: string): string {
  let out = '';
  let i = 0;
  const n = name.length;
  while (i < n) {
    const c = name.charCodeAt(i);
    if (c === 0x26) {
      out += '&-';
      i++;
      continue;
    }
    if (isDirect(c)) {
      let j = i + 1;
      while (j < n) {
        const d = name.charCodeAt(j);
        if (!isDirect(d) || d === 0x26) break;
        j++;
      }
      out += name.slice(i, j);
      i = j;
      continue;
    }
    // a run of characters to encode
    let j = i;
    while (j < n && !isDirect(name.charCodeAt(j))) j++;
    out += '&' + encodeRun(name, i, j) + '-';
    i = j;
  }
  return out;
}

function encodeRun(s: string, from: number, to: number): string {
  let out = '';
  let bits = 0;
  let nbits = 0;
  for (let k = from; k < to; k++) {
    const u = s.charCodeAt(k);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = s.charCodeAt(k + 1);
      if (!(k + 1 < to && next >= 0xdc00 && next <= 0xdfff)) throw new MUtf7Error('lone surrogate', k);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      const prev = s.charCodeAt(k - 1);
      if (!(k > from && prev >= 0xd800 && prev <= 0xdbff)) throw new MUtf7Error('lone surrogate', k);
    }
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += ALPHABET[(bits >> nbits) & 0x3f];
    }
    bits &= (1 << nbits) - 1;
  }
  if (nbits > 0) out += ALPHABET[(bits << (6 - nbits)) & 0x3f];
  return out;
}

/** Decodes a modified UTF-7 name; throws MUtf7Error for anything but the one valid encoding. */
export function decodeMUtf7(name: string): string {
  let out = '';
  let i = 0;
  const n = name.length;
  let lastRunEnd = -1;
  while (i < n) {
    const c = name.charCodeAt(i);
    if (!isDirect(c)) throw new MUtf7Error('character outside printable US-ASCII', i);
    if (c !== 0x26) {
      let j = i + 1;
      while (j < n && name.charCodeAt(j) !== 0x26 && isDirect(name.charCodeAt(j))) j++;
      out += name.slice(i, j);
      i = j;
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end === -1) throw new MUtf7Error("unterminated '&'", i);
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    if (lastRunEnd === i) throw new MUtf7Error('two adjacent encoded runs (non-shortest form)', i);
    out += decodeRun(name, i + 1, end);
    i = end + 1;
    lastRunEnd = i;
  }
  return out;
}

function decodeRun(s: string, from: number, to: number): string {
  let bits = 0;
  let nbits = 0;
  const units: number[] = [];
  for (let k = from; k < to; k++) {
    const code = s.charCodeAt(k);
    const v = code < 128 ? (DECODE[code] as number) : -1;
    if (v < 0) throw new MUtf7Error('invalid modified BASE64 character', k);
    bits = ((bits << 6) | v) & 0xffffff;
    nbits += 6;
    if (nbits >= 16) {
      nbits -= 16;
      units.push((bits >> nbits) & 0xffff);
    }
  }
  // Leftover: fewer than 6 bits, all zero (anything else is padding garbage or a non-shortest form).
  if (nbits >= 6 || (bits & ((1 << nbits) - 1)) !== 0) throw new MUtf7Error('bad BASE64 padding bits', to);
  if (units.length === 0) throw new MUtf7Error('empty encoded run', from);
  let out = '';
  for (let k = 0; k < units.length; k++) {
    const u = units[k] as number;
    if (u >= 0xd800 && u <= 0xdbff) {
      const lo = units[k + 1];
      if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw new MUtf7Error('unpaired surrogate', from);
      out += String.fromCharCode(u, lo);
      k++;
      continue;
    }
    if (u >= 0xdc00 && u <= 0xdfff) throw new MUtf7Error('unpaired surrogate', from);
    if (isDirect(u)) throw new MUtf7Error('printable US-ASCII character encoded in BASE64', from);
    out += String.fromCharCode(u);
  }
  return out;
}

/** True if `name` is valid modified UTF-7 (as decodeMUtf7 accepts it). */
export function isValidMUtf7(name: string): boolean {
  try {
    decodeMUtf7(name);
    return true;
  } catch {
    return false;
  }
}
