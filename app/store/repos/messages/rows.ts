/**
 * What the message repositories share: the row shapes and column lists of `messages` and the
 * header index, their conversion to the public types, UID-list lookups, and the mailbox counters
 * (UIDNEXT, HIGHESTMODSEQ) every write advances.
 */
import type { HeaderIndex, MessageAnalysis, MimePart } from '../../../mime/types.ts';
import { UserError } from '../../../shared/errors.ts';
import { flagsToList } from '../../flags.ts';
import type { StoreDb } from '../../sql.ts';
import type { RemoteRef } from '../pending-changes.ts';
import type { ChunkedRaw, StoredBody } from './body-chunks.ts';

export interface NewMessage {
  /** Exactly the bytes served (CRLF line endings). */
  raw: Buffer;
  analysis: MessageAnalysis;
  flags?: readonly string[];
  /** ms since the epoch; default now */
  internalDate?: number;
  /** SHA-256 of raw, when the caller already computed it. */
  sha256?: Buffer;
  /**
   * The body (raw after headerEnd) already packed: by packBody (e.g. in an import worker), or by
   * prepack (a big body in slices, written ahead as chunks by staged()).
   */
  packedBody?: StoredBody;
  /** For messages that came from the provider (sync). */
  remote?: RemoteLink;
}

/**
 * A provider message's place (remote mailbox, UIDVALIDITY, UID), the SHA-256 of the bytes stored
 * here, and what it looks like at the provider: RFC822.SIZE and the SHA-256 of BODY[HEADER]
 * (matched when it reappears under another UID: remote-map.ts findByIdentity).
 */
export type RemoteLink = RemoteRef & { contentHash?: Buffer; identity?: RemoteIdentity };

export interface RemoteIdentity {
  size: number;
  head: Buffer;
}

export interface MessageMeta {
  id: number;
  uid: number;
  modseq: number;
  flags: string[];
  internalDate: number;
  size: number;
  blobId: number;
  /** When the message was saved into this mailbox (append, copy or move in, sync, import): SAVEDATE. */
  savedAt: number;
}

export interface FetchedRow extends MessageMeta {
  envelope?: string;
  bodyStructure?: string;
  body?: string;
  parts?: MimePart[];
  headers?: HeaderIndex;
  /**
   * The raw header block (through the blank line); with `summary` (and neither `head` nor `raw`)
   * the summary block instead: only the lines of SUMMARY_FIELDS (app/mime/header-fields.ts).
   */
  head?: Buffer;
  /** The whole raw message (head || decoded body), when asked for with `raw`. */
  raw?: Buffer;
  /** Instead of `raw` (with FetchWant.lazy), a message whose body is in chunks. */
  lazyRaw?: ChunkedRaw;
  /**
   * With `raw`: the body is not stored locally (evicted from the body cache, body-cache.ts), so
   * there is neither `raw` nor `lazyRaw`; `head` holds the header block when asked for.
   */
  evicted?: boolean;
  /** Byte length of the header block within `raw` (= parts[''].bodyStart). */
  headLength?: number;
  /** EMAILID (RFC 8474), when asked for with `emailId`: random, shared by copies and moves. */
  emailId?: string;
  /** THREADID (RFC 8474), when asked for with `threadId`: shared by a conversation (thread-ids.ts). */
  threadId?: string;
}

export class MailboxGoneError extends UserError {
  override name = 'MailboxGoneError';
}

export interface MetaRow {
  id: number;
  uid: number;
  modseq: number;
  flags: number;
  keywords: string;
  internal_date: number;
  size: number;
  blob_id: number;
  saved_at: number;
}

export const META_COLS =
  'm.id, m.uid, m.modseq, m.flags, m.keywords, m.internal_date, m.size, m.blob_id, m.saved_at';

export function metaFrom(r: MetaRow): MessageMeta {
  return {
    id: r.id,
    uid: r.uid,
    modseq: r.modseq,
    flags: flagsToList(r.flags, r.keywords),
    internalDate: r.internal_date,
    size: r.size,
    blobId: r.blob_id,
    savedAt: r.saved_at,
  };
}

