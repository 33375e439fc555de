/**
 * LZ4 block compression in plain TypeScript, for small message bodies in the store (raw-codec.ts).
 *
 * Why not zlib: node:zlib creates a native stream per call (~8 µs even for a 2 KB body), so a
 * FETCH of 10,000 small messages spent more time setting up inflaters than serving bytes. LZ4
 * decodes with a few byte copies, straight into the buffer that is served, with no native call.
 *
 * Stored form: the decoded length (uint32 little-endian), then one LZ4 block (the LZ4 block format:
 * sequences of a token, literal length, literals, 2-byte offset, match length; the last 5 bytes are
 * literals and the last match starts at least 12 bytes before the end).
 */

const MIN_MATCH = 4;
/** A match must start at least this many bytes before the end of the input. */
const MF_LIMIT = 12;
/** The last bytes of the input are always literals. */
const LAST_LITERALS = 5;
const MAX_OFFSET = 65535;
const HASH_LOG = 14;

/** Thrown when stored LZ4 data is damaged (never returns wrong bytes silently). */
export class Lz4FormatError extends Error {
  override name = 'Lz4FormatError';
}

let table = new Int32Array(1 << HASH_LOG);

function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function writeLength(out: Uint8Array, op: number, n: number): number {
  while (n >= 255) {
    out[op++] = 255;
    n -= 255;
  }
  out[op++] = n;
  return op;
}

/** The most bytes `lz4Compress` can produce for `n` input bytes. */
export function lz4Bound(n: number): number {
  return 4 + n + Math.ceil(n / 255) + 16;
}

/** Compresses `src` (length prefix + one LZ4 block). Greedy, single-probe hash: fast, not tight. */
export function lz4Compress(src: Uint8Array): Buffer {
  const n = src.length;
  const out = Buffer.allocUnsafe(lz4Bound(n));
  out.writeUInt32LE(n, 0);
  let op = 4;
  let anchor = 0;
  // Smaller inputs use a smaller part of the table (cheaper to reset).
  let hashLog = 8;
  while (hashLog < HASH_LOG && 1 << hashLog < n) hashLog++;
  if (table.length < 1 << hashLog) table = new Int32Array(1 << HASH_LOG);
  table.fill(-1, 0, 1 << hashLog);
  const shift = 32 - hashLog;
  const mfLimit = n - MF_LIMIT;
  const matchLimit = n - LAST_LITERALS;
  let ip = 0;
  let misses = 0;
  while (ip < mfLimit) {
    const seq = read32(src, ip);
    const h = Math.imul(seq, 2654435761) >>> shift;
    const ref = table[h]!;
    table[h] = ip;
    if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
      // Incompressible stretches are skipped faster and faster.
      ip += 1 + (misses++ >> 6);
      continue;
    }
    misses = 0;
    // Extend the match backwards over pending literals, then forwards.
    let start = ip;
    let back = ref;
    while (start > anchor && back > 0 && src[start - 1] === src[back - 1]) {
      start--;
      back--;
    }
    let end = ip + MIN_MATCH;
    let from = ref + MIN_MATCH;
    while (end < matchLimit && src[end] === src[from]) {
      end++;
      from++;
    }
    const litLen = start - anchor;
    const matchLen = end - start - MIN_MATCH;
    const token = op++;
    out[token] = (litLen >= 15 ? 15 << 4 : litLen << 4) | (matchLen >= 15 ? 15 : matchLen);
    if (litLen >= 15) op = writeLength(out, op, litLen - 15);
    if (litLen < 16) for (let i = anchor; i < start; i++) out[op++] = src[i]!;
    else {
      out.set(src.subarray(anchor, start), op);
      op += litLen;
    }
    const offset = start - back;
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    if (matchLen >= 15) op = writeLength(out, op, matchLen - 15);
    ip = anchor = end;
    if (ip < mfLimit) table[Math.imul(read32(src, ip - 2), 2654435761) >>> shift] = ip - 2;
  }
  const litLen = n - anchor;
  out[op++] = litLen >= 15 ? 15 << 4 : litLen << 4;
  if (litLen >= 15) op = writeLength(out, op, litLen - 15);
  out.set(src.subarray(anchor, n), op);
  op += litLen;
  return out.subarray(0, op);
}

/** The decoded length stored in front of the block. */
export function lz4DecodedLength(data: Uint8Array): number {
  if (data.length < 5) throw new Lz4FormatError('lz4: truncated');
  return (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
}

/**
 * Decodes `data` into `dst` at `at` (dst must have room for `lz4DecodedLength(data)` bytes there).
 * Checks every length and offset: damaged input throws, it never reads or writes out of bounds.
 */
export function lz4DecompressInto(data: Uint8Array, dst: Uint8Array, at: number): void {
  const outEnd = at + lz4DecodedLength(data);
  if (outEnd > dst.length) throw new Lz4FormatError('lz4: output does not fit');
  const n = data.length;
  let ip = 4;
  let op = at;
  for (;;) {
    if (ip >= n) throw new Lz4FormatError('lz4: truncated');
    const token = data[ip++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b;
      do {
        if (ip >= n) throw new Lz4FormatError('lz4: truncated');
        b = data[ip++]!;
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > n || op + lit > outEnd) throw new Lz4FormatError('lz4: literal out of bounds');
    if (lit < 16) for (let i = 0; i < lit; i++) dst[op++] = data[ip++]!;
    else {
      dst.set(data.subarray(ip, ip + lit), op);
      ip += lit;
      op += lit;
    }
    if (ip === n) break; // the last sequence has no match
    if (ip + 2 > n) throw new Lz4FormatError('lz4: truncated');
    const offset = data[ip]! | (data[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op - at) throw new Lz4FormatError('lz4: bad offset');
    let len = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b;
      do {
        if (ip >= n) throw new Lz4FormatError('lz4: truncated');
        b = data[ip++]!;
        len += b;
      } while (b === 255);
    }
    if (op + len > outEnd) throw new Lz4FormatError('lz4: match out of bounds');
    let m = op - offset;
    if (len < 16 || offset < 8) {
      // Short match, or a short repeated pattern: byte by byte repeats it.
      const stop = op + len;
      while (op < stop) dst[op++] = dst[m++]!;
    } else {
      // In steps of at most `offset` bytes no step overlaps the bytes it reads.
      while (len > 0) {
        const step = len < offset ? len : offset;
        dst.copyWithin(op, m, m + step);
        op += step;
        m += step;
        len -= step;
      }
    }
  }
  if (op !== outEnd) throw new Lz4FormatError('lz4: wrong decoded length');
}

/** Decodes a whole stored value into a new Buffer. */
export function lz4Decompress(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(lz4DecodedLength(data));
  lz4DecompressInto(data, out, 0);
  return out;
}
