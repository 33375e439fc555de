/**
 * The CPU-heavy part of importing one message, free of any store access so it can run in a
 * worker thread: CRLF normalisation, SHA-256, MIME analysis and body packing.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { analyzeMessage } from '../../mime/analyze.ts';
import { canonicalMessage } from '../../mime/canonical.ts';
import type { MessageAnalysis } from '../../mime/types.ts';
import {
  CHUNKED_FROM,
  headerEnd,
  packBody,
  packBodyAsync,
  packSlices,
  packSlicesAsync,
  sha256Sliced,
  type PackedBody,
  type SlicedBody,
} from '../repos/raw-codec.ts';

export interface Prepared {
  raw: Buffer;
  sha256: Buffer;
  /** The analysis without `text` (the full-text indexer re-derives it later). */
  analysis: MessageAnalysis;
  /** Packed whole, or cut into packed slices when big (stored in chunks: repos/messages/body-chunks.ts). */
  packedBody: PackedBody | SlicedBody | undefined;
}

export type PrepareResult = { ok: true; value: Prepared } | { ok: false; error: string };

const DASH_LINE = Buffer.from('\n--');

/**
 * An upper bound on the number of MIME parts of a message: lines that start with "--", plus one
 * (counted up to `limit` + 1).
 */
export function maxParts(raw: Buffer, limit: number): number {
  let n = 1;
  for (let at = raw.indexOf(DASH_LINE); at >= 0 && n <= limit; at = raw.indexOf(DASH_LINE, at + 3)) n++;
  return n;
}

export function isBlank(input: Uint8Array): boolean {
  for (const b of input) if (b !== 10 && b !== 13 && b !== 32 && b !== 9) return false;
  return true;
}

export function prepareMessage(input: Buffer, compress: boolean): PrepareResult {
  const canonical = canonicalize(input);
  if (!canonical.ok) return canonical;
  const { raw } = canonical;
  const analysis = analyze(raw);
  if (!analysis.ok) return analysis;
  const sha256 = createHash('sha256').update(raw).digest();
  const body = raw.subarray(headerEnd(raw, analysis.value));
  const packedBody =
    body.length >= CHUNKED_FROM ? packSlices(body, compress) : compress ? packBody(body) : undefined;
  return { ok: true, value: { raw, sha256, analysis: analysis.value, packedBody } };
}

/**
 * prepareMessage on the event loop's thread (a message too big for the workers' heaps): the
 * analysis in a turn of its own, the hashing and packing in slices and on the thread pool, as
 * for an IMAP APPEND.
 */
export async function prepareMessageAsync(input: Buffer, compress: boolean): Promise<PrepareResult> {
  const canonical = canonicalize(input);
  if (!canonical.ok) return canonical;
  const { raw } = canonical;
  await yieldLoop();
  const analysis = analyze(raw);
  if (!analysis.ok) return analysis;
  const sha256 = await sha256Sliced(raw);
  const body = raw.subarray(headerEnd(raw, analysis.value));
  const packedBody =
    body.length >= CHUNKED_FROM
      ? await packSlicesAsync(body, compress)
      : compress
        ? await packBodyAsync(body)
        : undefined;
  return { ok: true, value: { raw, sha256, analysis: analysis.value, packedBody } };
}

type Step<T> = { ok: true; value: T } | { ok: false; error: string };

function canonicalize(input: Buffer): { ok: true; raw: Buffer } | { ok: false; error: string } {
  if (input.length === 0 || isBlank(input)) return { ok: false, error: 'empty message' };
  try {
    return { ok: true, raw: canonicalMessage(input) };
  } catch (err) {
    return unparsable(err);
  }
}

function analyze(raw: Buffer): Step<MessageAnalysis> {
  try {
    return { ok: true, value: { ...analyzeMessage(raw), text: '' } };
  } catch (err) {
    return unparsable(err);
  }
}

