/**
 * Raw MIME storage codec for message bodies (message_raw.compression):
 * 0 = stored as is, 1 = deflate-raw, 2 = LZ4 block with a length prefix (lz4-block.ts); -1 = the
 * body was evicted from the bounded body cache (migration 15): nothing is stored, the provider has it.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import type { MessageAnalysis } from '../../mime/types.ts';
import { UserError } from '../../shared/errors.ts';
import { lz4Compress, lz4Decompress, lz4DecodedLength, lz4DecompressInto } from './lz4-block.ts';

export const RAW_PLAIN = 0;
export const RAW_DEFLATE = 1;
export const RAW_LZ4 = 2;
export const RAW_EVICTED = -1;

/**
 * The body of a message is not stored locally (evicted from the bounded body cache): the message's
 * row, size, structure and header block are, and the body can be fetched again from the provider.
 */
export class BodyEvictedError extends UserError {
  override name = 'BodyEvictedError';
  constructor(what = 'a message') {
    super('unavailable', `the body of ${what} is not stored locally (evicted from the body cache)`);
  }
}

export function decodeRaw(compression: number, data: Buffer): Buffer {
  if (compression === RAW_PLAIN) return data;
  if (compression === RAW_LZ4) return lz4Decompress(data);
  if (compression === RAW_DEFLATE) return inflateRawSync(data);
  if (compression === RAW_EVICTED) throw new BodyEvictedError();
  throw new Error(`unknown raw compression ${compression}`);
}

/** The served bytes of a stored message: its header block followed by the decoded body, one Buffer. */
export function joinRaw(head: Buffer, compression: number, body: Buffer): Buffer {
  if (compression === RAW_LZ4) {
    // Decoded straight behind the header: one allocation, no intermediate copy.
    const out = Buffer.allocUnsafe(head.length + lz4DecodedLength(body));
    head.copy(out, 0);
    lz4DecompressInto(body, out, head.length);
    return out;
  }
  const data = decodeRaw(compression, body);
  if (head.length === 0) return data;
  const out = Buffer.allocUnsafe(head.length + data.length);
  head.copy(out, 0);
  data.copy(out, head.length);
  return out;
}

/**
 * Like joinRaw, from one Buffer holding the header block (`headLength` bytes) followed by the
 * stored body. A plain body needs no copy at all.
 */
export function splitRaw(stored: Buffer, headLength: number, compression: number): Buffer {
  if (compression === RAW_PLAIN) return stored;
  if (compression === RAW_EVICTED) throw new BodyEvictedError();
  if (compression === RAW_LZ4) {
    const body = stored.subarray(headLength);
    const out = Buffer.allocUnsafe(headLength + lz4DecodedLength(body));
    stored.copy(out, 0, 0, headLength);
    lz4DecompressInto(body, out, headLength);
    return out;
  }
  return joinRaw(stored.subarray(0, headLength), compression, stored.subarray(headLength));
}

/**
 * How a message body is stored. Bodies under 256 bytes: as is. Under 4 KiB: LZ4 when that saves
 * at least 10%; else under 1 KiB as is. Otherwise (and when LZ4 does not shrink a body of 1 KiB or
 * more, e.g. base64): deflate level 1 when that saves at least 10%, else as is.
 *
 * LZ4 from 256 bytes on: the ~880-byte text body of a 1 KB message takes 503 bytes (57 %), a
 * decode of ~3 µs; as is, it was a quarter of the store at a million such messages (issue 20's
 * 2.5 GB target; dbstat, 1,000,000 x 1 KB: 912 B of 3,285 B per message).
 *
 * Why both: node:zlib costs ~8 µs of setup per inflate, about what inflating 3 KB takes, so for
 * small bodies (most plain-text mail) setup dominated FETCH BODY[]; LZ4 decodes a 2 KB body in
 * ~1 µs, straight into the served buffer. Above 4 KiB the per-byte cost dominates and deflate's
 * better ratio wins (20 KB of text: 0.31 vs 0.48 of the size): less disk and fewer pages to
 * decrypt per message served.
 * The LZ4 output is decoded and compared before it is used: a codec bug can never lose mail.
 */
export interface PackedBody {
  compression: number;
  data: Buffer;
}

/** Bodies from this size on are deflated (see above). */
export const LZ4_MAX_BODY = 4096;

/** Bodies under this size are stored as they are (see above). */
const LZ4_MIN_BODY = 256;

export function packBody(body: Buffer): PackedBody {
  if (body.length < LZ4_MIN_BODY) return { compression: RAW_PLAIN, data: body };
  if (body.length < LZ4_MAX_BODY) {
    const lz = lz4Compress(body);
    if (lz.length < body.length * 0.9 && safeLz4(lz, body)) return { compression: RAW_LZ4, data: owned(lz) };
    // node:zlib's ~8 µs of setup per inflate is not worth it for so few bytes
    if (body.length < 1024) return { compression: RAW_PLAIN, data: body };
  }
  return deflated(body, deflateRawSync(body, { level: 1 }));
}

