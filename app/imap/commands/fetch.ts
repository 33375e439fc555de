/**
 * FETCH / UID FETCH (RFC 3501 §6.4.5, §6.4.8; RFC 3516 BINARY; RFC 7162 MODSEQ, CHANGEDSINCE;
 * RFC 8970 PREVIEW; RFC 8514 SAVEDATE; RFC 8474 EMAILID, THREADID).
 * Reads rows in batches from the backend (one synchronous call per batch), writes literals as
 * Buffers, and waits for the socket between batches when it is full. One row writer (writeRow)
 * writes small items inline; a literal of STREAM_FROM bytes or more (a big message's BODY[] read
 * from its `rawSource` as it is sent, BINARY of it decoded in pieces) goes a piece per turn of the
 * event loop, waiting for the socket whenever it is full, and the rest of the row follows it.
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import type { FetchWant, FlagColumns, MailboxId, MessageRow, RawSource } from '../backend.ts';
import type { ResponseWriter } from '../writer.ts';
import { compressUids, inUidSet, parseSequenceSet, resolveSequenceSet } from '../sequence.ts';
import { parseFetch } from '../fetch/items.ts';
import type { FetchItem, SectionItem, SimpleItem as SimpleName } from '../fetch/items.ts';
import {
  fieldMatcher,
  headerFieldRanges,
  headerOnlySection,
  rootHeader,
  sectionBytes,
  sectionRange,
} from '../fetch/section.ts';
import type { FieldMatcher } from '../fetch/section.ts';
import { binaryPieces, decodeBigLeaves } from '../../mime/sections.ts';
import { isAscii } from 'node:buffer';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ImapBadError, ImapNoError } from '../errors.ts';
import { flagList, internalDate, stringValue } from '../format.ts';
import { messagePreview } from '../../mime/preview.ts';
import type { SelectedMailbox } from '../tracker.ts';
import type { Session } from '../session.ts';

/** Rows per backend call: metadata/headers are small; whole messages can be big (bounded memory). */
const BATCH_META = 1024;
/** Rows per `fetchFlags` call (one turn of the event loop each: a few ms). */
const BATCH_FLAGS = 4096;
const BATCH_RAW = 64;
/**
 * Whole messages read in one backend call and written in one turn add up to about this (more
 * only for a single message): 40 messages of 900 KB read and sent at once held the loop 1.6 s.
 */
const GROUP_BYTES = 1 << 20;
/** Base64 parts of a big message from this size on are decoded a piece at a time for BINARY. */
const BIG_LEAF = 1 << 20;
/** RFC 8970 §3.3: a preview is at most 256 characters. */
const PREVIEW_CHARS = 256;
/** Literals from this size on are written a piece per turn of the event loop (see streamLiteral). */
const STREAM_FROM = 1 << 20;
/** The bytes of a streamed literal written in one turn. */
const PIECE = 256 * 1024;

/** Text without NUL (a literal; else literal8, as Dovecot does). Native: 15 MB take ~1 ms. */
function isSevenBit(b: Buffer): boolean {
  return isAscii(b) && b.indexOf(0) < 0;
}

/**
 * A literal written as the pieces it is made of: BINARY's (the message's bytes between decoded
 * leaves), or a big message's range read from its `rawSource` as it is sent.
 */
interface Pieces {
  size: number;
  literal8: boolean;
  pieces: Iterable<Buffer> | AsyncIterable<Buffer>;
  /** Written a piece per turn (size ≥ STREAM_FROM, or read as it is sent). */
  stream: boolean;
}

type Value = Buffer | Pieces;

/** The bytes [start, end) of the content the pieces make (<start.length> of BINARY). */
function slicePieces(pieces: Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const p of pieces) {
    const a = Math.max(start - at, 0);
    const b = Math.min(end - at, p.length);
    if (a < b) out.push(a === 0 && b === p.length ? p : p.subarray(a, b));
    at += p.length;
    if (at >= end) break;
  }
  return out;
}

function piecesOf(pieces: Buffer[], literal8: boolean): Pieces {
  let size = 0;
  for (const p of pieces) size += p.length;
  return { size, literal8, pieces, stream: size >= STREAM_FROM };
}

