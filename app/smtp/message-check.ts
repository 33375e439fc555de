/**
 * Strict checks on a submitted message before anything is queued (pure, no I/O). The bridge is
 * the first hop, so it refuses what the provider (or a recipient) would refuse later, with a
 * clear reply now: broken header syntax or MIME structure, no From, 8-bit header bytes without
 * SMTPUTF8, invalid UTF-8, lines over 998 octets.
 */
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { InvalidMessageError, Utf8RequiredError } from './errors.ts';

/** RFC 5322 §2.1.1: at most 998 characters per line, excluding the CRLF. */
export const MAX_LINE_OCTETS = 998;
const MAX_MIME_DEPTH = 32;

const CR = 13;
const LF = 10;

export interface CheckedMessage {
  /** The message with CRLF line endings (a bare LF becomes CRLF). */
  raw: Buffer;
  /** Addresses of the From header (at least one). */
  headerFrom: string[];
}

/** Every bare LF becomes CRLF; a buffer that already uses CRLF throughout is returned as is. */
export function toCrlf(buf: Buffer): Buffer {
  let bare = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) if (i === 0 || buf[i - 1] !== CR) bare++;
  if (!bare) return buf;
  const out = Buffer.allocUnsafe(buf.length + bare);
  let o = 0;
  let start = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 || buf[i - 1] !== CR) {
      o += buf.copy(out, o, start, i);
      out[o++] = CR;
      start = i;
    }
  }
  o += buf.copy(out, o, start);
  return out.subarray(0, o);
}

export function checkMessage(input: Buffer, opts: { smtpUtf8: boolean }): CheckedMessage {
  const raw = toCrlf(input);
  if (raw.length === 0) throw new InvalidMessageError('the message is empty');
  checkLineLengths(raw);
  const top = parseHeaders(raw, 0, raw.length, opts.smtpUtf8, 'message header');
  const from = top.fields.filter((f) => f.name === 'from');
  if (from.length === 0) throw new InvalidMessageError('the message has no From header');
  if (from.length > 1) throw new InvalidMessageError('the message has more than one From header');
  const headerFrom = addressparser(from[0]!.value, { flatten: true })
    .map((a) => a.address.trim())
    .filter((a) => a.length > 0);
  if (!headerFrom.length || headerFrom.some((a) => !/^[^@\s]+@[^@\s]+$/.test(a)))
    throw new InvalidMessageError('the From header has no valid address');
  for (const name of ['date', 'message-id', 'subject', 'to', 'cc', 'sender', 'reply-to']) {
    if (top.fields.filter((f) => f.name === name).length > 1)
      throw new InvalidMessageError(`the message has more than one ${name} header`);
  }
  checkMimeStructure(raw, top, 0, opts.smtpUtf8);
  return { raw, headerFrom };
}

function checkLineLengths(raw: Buffer): void {
  let start = 0;
  let lineNo = 1;
  for (;;) {
    const nl = raw.indexOf(LF, start);
    const end = nl < 0 ? raw.length : nl - 1; // before CR
    if (end - start > MAX_LINE_OCTETS)
      throw new InvalidMessageError(
        `line ${lineNo} is longer than ${MAX_LINE_OCTETS} octets; use a MIME encoding`,
      );
    if (nl < 0) return;
    start = nl + 1;
    lineNo++;
  }
}

interface HeaderLine {
  name: string;
  value: string;
}

interface Headers {
  fields: HeaderLine[];
  bodyStart: number;
  end: number;
}