const deflateRawAsync = promisify(deflateRaw);

/** Bodies from this size on are packed off the main thread by packBodyAsync. */
export const ASYNC_PACK_FROM = 64 * 1024;

/**
 * packBody for a body about to be stored from a request or a sync batch: a big body is deflated on
 * libuv's thread pool (deflating 20 MB takes 0.6-1.7 s of a thread, which would freeze every client).
 */
export async function packBodyAsync(body: Buffer): Promise<PackedBody> {
  if (body.length < ASYNC_PACK_FROM) return packBody(body);
  return deflated(body, await deflateRawAsync(body, { level: 1, chunkSize: 1 << 20 }));
}

/** Bodies from this size on are stored in chunks (body_chunks, migration 9), written ahead one per transaction. */
export const CHUNKED_FROM = 1024 * 1024;

/** Bytes of the body per chunk; each chunk is packed on its own (a chunk row stays within 256 KiB). */
export const CHUNK_SIZE = 256 * 1024;

/** A big body cut into CHUNK_SIZE slices, each packed on its own (by packSlices or packSlicesAsync). */
export interface SlicedBody {
  slices: PackedBody[];
}

/** A body of CHUNKED_FROM bytes or more, cut into slices packed here (an import worker's thread). */
export function packSlices(body: Buffer, compress: boolean): SlicedBody {
  const slices: PackedBody[] = [];
  for (let at = 0; at < body.length; at += CHUNK_SIZE) {
    const slice = body.subarray(at, at + CHUNK_SIZE);
    slices.push(
      compress
        ? deflated(slice, deflateRawSync(slice, { level: 1 }))
        : { compression: RAW_PLAIN, data: slice },
    );
  }
  return { slices };
}

/**
 * packSlices on libuv's thread pool (deflate level 1 per slice, or as is when that saves under
 * 10%), for a body about to be stored from a request or a sync batch.
 */
export async function packSlicesAsync(body: Buffer, compress: boolean): Promise<SlicedBody> {
  const n = Math.ceil(body.length / CHUNK_SIZE);
  const slices = new Array<PackedBody>(n);
  let next = 0;
  const packer = async () => {
    for (let i = next++; i < n; i = next++) {
      const slice = body.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE);
      slices[i] = compress
        ? deflated(slice, await deflateRawAsync(slice, { level: 1 }))
        : { compression: RAW_PLAIN, data: slice };
    }
  };
  // Two at a time: all at once would take every thread of the pool, which on two cores leaves the
  // event loop's thread little CPU (loop delays of 300 ms, measured); one at a time takes 3x longer.
  await Promise.all([packer(), packer()]);
  return { slices };
}

/** SHA-256 of a big message, CHUNK_SIZE bytes per turn of the event loop (20 MB at once: 30-150 ms). */
export async function sha256Sliced(raw: Buffer): Promise<Buffer> {
  const h = createHash('sha256');
  for (let at = 0; at < raw.length; at += CHUNK_SIZE) {
    if (at > 0) await yieldLoop();
    h.update(raw.subarray(at, at + CHUNK_SIZE));
  }
  return h.digest();
}

/** The served bytes of a message whose body is stored in chunks: the header block, then each chunk decoded. */
export function joinChunks(head: Buffer, chunks: readonly PackedBody[]): Buffer {
  return Buffer.concat([head, ...chunks.map((c) => decodeRaw(c.compression, c.data))]);
}

function deflated(body: Buffer, z: Buffer): PackedBody {
  return z.length < body.length * 0.9
    ? { compression: RAW_DEFLATE, data: z }
    : { compression: RAW_PLAIN, data: body };
}

/** A copy with its own right-sized memory (not a slice of a bigger or pooled allocation). */
function owned(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out, 0);
  return out;
}

function safeLz4(lz: Buffer, body: Buffer): boolean {
  try {
    return lz4Decompress(lz).equals(body);
  } catch {
    return false;
  }
}

/** Offset just after the header block's blank line (= parts[''].bodyStart): raw = head || body. */
export function headerEnd(raw: Buffer, a: MessageAnalysis): number {
  const whole = a.parts.find((p) => p.section === '');
  if (whole && whole.bodyStart >= 0 && whole.bodyStart <= raw.length) return whole.bodyStart;
  const crlf = raw.indexOf('\r\n\r\n');
  if (crlf >= 0) return crlf + 4;
  const lf = raw.indexOf('\n\n');
  return lf >= 0 ? lf + 2 : raw.length;
}