function sectionName(it: SectionItem): string {
  if (it.resp === 'RFC822' || it.resp === 'RFC822.HEADER' || it.resp === 'RFC822.TEXT') return it.resp;
  const base = `${it.resp}[${it.section.label}]`;
  return it.partial ? `${base}<${it.partial.start}>` : base;
}

/**
 * The value of every section item of a row except direct HEADER.FIELDS, resolved before anything
 * of the row is written: a failure here becomes a tagged NO, never a cut FETCH response. A big
 * message without `raw` (its `rawSource` read only as it is sent) gives its ranges to be read.
 */
function rowData(
  plans: Plan[],
  row: MessageRow,
  decoded?: ReadonlyMap<string, Buffer[]>,
): Map<SectionItem, Value> | null {
  let out: Map<SectionItem, Value> | null = null;
  const src = row.raw ? undefined : row.rawSource;
  for (const p of plans) {
    if (p.kind !== 'section' || p.fields !== null) continue;
    const it = p.it;
    let data: Value;
    if (it.resp === 'BINARY' || it.resp === 'BINARY.SIZE') {
      // RFC 3516: decoded content; composite parts come back with every encoded leaf decoded.
      const res = binaryPieces(row.raw ?? EMPTY, row.parts ?? [], it.section.path.join('.'), decoded);
      if (!res.ok && res.reason === 'unknown-cte') {
        throw new ImapNoError('UNKNOWN-CTE', 'Unknown content-transfer-encoding');
      }
      let pieces = res.ok ? res.pieces : [];
      // Like Dovecot: literal8 whenever the decoded bytes (all of them) are not 7-bit text.
      const literal8 = it.resp === 'BINARY' && !pieces.every(isSevenBit);
      if (it.partial) {
        const start = it.partial.start;
        const end = it.partial.length === undefined ? Infinity : start + it.partial.length;
        pieces = slicePieces(pieces, start, end);
      }
      data = piecesOf(pieces, literal8);
    } else {
      const range = src && !headerOnlySection(it.section) ? streamRange(p, row, src) : null;
      if (src && range) {
        data = {
          size: range[1] - range[0],
          literal8: false,
          pieces: src.read(range[0], range[1]),
          stream: true,
        };
      } else {
        data = sectionBytes(it.section, row.raw ?? row.header ?? EMPTY, row.parts, row.header);
        if (it.partial) {
          const start = it.partial.start;
          if (start >= data.length) data = EMPTY;
          else
            data = data.subarray(
              start,
              it.partial.length === undefined ? undefined : start + it.partial.length,
            );
        }
        if (data.length >= STREAM_FROM) data = piecesOf([data], false);
      }
    }
    (out ??= new Map()).set(it, data);
  }
  return out;
}

/** A section item as it is written: its response name plus a space, computed once per command. */
interface SectionPlan {
  it: SectionItem;
  prefix: string;
  /** Top-level HEADER.FIELDS(.NOT) without partial: filtered straight into the writer. */
  fields: FieldMatcher | null;
  not: boolean;
}

type Plan = { kind: 'simple'; item: FetchItem & { kind: 'simple' } } | ({ kind: 'section' } & SectionPlan);

function plan(items: FetchItem[]): Plan[] {
  return items.map((it): Plan => {
    if (it.kind === 'simple') return { kind: 'simple', item: it };
    const t = it.section.text;
    const direct =
      it.resp === 'BODY' &&
      it.partial === null &&
      it.section.path.length === 0 &&
      (t === 'HEADER.FIELDS' || t === 'HEADER.FIELDS.NOT');
    return {
      kind: 'section',
      it,
      prefix: sectionName(it) + ' ',
      fields: direct ? fieldMatcher(it.section) : null,
      not: t === 'HEADER.FIELDS.NOT',
    };
  });
}

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);
const RANGES: number[] = [];
const NO_DATA = new Map<SectionItem, Value>();

/**
 * Writes one section item; returns text that follows it but is not written yet, or a literal to
 * stream (its `{n}` line is written) before anything else of the row.
 */