/** Parses a header block strictly between start and end (CRLF-normalized input). */
function parseHeaders(raw: Buffer, start: number, end: number, smtpUtf8: boolean, what: string): Headers {
  const fields: HeaderLine[] = [];
  let pos = start;
  let bodyStart = end;
  let current: { name: string; parts: Buffer[] } | null = null;
  const flush = (): void => {
    if (!current) return;
    const bytes = Buffer.concat(current.parts);
    fields.push({ name: current.name, value: headerText(bytes, smtpUtf8, what, current.name) });
    current = null;
  };
  while (pos < end) {
    let nl = raw.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end;
    const lineEnd = nl >= end ? end : nl + 1;
    const contentEnd = nl >= end ? end : nl - 1; // strip CR
    if (contentEnd <= pos) {
      // blank line: end of the header block
      bodyStart = lineEnd;
      break;
    }
    const first = raw[pos];
    if (first === 0x20 || first === 0x09) {
      if (!current) throw new InvalidMessageError(`${what}: starts with a continuation line`);
      (current as { parts: Buffer[] }).parts.push(raw.subarray(pos, contentEnd));
    } else {
      flush();
      const colon = raw.indexOf(0x3a, pos);
      if (colon < 0 || colon >= contentEnd || colon === pos)
        throw new InvalidMessageError(`${what}: a line is neither a header field nor a continuation`);
      for (let i = pos; i < colon; i++) {
        const c = raw[i]!;
        if (c < 0x21 || c > 0x7e)
          throw new InvalidMessageError(`${what}: invalid character in a header field name`);
      }
      current = {
        name: raw.toString('latin1', pos, colon).toLowerCase(),
        parts: [raw.subarray(colon + 1, contentEnd)],
      };
    }
    pos = lineEnd;
  }
  flush();
  return { fields, bodyStart, end };
}

function headerText(bytes: Buffer, smtpUtf8: boolean, what: string, name: string): string {
  let eight = false;
  for (const b of bytes) {
    if (b >= 0x80) {
      eight = true;
      break;
    }
    if (b === 0) throw new InvalidMessageError(`${what}: NUL byte in the ${name} header`);
  }
  if (!eight) return bytes.toString('latin1').trim();
  if (!smtpUtf8)
    throw new Utf8RequiredError(
      `8-bit characters in the ${name} header need SMTPUTF8 (MAIL FROM ... SMTPUTF8) or RFC 2047 encoding`,
    );
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).trim();
  } catch {
    throw new InvalidMessageError(`${what}: the ${name} header is not valid UTF-8`);
  }
}

function checkMimeStructure(raw: Buffer, headers: Headers, depth: number, smtpUtf8: boolean): void {
  if (depth > MAX_MIME_DEPTH) throw new InvalidMessageError('MIME structure nested too deeply');
  const ct = headers.fields.find((f) => f.name === 'content-type');
  if (!ct) return;
  const parsed = libmime.parseHeaderValue(ct.value);
  const type = parsed.value.toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type))
    throw new InvalidMessageError(`broken MIME: invalid Content-Type "${type.slice(0, 60)}"`);
  if (type === 'message/rfc822') {
    const inner = parseHeaders(raw, headers.bodyStart, headers.end, smtpUtf8, 'attached message header');
    checkMimeStructure(raw, inner, depth + 1, smtpUtf8);
    return;
  }
  if (!type.startsWith('multipart/')) return;
  const boundary = parsed.params.boundary;
  if (!boundary) throw new InvalidMessageError(`broken MIME: ${type} without a boundary parameter`);
  if (boundary.length > 70) throw new InvalidMessageError('broken MIME: boundary longer than 70 characters');
  const parts = splitMultipart(raw, headers.bodyStart, headers.end, boundary);
  if (!parts)
    throw new InvalidMessageError(`broken MIME: the ${type} part has no closing boundary "--${boundary}--"`);
  if (parts.length === 0) throw new InvalidMessageError(`broken MIME: the ${type} part has no body parts`);
  for (const p of parts) {
    const h = parseHeaders(raw, p.start, p.end, smtpUtf8, 'MIME part header');
    checkMimeStructure(raw, h, depth + 1, smtpUtf8);
  }
}

/** Body parts of a multipart between start and end, or null when the close delimiter is missing. */
function splitMultipart(
  raw: Buffer,
  start: number,
  end: number,
  boundary: string,
): { start: number; end: number }[] | null {
  const delim = Buffer.from('--' + boundary, 'latin1');
  const parts: { start: number; end: number }[] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    let nl = raw.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end;
    const lineEnd = nl >= end ? end : nl + 1;
    if (raw[pos] === 0x2d && raw.subarray(pos, pos + delim.length).equals(delim)) {
      const rest = raw.toString('latin1', pos + delim.length, lineEnd).replace(/[\r\n]+$/, '');
      const closing = rest.startsWith('--');
      if (closing || /^[ \t]*$/.test(rest)) {
        if (partStart >= 0) parts.push({ start: partStart, end: Math.max(partStart, pos - 2) });
        if (closing) return parts;
        partStart = lineEnd;
      }
    }
    pos = lineEnd;
  }
  return null;
}