function unparsable(err: unknown): { ok: false; error: string } {
  return { ok: false, error: `cannot be parsed (${err instanceof Error ? err.message : String(err)})` };
}

/**
 * Where a result's bytes are, on the trip back from a worker (see prepare-pool.ts):
 * [0 = the message's own input buffer | 1 = the group's output buffer, byte offset, length].
 */
export type Span = [buffer: 0 | 1, offset: number, length: number];

export type WireResult =
  | { ok: false; error: string }
  | {
      ok: true;
      raw: Span;
      sha256: Span;
      analysis: MessageAnalysis;
      packed: WirePacked | { slices: WirePacked[] } | null;
    };

interface WirePacked {
  compression: number;
  data: Span;
}

/**
 * Lays out a group's results for the trip back to the main thread: bytes already in a message's
 * input buffer (a raw message that needed no CRLF fix, a body stored as is) are referenced there;
 * the rest (hashes, packed bodies, normalised copies) is copied into ONE output buffer. The input
 * buffers and the output buffer are then transferred, not cloned.
 */
export function toWire(
  inputs: readonly Buffer[],
  results: readonly PrepareResult[],
): { wire: WireResult[]; output: ArrayBuffer } {
  const inside = (b: Buffer, outer: Buffer) =>
    b.buffer === outer.buffer &&
    b.byteOffset >= outer.byteOffset &&
    b.byteOffset + b.length <= outer.byteOffset + outer.length;
  let size = 0;
  results.forEach((r, i) => {
    if (!r.ok) return;
    const { raw, sha256, packedBody } = r.value;
    size += sha256.length;
    if (!inside(raw, inputs[i]!)) size += raw.length;
    const packed = !packedBody ? [] : 'slices' in packedBody ? packedBody.slices : [packedBody];
    for (const p of packed) if (!inside(p.data, raw)) size += p.data.length;
  });
  const out = Buffer.allocUnsafeSlow(size); // its own ArrayBuffer (transferable)
  let at = 0;
  const copy = (b: Buffer): Span => {
    b.copy(out, at);
    at += b.length;
    return [1, at - b.length, b.length];
  };
  const wire = results.map((r, i): WireResult => {
    if (!r.ok) return r;
    const { raw, sha256, analysis, packedBody } = r.value;
    const input = inputs[i]!;
    const rawSpan: Span = inside(raw, input) ? [0, raw.byteOffset - input.byteOffset, raw.length] : copy(raw);
    const toSpan = (p: PackedBody): WirePacked => {
      const d = p.data;
      return {
        compression: p.compression,
        data: inside(d, raw) ? [rawSpan[0], rawSpan[1] + (d.byteOffset - raw.byteOffset), d.length] : copy(d),
      };
    };
    const packed = !packedBody
      ? null
      : 'slices' in packedBody
        ? { slices: packedBody.slices.map(toSpan) }
        : toSpan(packedBody);
    return { ok: true, raw: rawSpan, sha256: copy(sha256), analysis, packed };
  });
  return { wire, output: out.buffer as ArrayBuffer };
}

/** The main thread's side of toWire: Buffers that are views of the transferred buffers. */
export function fromWire(
  wire: readonly WireResult[],
  inputs: readonly ArrayBuffer[],
  output: ArrayBuffer,
): PrepareResult[] {
  const out = Buffer.from(output);
  return wire.map((w, i): PrepareResult => {
    if (!w.ok) return w;
    const view = (s: Span) =>
      s[0] === 0 ? Buffer.from(inputs[i]!, s[1], s[2]) : out.subarray(s[1], s[1] + s[2]);
    const unpack = (p: WirePacked): PackedBody => ({ compression: p.compression, data: view(p.data) });
    const packed = w.packed;
    return {
      ok: true,
      value: {
        raw: view(w.raw),
        sha256: view(w.sha256),
        analysis: w.analysis,
        packedBody: !packed
          ? undefined
          : 'slices' in packed
            ? { slices: packed.slices.map(unpack) }
            : unpack(packed),
      },
    };
  });
}