function writeSection(
  w: ResponseWriter,
  p: SectionPlan,
  row: MessageRow,
  data0: Map<SectionItem, Value>,
): string | Pieces {
  const it = p.it;
  if (p.fields !== null) {
    const raw = row.raw ?? row.header ?? EMPTY;
    const hdr = rootHeader(raw, row.parts, row.header);
    const total = headerFieldRanges(hdr, p.fields, p.not, RANGES) + 2;
    w.text(p.prefix + '{' + total + '}\r\n');
    for (let i = 0; i < RANGES.length; i += 2) w.copy(hdr, RANGES[i]!, RANGES[i + 1]!);
    w.copy(CRLF, 0, 2);
    return '';
  }
  const data = data0.get(it) ?? EMPTY;
  if (it.resp === 'BINARY.SIZE')
    return sectionName(it) + ' ' + (Buffer.isBuffer(data) ? data.length : data.size);
  if (Buffer.isBuffer(data)) {
    w.text(p.prefix);
    w.literal(data);
    return '';
  }
  w.text(p.prefix + (data.literal8 ? '~{' : '{') + data.size + '}\r\n');
  if (data.stream) return data;
  for (const piece of data.pieces as Buffer[]) w.bytes(piece);
  return '';
}

/**
 * A literal's bytes (its `{n}` line written), a piece per turn of the event loop: after each
 * PIECE bytes it waits for the socket when it is full, else for the next turn. Sending 15 MB of
 * BINARY[] at once held the loop up to 270 ms.
 */
async function streamLiteral(w: ResponseWriter, lit: Pieces): Promise<void> {
  let since = 0; // bytes written since the last turn
  for await (const piece of lit.pieces) {
    for (let at = 0; at < piece.length;) {
      const end = Math.min(piece.length, at + PIECE - since);
      w.copy(piece, at, end);
      since += end - at;
      at = end;
      if (since < PIECE) continue;
      since = 0;
      await w.turn();
    }
  }
}

/** The text of a simple FETCH item (everything but sections). */
function simpleItem(name: SimpleName, row: MessageRow): string {
  switch (name) {
    case 'UID':
      return 'UID ' + row.uid;
    case 'FLAGS':
      return 'FLAGS ' + flagList(row.flags);
    case 'INTERNALDATE':
      return 'INTERNALDATE ' + internalDate(row.internalDate);
    case 'SAVEDATE':
      return 'SAVEDATE ' + internalDate(row.saveDate);
    case 'EMAILID':
      return 'EMAILID (' + row.emailId + ')';
    // RFC 8474 §5.2: NIL from a backend that does not thread
    case 'THREADID':
      return row.threadId === undefined ? 'THREADID NIL' : 'THREADID (' + row.threadId + ')';
    case 'RFC822.SIZE':
      return 'RFC822.SIZE ' + row.size;
    case 'ENVELOPE':
      return 'ENVELOPE ' + (row.envelope ?? 'NIL');
    case 'BODYSTRUCTURE':
      return 'BODYSTRUCTURE ' + (row.bodyStructure ?? 'NIL');
    case 'BODY':
      return 'BODY ' + (row.body ?? 'NIL');
    case 'MODSEQ':
      return 'MODSEQ (' + row.modseq + ')';
    case 'PREVIEW':
      return 'PREVIEW ' + stringValue(messagePreview(row.raw ?? EMPTY, row.parts ?? [], PREVIEW_CHARS));
  }
}

/**
 * One FETCH response. Text is collected in a string and given to the writer before each literal
 * and at the end; if anything fails half-way, what was formatted so far is written before the
 * error propagates, so the session sees a cut line and ends with BYE (never a stray NO). Small
 * items are written at once (no promise); at a literal to stream (see rowData) the rest of the
 * row follows it, and the returned promise settles when the row is written.
 */
function writeRow(
  w: ResponseWriter,
  seq: number,
  row: MessageRow,
  plans: Plan[],
  seenAdded: boolean,
  data: Map<SectionItem, Value>,
): Promise<void> | undefined {
  return writeItems(w, row, plans, seenAdded, data, 0, '* ' + seq + ' FETCH (', false);
}