export interface HeaderDbRow {
  subject: string;
  from_display: string;
  to_display: string;
  cc_display: string;
  bcc_display: string;
  from_addr: string;
  to_addr: string;
  cc_addr: string;
  date: number | null;
  message_id: string | null;
  in_reply_to: string | null;
  refs: string;
  base_subject: string;
}

export const HEADER_COLS =
  'b.subject, b.from_display, b.to_display, b.cc_display, b.bcc_display, b.from_addr, b.to_addr, b.cc_addr, b.date, b.message_id, b.in_reply_to, b.refs, b.base_subject';

export const HEADER_COL_COUNT = 13;

/** headersFrom for an array row whose HEADER_COLS start at `i`. */
export function headersFromArray(r: unknown[], i: number): HeaderIndex {
  return {
    subject: r[i] as string,
    from: r[i + 1] as string,
    to: r[i + 2] as string,
    cc: r[i + 3] as string,
    bcc: r[i + 4] as string,
    fromAddr: r[i + 5] as string,
    toAddr: r[i + 6] as string,
    ccAddr: r[i + 7] as string,
    date: r[i + 8] as number | null,
    messageId: r[i + 9] as string | null,
    inReplyTo: r[i + 10] as string | null,
    references: JSON.parse(r[i + 11] as string) as string[],
    baseSubject: r[i + 12] as string,
  };
}

export function headersFrom(r: HeaderDbRow): HeaderIndex {
  return {
    subject: r.subject,
    from: r.from_display,
    to: r.to_display,
    cc: r.cc_display,
    bcc: r.bcc_display,
    fromAddr: r.from_addr,
    toAddr: r.to_addr,
    ccAddr: r.cc_addr,
    date: r.date,
    messageId: r.message_id,
    inReplyTo: r.in_reply_to,
    references: JSON.parse(r.refs) as string[],
    baseSubject: r.base_subject,
  };
}

/** Is the list sorted, without duplicates, and contiguous? */
export function contiguous(uids: readonly number[]): boolean {
  if (uids.length === 0) return false;
  for (let i = 1; i < uids.length; i++) if (uids[i] !== uids[i - 1]! + 1) return false;
  return true;
}

/** The UIDs ascending, without duplicates (the list itself when it already is). */
export function sortedUnique(uids: readonly number[]): readonly number[] {
  for (let i = 1; i < uids.length; i++)
    if (uids[i]! <= uids[i - 1]!) return [...new Set(uids)].sort((a, b) => a - b);
  return uids;
}

