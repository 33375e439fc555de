/**
 * IMAP BODYSTRUCTURE / BODY (RFC 3501 §7.4.2, RFC 9051 §7.5.2) from a MimeNode tree, like Dovecot:
 *
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
  out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-location'));
  return out;
}

function leaf(buf: Uint8Array, node: MimeNode, extended: boolean): string {
  const h = node.header;
  const isText = node.type.toLowerCase() === 'text';
  let out = '(';
  out += imapString(node.type) + ' ' + imapString(node.subtype);
  out += ' ' + paramsToImap(node.params, isText);
  out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-id'));
  out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-description'));
  out += ' ' + (node.encodingRaw ? imapString(node.encodingRaw) : '"7bit"');
  out += ' ' + (node.bodyEnd - node.bodyStart);
  if (isText) out += ' ' + countLines(buf, node.bodyStart, node.bodyEnd);
  else if (node.message) {
    const m = node.message;
    out += ' ' + buildEnvelope(buf, m.header) + ' ' + structure(buf, m, extended);
    out += ' ' + countLines(buf, node.bodyStart, node.bodyEnd);
  }
  if (extended) {
    out += ' ' + imapNStringNoLf(firstValue(buf, h, 'content-md5'));
    out += commonExtension(buf, h);
  }
  return out + ')';
}

function multipart(buf: Uint8Array, node: MimeNode, extended: boolean): string {
  let out = '(';
  if (node.children.length === 0) out += extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY;
  else for (const c of node.children) out += structure(buf, c, extended);
  out += ' ' + imapString(node.subtype);
  if (extended) {
    out += ' ' + paramsToImap(node.params, false);
    out += commonExtension(buf, node.header);
  }
  return out + ')';
}

function structure(buf: Uint8Array, node: MimeNode, extended: boolean): string {
  return node.isMultipart ? multipart(buf, node, extended) : leaf(buf, node, extended);
}

export function buildBodyStructure(buf: Uint8Array, root: MimeNode, extended: boolean): string {
  return structure(buf, root, extended);
}