function writeItems(
  w: ResponseWriter,
  row: MessageRow,
  plans: Plan[],
  seenAdded: boolean,
  data: Map<SectionItem, Value>,
  from: number,
  s: string,
  flagsWritten: boolean,
): Promise<void> | undefined {
  try {
    for (let i = from; i < plans.length; i++) {
      const p = plans[i]!;
      if (i > 0) s += ' ';
      if (p.kind === 'simple') {
        if (p.item.name === 'FLAGS') flagsWritten = true;
        s += simpleItem(p.item.name, row);
        continue;
      }
      w.text(s);
      s = '';
      const next = writeSection(w, p, row, data);
      if (typeof next === 'string') {
        s = next;
        continue;
      }
      return streamLiteral(w, next).then(() =>
        writeItems(w, row, plans, seenAdded, data, i + 1, '', flagsWritten),
      );
    }
    if (seenAdded && !flagsWritten) s += ' FLAGS ' + flagList(row.flags);
  } catch (err) {
    w.text(s);
    throw err;
  }
  w.text(s + ')\r\n');
  return undefined;
}

/** The range of the message a section item sends, when it can be sent as read (see rowData). */
function streamRange(p: SectionPlan, row: MessageRow, src: RawSource): [number, number] | null {
  const it = p.it;
  if (it.resp === 'BINARY' || it.resp === 'BINARY.SIZE') return null;
  const r = sectionRange(it.section, src.size, row.parts, row.header?.length ?? 0);
  if (!r || !it.partial) return r;
  const start = Math.min(r[0] + it.partial.start, r[1]);
  const end = it.partial.length === undefined ? r[1] : Math.min(r[1], start + it.partial.length);
  return [start, end];
}

/**
 * Whether a big message's FETCH response can be written as its bytes are read: every section is
 * header-only (answered from the header block) or a range of the message. BINARY (decoded
 * content), PREVIEW and the HEADER / TEXT of an encapsulated message need the whole message.
 */
function streamable(plans: Plan[], row: MessageRow, src: RawSource): boolean {
  for (const p of plans) {
    if (p.kind === 'simple') {
      if (p.item.name === 'PREVIEW') return false;
    } else if (p.fields === null && !headerOnlySection(p.it.section) && !streamRange(p, row, src))
      return false;
  }
  return true;
}

/** The items `fetchFlags` answers. */
const FLAG_ITEMS: ReadonlySet<SimpleName> = new Set(['UID', 'FLAGS', 'MODSEQ']);
/** The bytes of FETCH responses fetchFlagColumns formats before it hands them to the writer. */
const FLAG_CHUNK = 64 * 1024;
const ASCII = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const STAR = ASCII('* ');
const FETCH_OPEN = ASCII(' FETCH (');
const UID_SP = ASCII('UID ');
const MODSEQ_OPEN = ASCII('MODSEQ (');
const ROW_END = ASCII(')\r\n');
/** The most bytes of a row besides its items (`* n FETCH ()\r\n`), and of an item besides its flags. */
const ROW_BYTES = 24;
const ITEM_BYTES = 28;

/** The decimal digits of `n` (a non-negative safe integer) at `b[at]`; returns the end. */
function putNumber(b: Buffer, at: number, n: number): number {
  if (n > 0x7fffffff) return at + b.write(String(n), at, 'latin1');
  let end = at + 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) end++;
  for (let i = end - 1; i >= at; i--) {
    const q = (n / 10) | 0;
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/** `bytes` at `b[at]`; returns the end (a loop: set() costs more for a few bytes). */
function put(b: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) b[at + i] = bytes[i]!;
  return at + bytes.length;
}

/**
 * A FETCH of UID, FLAGS and MODSEQ only (a client's flag resync of a big mailbox), read as columns
 * (ImapAccount.fetchFlags). It writes what the loop in `handle` writes for such rows, byte for
 * byte — the same rows passed over (not above CHANGEDSINCE, not in the view), keywords announced
 * before the first row that carries them, queued flag updates of the rows told made stale, \Recent
 * shown — but with no string or object per row: each distinct set of flags is formatted (and its
 * keywords announced) once, the sequence numbers are found by walking the view alongside the
 * ascending UIDs, and the rows are written as bytes into chunks of FLAG_CHUNK handed to the
 * writer. A turn of the event loop between two batches (waiting for the socket when it is full).
 */