/** Meta rows for the given UIDs (missing ones skipped), in UID order. */
export function metaRows(s: StoreDb, mailboxId: number, uids: readonly number[]): MetaRow[] {
  if (uids.length === 0) return [];
  const sorted = sortedUnique(uids);
  if (contiguous(sorted))
    return s
      .prepare<MetaRow>(
        `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
      )
      .all(mailboxId, sorted[0], sorted[sorted.length - 1]);
  return s
    .prepare<MetaRow>(
      `SELECT ${META_COLS} FROM json_each(?) j JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value ORDER BY m.uid`,
    )
    .all(JSON.stringify(sorted), mailboxId);
}

export interface MailboxCounters {
  id: number;
  account_id: number;
  uidnext: number;
  highestmodseq: number;
}

/** The mailbox's account and counters; MailboxGoneError when it no longer exists. */
export function mailboxCounters(s: StoreDb, id: number): MailboxCounters {
  const r = s
    .prepare<MailboxCounters>('SELECT id, account_id, uidnext, highestmodseq FROM mailboxes WHERE id = ?')
    .get(id);
  if (!r) throw new MailboxGoneError('mailbox-gone', `mailbox ${id} does not exist`);
  return r;
}

/** Advances the mailbox's UIDNEXT and HIGHESTMODSEQ after a write. */
export function bumpCounters(s: StoreDb, mailboxId: number, uidnext: number, modseq: number): void {
  s.prepare('UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?').run(
    uidnext,
    modseq,
    mailboxId,
  );
}

/** Where a message lives on the provider, if it was uploaded or came from there. */
export function remoteOf(s: StoreDb, messageId: number): RemoteRef | null {
  const r = s
    .prepare<{ remote_mailbox: string; remote_uidvalidity: number; remote_uid: number }>(
      'SELECT remote_mailbox, remote_uidvalidity, remote_uid FROM remote_map WHERE message_id = ?',
    )
    .get(messageId);
  return r ? { remoteMailbox: r.remote_mailbox, uidvalidity: r.remote_uidvalidity, uid: r.remote_uid } : null;
}

/**
 * message_blobs.parts as stored: a message that is not multipart has two parts alike but for
 * their section ('' the whole message, '1' its one part); it is stored once, as a JSON object
 * instead of an array (~125 B of a 1 KB message's row). Rows with an array read as before.
 */
export function encodeParts(parts: readonly MimePart[]): string {
  if (parts.length === 2 && parts[0]!.section === '' && parts[1]!.section === '1') {
    const whole = JSON.stringify(parts[0]);
    if (JSON.stringify({ ...parts[1], section: '' }) === whole) return whole;
  }
  return JSON.stringify(parts);
}

/** The parts of a message from message_blobs.parts (encodeParts). */
export function decodeParts(stored: string): MimePart[] {
  const parsed = JSON.parse(stored) as MimePart[] | MimePart;
  return Array.isArray(parsed) ? parsed : [parsed, { ...parsed, section: '1' }];
}

/**
 * message_blobs.body as stored: the BODY of a message that is not multipart is its BODYSTRUCTURE
 * up to the extension data, so only its length is stored, as digits (a BODY always starts with
 * '('); ~55 B of a 1 KB message's row. Other BODYs are stored whole.
 */
export function encodeBody(body: string, bodyStructure: string): string {
  const open = body.length - 1;
  return open > 0 && body[open] === ')' && bodyStructure.startsWith(body.slice(0, open))
    ? String(body.length)
    : body;
}

/**
 * message_blobs.envelope as stored: when sender and reply-to repeat the from list (a message
 * without those fields: nearly all mail), the two repeats are left out and the from list's place
 * is noted in front, '=' start ',' length ','; ~90 B of a 1 KB message's row. The repeats are
 * found by string identity only, so any envelope reads back exactly; others are stored whole (an
 * envelope always starts with '(').
 */
export function encodeEnvelope(envelope: string): string {
  let at = envelope.indexOf(' ((');
  for (let tries = 0; at > 0 && tries < 4; tries++, at = envelope.indexOf(' ((', at + 1)) {
    const start = at + 1;
    const end = listEnd(envelope, start);
    if (end < 0) continue;
    const from = envelope.slice(start, end);
    const repeats = ' ' + from + ' ' + from;
    if (envelope.startsWith(repeats, end))
      return `=${start},${end - start},${envelope.slice(0, end)}${envelope.slice(end + repeats.length)}`;
  }
  return envelope;
}

/** A message's ENVELOPE from message_blobs.envelope (encodeEnvelope). */
export function decodeEnvelope(stored: string): string {
  if (stored.charCodeAt(0) !== 0x3d) return stored;
  const comma = stored.indexOf(',');
  const body = stored.indexOf(',', comma + 1) + 1;
  const start = Number(stored.slice(1, comma));
  const end = start + Number(stored.slice(comma + 1, body - 1));
  const from = stored.slice(body + start, body + end);
  return stored.slice(body, body + end) + ' ' + from + ' ' + from + stored.slice(body + end);
}

/** The index after the parenthesized list opening at `open`, quoted strings skipped; -1 if none. */
function listEnd(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < s.length && s.charCodeAt(i) !== 0x22; i++) if (s.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x28) depth++;
    else if (c === 0x29 && --depth === 0) return i + 1;
  }
  return -1;
}

/** A message's BODY from message_blobs.body (encodeBody) and its BODYSTRUCTURE. */
export function decodeBody(stored: string, bodyStructure: string): string {
  const c = stored.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 ? bodyStructure.slice(0, Number(stored) - 1) + ')' : stored;
}
