/**
 * analyzeMessage(raw) → MessageAnalysis: parse a raw RFC 5322 message once (at insert time) and
 * produce the IMAP ENVELOPE / BODYSTRUCTURE / BODY strings, the part offsets, the decoded header
 * index and the full-text-search text. Pure: no I/O. Expects the stored form (CRLF line endings,
 * see normalizeCrlf in crlf.ts); bare LF input is parsed too, with sizes counted as stored.
 *
 * Serialized IMAP strings are JS strings sent as UTF-8; any literal `{n}` counts UTF-8 bytes.
 *
 * - analyzeMessage(raw) → MessageAnalysis
 * - listParts(root) → MimePart[] (IMAP section numbering, message/rfc822 nesting included)
 */
import type { MessageAnalysis, MimePart } from './types.ts';
import { parseMimeTree, asBuffer, type MimeNode } from './tree.ts';
import { buildEnvelope } from './envelope.ts';
import { buildBodyStructures } from './bodystructure.ts';
import { buildHeaderIndex } from './header-index.ts';
import { extractText } from './text-extract.ts';
import { paramValue } from './params.ts';

export type { MessageAnalysis, MimePart, HeaderIndex } from './types.ts';

function part(node: MimeNode, section: string, whole?: number): MimePart {
  const p: MimePart = {
    section,
    headerStart: node.headerStart,
    bodyStart: node.bodyStart,
    bodyEnd: whole ?? node.bodyEnd,
    contentType: node.contentType,
    encoding: node.encoding,
  };
  const cs = paramValue(node.params, 'charset');
  if (cs) p.charset = cs.toLowerCase();
  return p;
}

function emitPart(out: MimePart[], node: MimeNode, section: string): void {
  out.push(part(node, section));
  if (node.isMultipart) {
    node.children.forEach((c, i) => emitPart(out, c, section + '.' + (i + 1)));
  } else if (node.message) {
    emitBodyOf(out, node.message, section);
  }
}

/** The body parts of a message (root or encapsulated) whose section prefix is `prefix`. */
function emitBodyOf(out: MimePart[], msg: MimeNode, prefix: string): void {
  const sec = (n: number): string => (prefix ? prefix + '.' + n : String(n));
  if (msg.isMultipart) msg.children.forEach((c, i) => emitPart(out, c, sec(i + 1)));
  else emitPart(out, msg, sec(1));
}

export function listParts(root: MimeNode, size: number): MimePart[] {
  const out: MimePart[] = [part(root, '', size)];
  emitBodyOf(out, root, '');
  return out;
}

export function analyzeMessage(raw: Uint8Array): MessageAnalysis {
  const buf = asBuffer(raw);
  const root = parseMimeTree(buf);
  const { bodyStructure, body } = buildBodyStructures(buf, root);
  return {
    size: buf.length,
    envelope: buildEnvelope(buf, root.header),
    bodyStructure,
    body,
    parts: listParts(root, buf.length),
    headers: buildHeaderIndex(buf, root.header),
    text: extractText(buf, root),
  };
}