async function fetchFlagColumns(
  w: ResponseWriter,
  sel: SelectedMailbox,
  uids: number[],
  names: readonly SimpleName[],
  changedSince: number | null,
  read: (id: MailboxId, uids: ArrayLike<number>, changedSince: number | null) => FlagColumns,
): Promise<void> {
  const wantsFlags = names.includes('FLAGS');
  const flagItems = names.filter((n) => n === 'FLAGS').length;
  const fixed = ROW_BYTES + names.length * ITEM_BYTES;
  // `FLAGS (...)` as written: [without, with \Recent] (the latter made when first needed)
  const written = new Map<readonly string[], [Buffer, Buffer | null]>();
  const view = sel.uids;
  let at = 0; // where in the view the next row's UID may be
  let b = Buffer.allocUnsafe(FLAG_CHUNK);
  let pos = 0;
  // the rows so far to the writer (it may keep the chunk as it is: then the next is a new one)
  const hand = (room: number): void => {
    if (pos === 0 && room <= b.length) return;
    w.copy(b, 0, pos);
    b = Buffer.allocUnsafe(Math.max(FLAG_CHUNK, room));
    pos = 0;
  };
  try {
    for (let i = 0; i < uids.length; i += BATCH_FLAGS) {
      const cols = read(
        sel.id,
        uids.length <= BATCH_FLAGS ? uids : uids.slice(i, i + BATCH_FLAGS),
        changedSince,
      );
      for (let r = 0; r < cols.uids.length; r++) {
        const uid = cols.uids[r]!;
        while (at < view.length && view[at]! < uid) at++;
        if (at === view.length || view[at] !== uid) continue;
        const flags = cols.flags[r]!;
        const modseq = cols.modseqs[r]!;
        let text = written.get(flags);
        if (text === undefined) {
          text = [Buffer.from('FLAGS ' + flagList(flags)), null];
          written.set(flags, text);
          if (wantsFlags) {
            hand(0); // the FLAGS response goes between the rows
            sel.announceKeywords(w, flags);
          }
        }
        if (wantsFlags && sel.hasFlagUpdates) sel.told(uid, flags, modseq, false);
        const list =
          sel.recent.size && sel.recent.has(uid)
            ? (text[1] ??= Buffer.from('FLAGS ' + flagList(sel.shown(uid, flags))))
            : text[0];
        const most = fixed + flagItems * list.length;
        if (pos + most > b.length) hand(most);
        pos = putNumber(b, put(b, pos, STAR), at + 1);
        pos = put(b, pos, FETCH_OPEN);
        for (let k = 0; k < names.length; k++) {
          if (k > 0) b[pos++] = 0x20;
          const name = names[k];
          if (name === 'UID') pos = putNumber(b, put(b, pos, UID_SP), uid);
          else if (name === 'MODSEQ') {
            pos = putNumber(b, put(b, pos, MODSEQ_OPEN), modseq);
            b[pos++] = 0x29;
          } else pos = put(b, pos, list);
        }
        pos = put(b, pos, ROW_END);
      }
      hand(0);
      if (w.needsDrain) await w.drain();
      else await yieldLoop();
    }
  } finally {
    hand(0);
  }
}

/**
 * The UIDs of a batch of whole-message reads in groups whose messages add up to GROUP_BYTES at
 * most (or one message), by their sizes (a metadata read); a turn of the event loop goes between
 * two groups. A big message (`rawSource`) is read only as it is sent, but takes a group of its own.
 */
function* groupsBySize(sel: SelectedMailbox, uids: number[]): Generator<number[]> {
  let group: number[] = [];
  let bytes = 0;
  for (const r of sel.account.fetch(sel.id, uids, {})) {
    if (group.length && bytes + r.size > GROUP_BYTES) {
      yield group;
      group = [];
      bytes = 0;
    }
    group.push(r.uid);
    bytes += r.size;
  }
  if (group.length) yield group;
}

/** The UIDs of a FETCH, a backend call's worth at a time (see BATCH_META, BATCH_RAW, groupsBySize). */
function* batches(sel: SelectedMailbox, uids: number[], want: FetchWant): Generator<number[]> {
  const batch = want.raw ? BATCH_RAW : BATCH_META;
  for (let i = 0; i < uids.length; i += batch) {
    const slice = uids.length <= batch ? uids : uids.slice(i, i + batch);
    if (want.raw) yield* groupsBySize(sel, slice);
    else yield slice;
  }
}

