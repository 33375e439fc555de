/**
 * The full-text document of a message (what the index holds and what search checks exactly): its
 * header fields and the text of its first FTS_BYTES. Pure: the full-text indexer derives big ones
 * on a worker thread (mime-worker.ts), search and small ones on the caller's.
 */
import { analyzeMessage } from '../../../mime/analyze.ts';
import type { MessageAnalysis } from '../../../mime/types.ts';

/**
 * Full-text search (index and exact check alike) reads the first 1 MiB of a message: its header,
 * and the text of the text parts that start in them (of which mime/text-extract keeps at most
 * 256 KiB of characters). Mail puts its text first and attachments after it; a text part after 1 MiB
 * of attachments is not searched.
 */
export const FTS_BYTES = 1024 * 1024;

/**
 * A message whose first bytes are more than this gets its document on the worker thread
 * (mime-worker-pool.ts) where the caller can wait for it: below it, derived in under ~25 ms.
 */
export const OFFLOAD_ABOVE = 128 * 1024;

export interface FtsDoc {
  headers: string;
  text: string;
}

/**
 * The document of a message from its first FTS_BYTES or more (a 20 MB message read and analysed
 * whole took 130-250 ms, in one turn of the event loop).
 */
export function ftsDocument(raw: Buffer): FtsDoc {
  let a: MessageAnalysis;
  try {
    a = analyzeMessage(raw);
  } catch {
    return { headers: headerBlock(raw), text: '' };
  }
  return { headers: ftsHeaders(a, raw), text: a.text };
}

/** The header part of the document of a message of which only the header block is at hand. */
export function headerDocument(head: Buffer): string {
  try {
    return ftsHeaders(analyzeMessage(head), head);
  } catch {
    return headerBlock(head); // the raw header block alone
  }
}

/** The header block of a raw message (up to the first empty line), at most 64 KiB, for FTS. */
function headerBlock(raw: Buffer): string {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  if (end < 0) end = raw.length;
  return raw.subarray(0, Math.min(end, 65536)).toString('latin1');
}

function ftsHeaders(a: MessageAnalysis, raw: Buffer): string {
  const h = a.headers;
  return [h.subject, h.from, h.to, h.cc, h.bcc, headerBlock(raw)].join('\n');
}
