/**
 * IMAP BODYSTRUCTURE / BODY (RFC 3501 §7.4.2, RFC 9051 §7.5.2) from a MimeNode tree, like Dovecot:
 *
 * - buildBodyStructures(raw, root) → { bodyStructure, body } in one pass;
 * - buildBodyStructure(raw, root, extended) → '(...)' with (extended=true) or without extension data.
 *   Leaf: type subtype params id description encoding size [lines | envelope body lines]
 *         [md5 disposition language location]; text/* gets ("charset" "us-ascii") when it has no
 *   charset; a missing Content-Transfer-Encoding is "7bit"; sizes are octets of the stored body.
 *   Multipart: children subtype [params disposition language location]; a multipart with no parts
 *   gets one empty text/plain part.
 */
import type { MimeNode } from './tree.ts';
import { firstValue, type HeaderBlock } from './header-block.ts';
import { parseDisposition, type MimeParam } from './params.ts';
import { imapNStringNoLf, imapString } from './imap-string.ts';
import { buildEnvelope } from './envelope.ts';

const EMPTY_BODYSTRUCTURE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';
const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';

function paramsToImap(params: MimeParam[], defaultCharset: boolean): string {
  if (!defaultCharset && params.length === 0) return 'NIL';
  let out = '(';
  let seenCharset = false;
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as MimeParam;
    if (i > 0) out += ' ';
    if (p.name.toLowerCase() === 'charset') seenCharset = true;
    out += imapString(p.name) + ' ' + imapString(p.value);
  }
  if (defaultCharset && !seenCharset) out += (params.length > 0 ? ' ' : '') + '"charset" "us-ascii"';
  return out + ')';
}

export function countLines(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  let pos = start;
  const b = buf as Buffer;
  for (;;) {
    const i = b.indexOf(10, pos);
    if (i < 0 || i >= end) return n;
    n++;
    pos = i + 1;
  }
}

function commonExtension(buf: Uint8Array, h: HeaderBlock): string {
  let out = ' ';
  const disp = parseDisposition(firstValue(buf, h, 'content-disposition'));
  if (!disp) out += 'NIL';
  else out += '(' + imapString(disp.value) + ' ' + paramsToImap(disp.params, false) + ')';
  out += ' ';
  const lang = firstValue(buf, h, 'content-language');
  const langs = lang
    ? lang
        .replace(/\([^()]*\)/g, ' ')
        .split(/[\s,]+/)
        .filter((x) => x.length > 0)
    : [];
  if (langs.length === 0) out += 'NIL';
  else out += '(' + langs.map(imapString).join(' ') + ')';
  out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-location', true));
  return out;
}

/** [BODYSTRUCTURE, BODY] of one node, built in one pass. */
type Pair = [string, string];

function leaf(buf: Uint8Array, node: MimeNode): Pair {
  const h = node.header;
  const isText = node.type.toLowerCase() === 'text';
  let out = '(';
  out += imapString(node.type) + ' ' + imapString(node.subtype);
  out += ' ' + paramsToImap(node.params, isText);
  out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-id', true));
  out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-description', true));
  out += ' ' + (node.encodingRaw ? imapString(node.encodingRaw) : '"7bit"');
  out += ' ' + (node.bodyEnd - node.bodyStart);
  let ext = out;
  let basic = out;
  if (isText) {
    const lines = ' ' + countLines(buf, node.bodyStart, node.bodyEnd);
    ext += lines;
    basic += lines;
  } else if (node.message) {
    const m = node.message;
    const env = ' ' + buildEnvelope(buf, m.header) + ' ';
    const [e, b] = structure(buf, m);
    const lines = ' ' + countLines(buf, node.bodyStart, node.bodyEnd);
    ext += env + e + lines;
    basic += env + b + lines;
  }
  ext += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-md5', true)) + commonExtension(buf, h);
  return [ext + ')', basic + ')'];
}

function multipart(buf: Uint8Array, node: MimeNode): Pair {
  let ext = '(';
  let basic = '(';
  if (node.children.length === 0) {
    ext += EMPTY_BODYSTRUCTURE;
    basic += EMPTY_BODY;
  } else {
    for (const c of node.children) {
      const [e, b] = structure(buf, c);
      ext += e;
      basic += b;
    }
  }
  const sub = ' ' + imapString(node.subtype);
  ext += sub + ' ' + paramsToImap(node.params, false) + commonExtension(buf, node.header) + ')';
  basic += sub + ')';
  return [ext, basic];
}

function structure(buf: Uint8Array, node: MimeNode): Pair {
  return node.isMultipart ? multipart(buf, node) : leaf(buf, node);
}

/** BODYSTRUCTURE (extended) and BODY of a message, in one pass. */
export function buildBodyStructures(
  buf: Uint8Array,
  root: MimeNode,
): { bodyStructure: string; body: string } {
  const [bodyStructure, body] = structure(buf, root);
  return { bodyStructure, body };
}

export function buildBodyStructure(buf: Uint8Array, root: MimeNode, extended: boolean): string {
  return structure(buf, root)[extended ? 0 : 1];
}