/**
 * The rows of a batch with the bodies that were not stored locally (`bodyMissing`) fetched from
 * the provider through the backend and read again; a row whose body could not be had is left out
 * and its UID added to `unavailable` (the FETCH then ends with NO [UNAVAILABLE], the others served).
 */
async function withBodies(
  sel: SelectedMailbox,
  rows: MessageRow[],
  want: FetchWant,
  unavailable: number[],
): Promise<MessageRow[]> {
  const missing = rows.filter((r) => r.bodyMissing).map((r) => r.uid);
  if (!missing.length) return rows;
  let failed = new Set(missing);
  let bodies: ReadonlyMap<number, Buffer> = new Map();
  if (sel.account.fetchMissingBodies) {
    try {
      const got = await sel.account.fetchMissingBodies(sel.id, missing);
      failed = new Set(got.failed);
      if (got.bodies) bodies = got.bodies;
    } catch {
      // offline, or the provider failed: every one of them is unavailable
    }
  }
  // the bodies handed over are served as they are; the others are read again
  const back = missing.filter((u) => !failed.has(u) && !bodies.has(u));
  const fresh = new Map(back.length ? sel.account.fetch(sel.id, back, want).map((r) => [r.uid, r]) : []);
  const out: MessageRow[] = [];
  for (const r of rows) {
    const body = r.bodyMissing ? bodies.get(r.uid) : undefined;
    if (!r.bodyMissing) out.push(r);
    else if (body) out.push({ ...r, bodyMissing: false, raw: body });
    else if (fresh.has(r.uid) && !fresh.get(r.uid)!.bodyMissing) out.push(fresh.get(r.uid)!);
    else if (fresh.has(r.uid) || failed.has(r.uid)) unavailable.push(r.uid);
    // else: expunged meanwhile
  }
  return out;
}

/**
 * Set \Seen on the messages of `rows` that lack it (non-PEEK body fetch) — only rows about to be
 * served: a body that could not be had (NO [UNAVAILABLE]) is not marked read, here or at the
 * provider. Returns the rows with their new flags and modseq, and the UIDs that changed.
 */
function markSeen(session: Session, sel: SelectedMailbox, rows: MessageRow[]): [MessageRow[], Set<number>] {
  const unseen = rows.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
  if (!unseen.length) return [rows, new Set()];
  const account = sel.account;
  account.storeFlags(sel.id, unseen, 'add', ['\\Seen'], undefined, session);
  const now = new Map(account.fetch(sel.id, unseen, {}).map((r) => [r.uid, r]));
  const out = rows.map((r) => {
    const n = now.get(r.uid);
    return n ? { ...r, flags: n.flags, modseq: n.modseq } : r;
  });
  return [out, new Set(unseen)];
}

