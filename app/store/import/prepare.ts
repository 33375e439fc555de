/**
 * The CPU-heavy part of importing one message, free of any store access so it can run in a
 * worker thread: CRLF normalisation, SHA-256, MIME analysis and body packing.
 */
import { createHash } from 'node:crypto';
import { analyzeMessage } from '../../mime/analyze.ts';
import { canonicalMessage } from '../../mime/canonical.ts';
import type { MessageAnalysis } from '../../mime/types.ts';
import { headerEnd, packBody, type PackedBody } from '../repos/raw-codec.ts';

export interface Prepared {
  raw: Buffer;
  sha256: Buffer;
  /** The analysis without `text` (the full-text indexer re-derives it later). */
  analysis: MessageAnalysis;
  packedBody: PackedBody | undefined;
}

export type PrepareResult = { ok: true; value: Prepared } | { ok: false; error: string };

export function isBlank(input: Uint8Array): boolean {
  for (const b of input) if (b !== 10 && b !== 13 && b !== 32 && b !== 9) return false;
  return true;
}

export function prepareMessage(input: Buffer, compress: boolean): PrepareResult {
  if (input.length === 0 || isBlank(input)) return { ok: false, error: 'empty message' };
  let raw: Buffer;
  let analysis: MessageAnalysis;
  try {
    raw = canonicalMessage(input);
    analysis = { ...analyzeMessage(raw), text: '' };
  } catch (err) {
    return { ok: false, error: `cannot be parsed (${err instanceof Error ? err.message : String(err)})` };
  }
  const sha256 = createHash('sha256').update(raw).digest();
  const packedBody = compress ? packBody(raw.subarray(headerEnd(raw, analysis))) : undefined;
  return { ok: true, value: { raw, sha256, analysis, packedBody } };
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
      packed: { compression: number; data: Span } | null;
    };

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
    if (packedBody && !inside(packedBody.data, raw)) size += packedBody.data.length;
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
    let packed: { compression: number; data: Span } | null = null;
    if (packedBody) {
      const d = packedBody.data;
      packed = {
        compression: packedBody.compression,
        data: inside(d, raw) ? [rawSpan[0], rawSpan[1] + (d.byteOffset - raw.byteOffset), d.length] : copy(d),
      };
    }
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
    return {
      ok: true,
      value: {
        raw: view(w.raw),
        sha256: view(w.sha256),
        analysis: w.analysis,
        packedBody: w.packed ? { compression: w.packed.compression, data: view(w.packed.data) } : undefined,
      },
    };
  });
}
