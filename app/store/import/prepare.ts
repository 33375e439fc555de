/**
 * The CPU-heavy part of importing one message, free of any store access so it can run in a
 * worker thread: CRLF normalisation, SHA-256, MIME analysis and body packing.
 */
import { createHash } from 'node:crypto';
import { analyzeMessage } from '../../mime/analyze.ts';
import { normalizeCrlf } from '../../mime/crlf.ts';
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
  const raw = normalizeCrlf(input);
  const sha256 = createHash('sha256').update(raw).digest();
  let analysis: MessageAnalysis;
  try {
    analysis = { ...analyzeMessage(raw), text: '' };
  } catch (err) {
    return { ok: false, error: `cannot be parsed (${err instanceof Error ? err.message : String(err)})` };
  }
  const packedBody = compress ? packBody(raw.subarray(headerEnd(raw, analysis))) : undefined;
  return { ok: true, value: { raw, sha256, analysis, packedBody } };
}

/** Buffers arrive from a worker as plain Uint8Arrays: make them Buffers again (no copy). */
export function revive(r: PrepareResult): PrepareResult {
  if (!r.ok) return r;
  const b = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  const v = r.value;
  return {
    ok: true,
    value: {
      raw: b(v.raw),
      sha256: b(v.sha256),
      analysis: v.analysis,
      packedBody: v.packedBody
        ? { compression: v.packedBody.compression, data: b(v.packedBody.data) }
        : undefined,
    },
  };
}