export const fetch: CommandSpec = {
  name: 'FETCH',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  async handle({ session, w, args, uid }) {
    const sel = session.requireSelected();
    const set = parseSequenceSet(args.atom('sequence set'));
    const req = parseFetch(args.rest());
    const items = req.items;
    if (uid && !items.some((i) => i.kind === 'simple' && i.name === 'UID'))
      items.unshift({ kind: 'simple', name: 'UID' });
    if (req.changedSince !== null) {
      session.enableCondstore();
      if (!items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ'))
        items.push({ kind: 'simple', name: 'MODSEQ' });
    }
    if (items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ')) session.enableCondstore();
    if (req.vanished) {
      if (!uid || !session.enabled.has('QRESYNC'))
        throw new ImapBadError('VANISHED needs UID FETCH and QRESYNC');
      // RFC 7162 §3.2.6: UIDs of the set expunged since CHANGEDSINCE, before the FETCH data.
      const max = Math.max(sel.uidNext - 1, 1);
      const gone = sel.account.expungedSince(sel.id, req.changedSince!).filter((u) => inUidSet(set, u, max));
      if (gone.length) w.line(`* VANISHED (EARLIER) ${compressUids(gone)}`);
    }
    const uids = resolveSequenceSet(set, sel.uids, uid, sel.saved);
    if (!uids.length) return;

    const want: FetchWant = {};
    // Header sections that are all HEADER.FIELDS: the backend may send only those fields' lines.
    let fields: string[] | null = [];
    for (const it of items) {
      if (it.kind === 'simple') {
        if (it.name === 'ENVELOPE' || it.name === 'BODYSTRUCTURE' || it.name === 'BODY') want.analysis = true;
        // the preview is made from the stored (decrypted) message's text parts
        if (it.name === 'PREVIEW') want.raw = want.analysis = true;
        if (it.name === 'EMAILID') want.emailId = true;
        if (it.name === 'THREADID') want.threadId = true;
      } else if (headerOnlySection(it.section) && it.resp !== 'BINARY' && it.resp !== 'BINARY.SIZE') {
        want.header = true;
        if (fields && it.section.text === 'HEADER.FIELDS') fields.push(...it.section.fields);
        else fields = null;
      } else {
        want.raw = true;
        // Part offsets only for numbered parts and BINARY; BODY[] / [TEXT] / [HEADER] need none.
        if (it.section.path.length > 0 || it.resp === 'BINARY' || it.resp === 'BINARY.SIZE')
          want.analysis = true;
      }
    }
    if (want.raw) want.header = false;
    else if (want.header && fields) want.headerFields = fields;
    const setsSeen = req.setsSeen && !sel.readOnly;

    const account = sel.account;
    const changedSince = req.changedSince;
    if (account.fetchFlags && items.every((i) => i.kind === 'simple' && FLAG_ITEMS.has(i.name))) {
      const names = items.flatMap((i) => (i.kind === 'simple' ? [i.name] : []));
      return fetchFlagColumns(w, sel, uids, names, changedSince, account.fetchFlags.bind(account));
    }
    const plans = plan(items);
    const wantsFlags = items.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
    // messages whose body is not stored locally and could not be fetched from the provider
    const unavailable: number[] = [];
    const groups = batches(sel, uids, want);
    for (let next = groups.next(); !next.done;) {
      const group = next.value;
      let rows = account.fetch(sel.id, group, want);
      if (want.raw) rows = await withBodies(sel, rows, want, unavailable);
      let seenAdded: Set<number> | null = null;
      if (setsSeen) [rows, seenAdded] = markSeen(session, sel, rows);
      for (const row of rows) {
        if (changedSince !== null && row.modseq <= changedSince) continue;
        const seq = sel.seqOf(row.uid);
        if (!seq) continue;
        const seen = seenAdded !== null && seenAdded.has(row.uid);
        if (wantsFlags || seen) {
          // Keywords in FLAGS first; a queued older update of this message is now stale.
          sel.announceKeywords(w, row.flags);
          if (sel.hasFlagUpdates) sel.told(row.uid, row.flags, row.modseq, false);
        }
        const shown =
          sel.recent.size && sel.recent.has(row.uid) ? { ...row, flags: sel.shown(row.uid, row.flags) } : row;
        // a big message whose sections need it whole: read a piece at a time (and its big base64
        // parts decoded a piece at a time for BINARY); else its ranges are read as they are sent
        const src = row.rawSource;
        let decoded: Map<string, Buffer[]> | undefined;
        if (src && !streamable(plans, shown, src)) {
          shown.raw = await src.whole();
          for (const p of plans) {
            if (p.kind !== 'section' || (p.it.resp !== 'BINARY' && p.it.resp !== 'BINARY.SIZE')) continue;
            const leaves = await decodeBigLeaves(
              shown.raw,
              shown.parts ?? [],
              p.it.section.path.join('.'),
              BIG_LEAF,
              yieldLoop,
            );
            for (const [k, v] of leaves) (decoded ??= new Map()).set(k, v);
          }
        }
        const writing = writeRow(w, seq, shown, plans, seen, rowData(plans, shown, decoded) ?? NO_DATA);
        if (writing) await writing;
      }
      // the last batch: the reply goes out at once (the connection drains after it), before any
      // work queued meanwhile, e.g. a body fetched on demand being stored back (1.3 ms of 4.4)
      next = groups.next();
      if (next.done) break;
      // a turn between two reads of whole messages; waiting for the socket when it is full
      if (want.raw) await w.turn();
      else if (w.needsDrain) await w.drain();
    }
    if (unavailable.length)
      throw new ImapNoError(
        'UNAVAILABLE',
        `${unavailable.length === 1 ? 'One message body is' : `${unavailable.length} message bodies are`} not stored locally and could not be fetched from the provider now`,
      );
  },
};
