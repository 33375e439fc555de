/**
 * IMAP ENVELOPE (RFC 3501 §7.4.2 / RFC 9051 §7.5.2) serialized like Dovecot:
 *
 * - buildEnvelope(raw, header) → '("date" "subject" (from) (sender) (reply-to) (to) (cc) (bcc) "in-reply-to" "message-id")'
 *   Values are raw (not RFC 2047-decoded); sender and reply-to default to from; groups are written as
 *   (NIL NIL "group" NIL) ... (NIL NIL NIL NIL); obsolete routes go into adl.
 * - imapStringForHumans(s): Dovecot's subject/name rule (CR/LF/TAB → space, runs of whitespace
 *   collapsed, trailing whitespace removed; a changed value is sent as a literal).
 */
import { findField, fieldValue, type HeaderBlock, type HeaderField } from './header-block.ts';
import { parseAddressList, fillMissing, type Mailbox } from './address.ts';
import { imapNStringNoLf } from './imap-string.ts';

function rawValue(buf: Uint8Array, block: HeaderBlock, lower: string): string | null {
  const f: HeaderField | undefined = findField(block, lower);
  return f ? fieldValue(buf, f) : null;
}

/** The value with its folding line breaks kept (Dovecot's subject sees them). */
function foldedValue(buf: Uint8Array, block: HeaderBlock, lower: string): string | null {
  const f: HeaderField | undefined = findField(block, lower);
  return f ? fieldValue(buf, f, true) : null;
}

export function imapStringForHumans(s: string): string {
  // Dovecot's imap_append_string_for_humans: a value needing any change (whitespace runs, CR/LF/TAB,
  // leading/trailing space, quotes, backslashes, 8-bit) is sent as a literal of the cleaned value
  let modify = false;
  let lastLwsp = true;
  let removed = 0;
  let wsPrefix = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10 || c === 9 || c === 32) {
      if (c !== 32) modify = true;
      if (lastLwsp) {
        modify = true;
        removed++;
      }
      lastLwsp = true;
    } else {
      if (c === 34 || c === 92 || c === 0 || c >= 0x80) modify = true;
      lastLwsp = false;
      wsPrefix = false;
    }
  }
  if (lastLwsp && s.length > 0 && !wsPrefix) {
    modify = true;
    removed++;
  }
  if (!modify) return '"' + s + '"';
  if (removed === s.length) return '""';
  const cleaned = s
    .replace(/\0/g, '\u0080')
    .replace(/[\r\n\t ]+/g, ' ')
    .replace(/^ /, '')
    .replace(/ $/, '');
  return '{' + Buffer.byteLength(cleaned, 'utf8') + '}\r\n' + cleaned;
}

function writeMailbox(raw: Mailbox): string {
  const m = fillMissing(raw);
  return (
    '(' +
    (m.name === null ? 'NIL' : imapStringForHumans(m.name)) +
    ' ' +
    imapNStringNoLf(m.route) +
    ' ' +
    imapNStringNoLf(m.mailbox) +
    ' ' +
    imapNStringNoLf(m.host) +
    ')'
  );
}

export function addressListToImap(value: string | null): string {
  if (value === null) return 'NIL';
  const items = parseAddressList(value);
  if (items.length === 0) return 'NIL';
  let out = '(';
  for (const it of items) {
    if (it.kind === 'mailbox') out += writeMailbox(it);
    else {
      out += '(NIL NIL ' + imapNStringNoLf(it.name) + ' NIL)';
      for (const m of it.members) out += writeMailbox(m);
      out += '(NIL NIL NIL NIL)';
    }
  }
  return out + ')';
}

export function buildEnvelope(buf: Uint8Array, block: HeaderBlock): string {
  const from = addressListToImap(rawValue(buf, block, 'from'));
  const sender = rawValue(buf, block, 'sender');
  const replyTo = rawValue(buf, block, 'reply-to');
  const senderImap = sender === null ? from : addressListToImap(sender);
  const replyImap = replyTo === null ? from : addressListToImap(replyTo);
  const subject = foldedValue(buf, block, 'subject');
  return (
    '(' +
    imapNStringNoLf(foldedValue(buf, block, 'date')) +
    ' ' +
    (subject === null ? 'NIL' : imapStringForHumans(subject)) +
    ' ' +
    from +
    ' ' +
    (senderImap === 'NIL' ? from : senderImap) +
    ' ' +
    (replyImap === 'NIL' ? from : replyImap) +
    ' ' +
    addressListToImap(rawValue(buf, block, 'to')) +
    ' ' +
    addressListToImap(rawValue(buf, block, 'cc')) +
    ' ' +
    addressListToImap(rawValue(buf, block, 'bcc')) +
    ' ' +
    imapNStringNoLf(foldedValue(buf, block, 'in-reply-to')) +
    ' ' +
    imapNStringNoLf(foldedValue(buf, block, 'message-id')) +
    ')'
  );
}
