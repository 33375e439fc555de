/**
 * Messages: per-mailbox UIDs (never reused), MODSEQ per change, flags, and the raw MIME stored
 * once (message_blobs, message_heads, message_raw) and shared by copies. Every write is one
 * transaction and queues change-feed events (delivered after commit) and, for local changes,
 * pending remote ops.
 */
import { createHash } from 'node:crypto';
import { analyzeMessage } from '../../mime/analyze.ts';
import { summaryHeader } from '../../mime/header-fields.ts';
import type { MessageAnalysis, MimePart } from '../../mime/types.ts';
import { NotFoundError, UserError } from '../../shared/errors.ts';
import type { FlagChange } from '../change-feed.ts';
import { applyFlagOp, flagsToList, packFlags, joinKeywords, type FlagOp } from '../flags.ts';
import type { StoreDb } from '../sql.ts';
import { headerEnd, joinRaw, packBody, packBodyAsync, splitRaw, type PackedBody } from './raw-codec.ts';
import type { Origin, PendingChangesRepo, RemoteRef } from './pending-changes.ts';

export interface NewMessage {
  /** Exactly the bytes served (CRLF line endings). */
  raw: Buffer;
  analysis: MessageAnalysis;
  flags?: readonly string[];
  /** ms since the epoch; default now */
  internalDate?: number;
  /** SHA-256 of raw, when the caller already computed it. */
  sha256?: Buffer;
  /** The body (raw after headerEnd) already packed by packBody (e.g. in an import worker). */
  packedBody?: PackedBody;
  /** For messages that came from the provider (sync). */
  remote?: RemoteRef & { contentHash?: Buffer };
}

export interface InsertResult {
  id: number;
  uid: number;
  modseq: number;
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

export interface MessageDetail extends MessageMeta {
  envelope: string;
  bodyStructure: string;
  body: string;
  parts: MimePart[];
}

export interface FetchedRow extends MessageMeta {
  envelope?: string;
  bodyStructure?: string;
  body?: string;
  parts?: MimePart[];
  headers?: HeaderFields;
  /**
   * The raw header block (through the blank line); with `summary` (and neither `head` nor `raw`)
   * the summary block instead: only the lines of SUMMARY_FIELDS (app/mime/header-fields.ts).
   */
  head?: Buffer;
  /** The whole raw message (head || decoded body), when asked for with `raw`. */
  raw?: Buffer;
  /** Byte length of the header block within `raw` (= parts[''].bodyStart). */
  headLength?: number;
}

export interface HeaderFields {
  subject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  fromAddr: string;
  toAddr: string;
  ccAddr: string;
  date: number | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  baseSubject: string;
}

/** One row of a header-index scan (SEARCH / SORT / THREAD without touching raw bytes). */
export interface HeaderRow extends HeaderFields {
  uid: number;
  flags: string[];
  modseq: number;
  internalDate: number;
  size: number;
}

export interface StoreFlagsResult {
  /** Rows whose flags actually changed, with their new MODSEQ. */
  changed: FlagChange[];
  /** UIDs not changed because their MODSEQ was above unchangedSince (CONDSTORE). */
  modified: number[];
}

export type TextScope = 'text' | 'body' | 'headers';

export class MailboxGoneError extends UserError {
  override name = 'MailboxGoneError';
}

interface MetaRow {
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

interface DetailRow extends MetaRow {
  envelope: string;
  body_structure: string;
  body: string;
  parts: string;
}

const META_COLS =
  'm.id, m.uid, m.modseq, m.flags, m.keywords, m.internal_date, m.size, m.blob_id, m.saved_at';
const DETAIL_COLS = `${META_COLS}, b.envelope, b.body_structure, b.body, b.parts`;

function metaFrom(r: MetaRow): MessageMeta {
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

function detailFrom(r: DetailRow): MessageDetail {
  return {
    ...metaFrom(r),
    envelope: r.envelope,
    bodyStructure: r.body_structure,
    body: r.body,
    parts: JSON.parse(r.parts) as MimePart[],
  };
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

/** Is the list sorted, without duplicates, and contiguous? */
function contiguous(uids: readonly number[]): boolean {
  if (uids.length === 0) return false;
  for (let i = 1; i < uids.length; i++) if (uids[i] !== uids[i - 1]! + 1) return false;
  return true;
}

export class MessagesRepo {
  readonly #s: StoreDb;
  readonly #pending: PendingChangesRepo;
  readonly #compress: boolean;

  constructor(s: StoreDb, pending: PendingChangesRepo, opts: { compressBodies?: boolean } = {}) {
    this.#s = s;
    this.#pending = pending;
    this.#compress = opts.compressBodies ?? true;
  }

  /** Whether new message bodies are stored deflated. */
  get compressBodies(): boolean {
    return this.#compress;
  }

  /**
   * The message with its body already packed (off the main thread when big), for a caller that
   * inserts it next: insertBatch then only writes (it packs in its transaction otherwise).
   */
  async prepack(m: NewMessage): Promise<NewMessage> {
    if (m.packedBody || !this.#compress) return m;
    return { ...m, packedBody: await packBodyAsync(m.raw.subarray(headerEnd(m.raw, m.analysis))) };
  }

  // ---------------------------------------------------------------- writes

  insert(mailboxId: number, msg: NewMessage, origin: Origin = 'local'): InsertResult {
    return this.insertBatch(mailboxId, [msg], origin)[0]!;
  }

  /** Inserts many messages in ONE transaction (callers batch ~500) with consecutive UIDs. */
  insertBatch(mailboxId: number, msgs: readonly NewMessage[], origin: Origin = 'local'): InsertResult[] {
    if (msgs.length === 0) return [];
    return this.#s.write(() => {
      const mb = this.#mailbox(mailboxId);
      const modseq = mb.highestmodseq + 1;
      let uid = mb.uidnext;
      const now = Date.now();
      const out: InsertResult[] = [];
      for (const m of msgs) {
        const blobId = this.#insertBlob(m.raw, m.analysis, m.sha256, m.packedBody);
        const id = this.#insertRow(
          mailboxId,
          uid,
          modseq,
          m.flags ?? [],
          m.internalDate ?? now,
          m.raw.length,
          blobId,
          now,
        );
        if (m.remote) this.#mapRemote(id, mb.account_id, m.remote);
        if (origin === 'local') this.#pending.enqueue(mb.account_id, { kind: 'append', mailboxId, uid });
        out.push({ id, uid, modseq });
        uid++;
      }
      this.#bump(mailboxId, uid, modseq);
      this.#s.emit({ type: 'messages-added', mailboxId, uids: out.map((r) => r.uid), modseq });
      return out;
    });
  }

  /** Copies messages (sharing their raw blob); returns [sourceUid, newUid] pairs in UID order. */
  copy(
    srcMailboxId: number,
    uids: readonly number[],
    dstMailboxId: number,
    origin: Origin = 'local',
  ): Array<[number, number]> {
    return this.#s.write(() => {
      const src = this.#mailbox(srcMailboxId);
      const dst = this.#mailbox(dstMailboxId);
      const rows = this.#metaRows(srcMailboxId, uids);
      if (rows.length === 0) return [];
      const modseq = dst.highestmodseq + 1;
      let uid = dst.uidnext;
      // a copy keeps the internal date and is saved into the target now
      const now = Date.now();
      const pairs: Array<[number, number]> = [];
      for (const r of rows) {
        this.#s
          .prepare(
            `INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(dstMailboxId, uid, modseq, r.flags, r.keywords, r.internal_date, r.size, r.blob_id, now);
        if (origin === 'local') {
          // Where the original is on the same provider, the provider copies it (same bytes).
          const source = src.account_id === dst.account_id ? this.#remoteOf(r.id) : null;
          this.#pending.enqueue(dst.account_id, {
            kind: 'append',
            mailboxId: dstMailboxId,
            uid,
            ...(source ? { source } : {}),
          });
        }
        pairs.push([r.uid, uid]);
        uid++;
      }
      this.#bump(dstMailboxId, uid, modseq);
      this.#s.emit({ type: 'messages-added', mailboxId: dstMailboxId, uids: pairs.map((p) => p[1]), modseq });
      return pairs;
    });
  }

  /** COPY + expunge of the sources, atomically; returns [sourceUid, newUid] pairs. */
  move(
    srcMailboxId: number,
    uids: readonly number[],
    dstMailboxId: number,
    origin: Origin = 'local',
  ): Array<[number, number]> {
    return this.#s.write(() => {
      const pairs = this.copy(srcMailboxId, uids, dstMailboxId, origin);
      this.remove(
        srcMailboxId,
        pairs.map((p) => p[0]),
        origin,
      );
      return pairs;
    });
  }

  /** IMAP EXPUNGE / UID EXPUNGE: removes the \Deleted messages (within `uids` if given). */
  expunge(mailboxId: number, uids?: readonly number[], origin: Origin = 'local'): number[] {
    return this.#s.write(() => {
      const candidates = uids
        ? this.#metaRows(mailboxId, uids).filter((r) => r.flags & 8)
        : this.#s
            .prepare<MetaRow>(
              `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND (m.flags & 8) != 0 ORDER BY m.uid`,
            )
            .all(mailboxId);
      return this.#removeRows(mailboxId, candidates, origin);
    });
  }

  /** Removes messages whatever their flags (sync, MOVE); returns the UIDs removed. */
  remove(mailboxId: number, uids: readonly number[], origin: Origin = 'local'): number[] {
    return this.#s.write(() => this.#removeRows(mailboxId, this.#metaRows(mailboxId, uids), origin));
  }

  /**
   * STORE FLAGS: add / remove / replace. With `unchangedSince` (CONDSTORE), messages whose MODSEQ
   * is greater are left alone and reported in `modified`. All changed rows share one new MODSEQ.
   */
  storeFlags(
    mailboxId: number,
    uids: readonly number[],
    op: FlagOp,
    flags: readonly string[],
    opts: { unchangedSince?: number; origin?: Origin } = {},
  ): StoreFlagsResult {
    const origin = opts.origin ?? 'local';
    const change = packFlags(flags);
    return this.#s.write(() => {
      const mb = this.#mailbox(mailboxId);
      const rows = this.#metaRows(mailboxId, uids);
      const modseq = mb.highestmodseq + 1;
      const changed: FlagChange[] = [];
      const modified: number[] = [];
      const upd = this.#s.prepare('UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE id = ?');
      for (const r of rows) {
        if (opts.unchangedSince !== undefined && r.modseq > opts.unchangedSince) {
          modified.push(r.uid);
          continue;
        }
        const next = applyFlagOp(op, r.flags, r.keywords, change);
        if (next.bits === r.flags && next.keywords === r.keywords) continue;
        upd.run(next.bits, next.keywords, modseq, r.id);
        const list = flagsToList(next.bits, next.keywords);
        changed.push({ uid: r.uid, flags: list, modseq });
        if (origin === 'local')
          this.#pending.enqueue(mb.account_id, {
            kind: 'flags',
            mailboxId,
            uid: r.uid,
            flags: list,
            remote: this.#remoteOf(r.id),
          });
      }
      if (changed.length) {
        this.#bump(mailboxId, mb.uidnext, modseq);
        this.#s.emit({ type: 'flags-changed', mailboxId, changes: changed });
      }
      return { changed, modified };
    });
  }

  /** Records where a local message lives on the provider (after sync uploaded it). */
  setRemote(messageId: number, accountId: number, remote: RemoteRef & { contentHash?: Buffer }): void {
    this.#s.write(() => this.#mapRemote(messageId, accountId, remote));
  }

  // ---------------------------------------------------------------- reads

  get(mailboxId: number, uid: number): MessageMeta | null {
    const r = this.#s
      .prepare<MetaRow>(`SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.uid = ?`)
      .get(mailboxId, uid);
    return r ? metaFrom(r) : null;
  }

  getDetail(mailboxId: number, uid: number): MessageDetail | null {
    const r = this.#s
      .prepare<DetailRow>(
        `SELECT ${DETAIL_COLS} FROM messages m JOIN message_blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ? AND m.uid = ?`,
      )
      .get(mailboxId, uid);
    return r ? detailFrom(r) : null;
  }

  /**
   * UIDs from..to (ascending) whose flag bits include all of `hasBits` and none of `lacksBits`:
   * the scan stays in SQLite, no row reaches JavaScript unless it matches.
   */
  uidsWithFlags(mailboxId: number, from: number, to: number, hasBits: number, lacksBits: number): number[] {
    return this.#s
      .prepare<number>(
        `SELECT uid FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ?
         AND (flags & ?) = ? AND (flags & ?) = 0 ORDER BY uid`,
      )
      .pluck(true)
      .all(mailboxId, from, to, hasBits, hasBits, lacksBits) as unknown as number[];
  }

  /** Number of messages in the mailbox. */
  count(mailboxId: number): number {
    return this.#s
      .prepare<{ n: number }>('SELECT count(*) AS n FROM messages WHERE mailbox_id = ?')
      .get(mailboxId)!.n;
  }

  /** The lowest UID without \\Seen, or null. */
  firstUnseenUid(mailboxId: number): number | null {
    return (
      this.#s
        .prepare<{ uid: number }>(
          'SELECT uid FROM messages WHERE mailbox_id = ? AND (flags & 1) = 0 ORDER BY uid LIMIT 1',
        )
        .get(mailboxId)?.uid ?? null
    );
  }

  /** All UIDs in ascending order. */
  uids(mailboxId: number): number[] {
    return this.#s
      .prepare<number>('SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid')
      .pluck()
      .all(mailboxId) as unknown as number[];
  }

  /** Streams (uid, flags, modseq, ...) for a UID range, in UID order, without building an array. */
  *iterateMeta(mailboxId: number, fromUid = 1, toUid = 0xffffffff): Generator<MessageMeta> {
    const it = this.#s
      .prepare<MetaRow>(
        `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
      )
      .iterate(mailboxId, fromUid, toUid);
    for (const r of it) yield metaFrom(r);
  }

  /** Meta rows for the given UIDs (missing ones skipped), in UID order. */
  metaFor(mailboxId: number, uids: readonly number[]): MessageMeta[] {
    return this.#metaRows(mailboxId, uids).map(metaFrom);
  }

  /** Streams detail rows (ENVELOPE, BODYSTRUCTURE, parts ...) for the given UIDs, in UID order. */
  *iterateDetail(mailboxId: number, uids: readonly number[]): Generator<MessageDetail> {
    if (uids.length === 0) return;
    const sorted = isSortedUnique(uids) ? uids : [...new Set(uids)].sort((a, b) => a - b);
    const it = contiguous(sorted)
      ? this.#s
          .prepare<DetailRow>(
            `SELECT ${DETAIL_COLS} FROM messages m JOIN message_blobs b ON b.id = m.blob_id
             WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
          )
          .iterate(mailboxId, sorted[0], sorted[sorted.length - 1])
      : this.#s
          .prepare<DetailRow>(
            `SELECT ${DETAIL_COLS} FROM json_each(?) j JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value
             JOIN message_blobs b ON b.id = m.blob_id ORDER BY m.uid`,
          )
          .iterate(JSON.stringify(sorted), mailboxId);
    for (const r of it) yield detailFrom(r);
  }

  /**
   * FETCH rows for the given UIDs (missing ones skipped), ascending, reading only the columns
   * asked for: `analysis` = ENVELOPE/BODYSTRUCTURE/BODY/parts, `headers` = the header index,
   * `head` = the raw header block (without reading the body), `summary` = only the summary
   * fields' lines of it (enough for HEADER.FIELDS of those fields), `raw` = the whole raw message
   * (read in the same query as the metadata: one statement per batch, not one per message).
   */
  fetchRows(
    mailboxId: number,
    uids: readonly number[],
    want: { analysis?: boolean; headers?: boolean; head?: boolean; summary?: boolean; raw?: boolean },
  ): FetchedRow[] {
    if (uids.length === 0) return [];
    const sorted = isSortedUnique(uids) ? uids : [...new Set(uids)].sort((a, b) => a - b);
    // Rows come as arrays (cheaper than objects); columns: META_COLS (0..8), then each group asked for.
    let cols = META_COLS;
    let at = 9;
    const analysisAt = want.analysis ? at : -1;
    if (want.analysis) {
      cols += ', b.envelope, b.body_structure, b.body, b.parts';
      at += 4;
    }
    const headersAt = want.headers ? at : -1;
    if (want.headers) {
      cols += ', ' + HEADER_COLS;
      at += HEADER_COL_COUNT;
    }
    // Whole messages come as one blob, head || stored body (one Buffer per row, not two: creating
    // Buffers dominates this read); || on blobs copies their bytes as they are.
    // Header blocks (whole, or the summary's) come as one blob for the whole batch, with their
    // lengths as one list, from a second statement: one Buffer per row cost more than reading
    // the rows themselves, and the rows' statement does not join the header table at all.
    const heads = want.raw ? null : want.head ? 'message_heads' : want.summary ? 'message_summaries' : null;
    if (want.raw) cols += ', CAST(h.head || mr.body AS BLOB), length(h.head), mr.compression';
    let join = want.analysis || want.headers ? ' JOIN message_blobs b ON b.id = m.blob_id' : '';
    if (want.raw) join += ' JOIN message_heads h ON h.blob_id = m.blob_id';
    if (want.raw) join += ' JOIN message_raw mr ON mr.blob_id = m.blob_id';
    const byRange = contiguous(sorted);
    const where = byRange
      ? ` WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ?`
      : ` JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value`;
    const base = byRange ? 'FROM messages m' : 'FROM json_each(?) j';
    const from = byRange ? `${base}${join}${where}` : `${base}${where}${join}`;
    const params = byRange
      ? [mailboxId, sorted[0], sorted[sorted.length - 1]]
      : [JSON.stringify(sorted), mailboxId];
    const read = (): { rows: unknown[][]; block: unknown[] | null } => ({
      rows: this.#s
        .prepare<unknown[]>(`SELECT ${cols} ${from} ORDER BY m.uid`)
        .raw(true)
        .all(...params) as unknown[][],
      // group_concat(.. ORDER BY) sorts in a temp b-tree; an ordered subquery is a co-routine
      // that the index already feeds in UID order (half the cost, measured). A LEFT JOIN keeps
      // one length per row: a missing block shows as a missing length, never as shifted headers.
      block: heads
        ? (this.#s
            .prepare<unknown[]>(
              `SELECT CAST(group_concat(head, '') AS BLOB), group_concat(coalesce(length(head), -1)), count(*) FROM (SELECT h.head ${byRange ? base : base + where} LEFT JOIN ${heads} h ON h.blob_id = m.blob_id${byRange ? where : ''} ORDER BY m.uid)`,
            )
            .raw(true)
            .get(...params) as unknown[])
        : null,
    });
    // both statements see the same snapshot
    const { rows, block: blockRow } = heads ? this.#s.db.transaction(read)() : read();
    const block = blockRow ? ((blockRow[0] as Buffer | null) ?? Buffer.alloc(0)) : null;
    const lengths = blockRow ? String(blockRow[1] ?? '').split(',') : null;
    if (lengths && (blockRow![2] as number) !== rows.length)
      throw new Error('header blocks do not match their rows');
    let blockAt = 0;
    const out: FetchedRow[] = new Array<FetchedRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const o: FetchedRow = {
        id: r[0] as number,
        uid: r[1] as number,
        modseq: r[2] as number,
        flags: flagsToList(r[3] as number, r[4] as string),
        internalDate: r[5] as number,
        size: r[6] as number,
        blobId: r[7] as number,
        savedAt: r[8] as number,
      };
      if (analysisAt >= 0) {
        o.envelope = r[analysisAt] as string;
        o.bodyStructure = r[analysisAt + 1] as string;
        o.body = r[analysisAt + 2] as string;
        o.parts = JSON.parse(r[analysisAt + 3] as string) as MimePart[];
      }
      if (headersAt >= 0) o.headers = headersFromArray(r, headersAt);
      if (want.raw) {
        const headLength = r[at + 1] as number;
        o.raw = splitRaw(r[at] as Buffer, headLength, r[at + 2] as number);
        o.headLength = headLength;
        if (want.head || want.summary) o.head = o.raw.subarray(0, headLength);
      } else if (block) {
        const len = Number(lengths![i]);
        if (!(len >= 0)) throw new Error(`the header block of message ${o.uid} is missing`);
        o.head = block.subarray(blockAt, blockAt + len);
        blockAt += len;
      }
      out[i] = o;
    }
    if (block && blockAt !== block.length) throw new Error('header blocks do not match their rows');
    return out;
  }

  /** The raw bytes of a blob (exactly as served). */
  raw(blobId: number): Buffer {
    const r = this.#s
      .prepare<{ compression: number; head: Buffer; body: Buffer }>(
        'SELECT mr.compression, h.head, mr.body FROM message_raw mr JOIN message_heads h ON h.blob_id = mr.blob_id WHERE mr.blob_id = ?',
      )
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    return joinRaw(r.head, r.compression, r.body);
  }

  /**
   * Whether a blob's stored bytes are whole: they can be read and decoded, and their length and
   * SHA-256 are the ones recorded at insert (repair finds local copies damaged behind our back).
   */
  intact(blobId: number): boolean {
    const b = this.#s
      .prepare<{ size: number; sha256: Buffer }>('SELECT size, sha256 FROM message_blobs WHERE id = ?')
      .get(blobId);
    if (!b) return false;
    let raw: Buffer;
    try {
      raw = this.raw(blobId);
    } catch {
      return false;
    }
    return raw.length === b.size && createHash('sha256').update(raw).digest().equals(b.sha256);
  }

  /**
   * Writes a damaged blob's bytes again, in place (every message sharing it keeps its UID): only
   * with exactly the bytes recorded (same SHA-256), so what clients were served does not change;
   * false (nothing written) for other bytes.
   */
  restoreRaw(blobId: number, m: NewMessage): boolean {
    const raw = m.raw;
    const b = this.#s
      .prepare<{ sha256: Buffer }>('SELECT sha256 FROM message_blobs WHERE id = ?')
      .get(blobId);
    if (!b) throw new NotFoundError(`message blob ${blobId}`);
    if (!createHash('sha256').update(raw).digest().equals(b.sha256)) return false;
    const split = headerEnd(raw, m.analysis);
    const head = raw.subarray(0, split);
    const body = raw.subarray(split);
    const packed = m.packedBody ?? (this.#compress ? packBody(body) : { compression: 0, data: body });
    this.#s.write(() => {
      this.#s
        .prepare(
          `INSERT INTO message_raw (blob_id, compression, head, body) VALUES (?, ?, x'', ?)
           ON CONFLICT(blob_id) DO UPDATE SET compression = excluded.compression, head = x'', body = excluded.body`,
        )
        .run(blobId, packed.compression, packed.data);
      this.#s
        .prepare(
          'INSERT INTO message_heads (blob_id, head) VALUES (?, ?) ON CONFLICT(blob_id) DO UPDATE SET head = excluded.head',
        )
        .run(blobId, head);
      this.#s
        .prepare(
          'INSERT INTO message_summaries (blob_id, head) VALUES (?, ?) ON CONFLICT(blob_id) DO UPDATE SET head = excluded.head',
        )
        .run(blobId, summaryHeader(head));
    });
    return true;
  }

  /** The raw header block (through the blank line), read without touching the body. */
  header(blobId: number): Buffer {
    const r = this.#s
      .prepare<{ head: Buffer }>('SELECT head FROM message_heads WHERE blob_id = ?')
      .get(blobId);
    if (!r) throw new NotFoundError(`message blob ${blobId}`);
    return r.head;
  }

  /**
   * Blobs of an account's messages whose Message-ID is `messageId` (`<...>`, as the header index
   * keeps it), at most `limit` (the message_id index; e.g. "is this a reply to encrypted mail?").
   */
  blobsWithMessageId(accountId: number, messageId: string, limit = 10): number[] {
    return this.#s
      .prepare<number>(
        `SELECT DISTINCT b.id FROM message_blobs b JOIN messages m ON m.blob_id = b.id
         JOIN mailboxes x ON x.id = m.mailbox_id WHERE b.message_id = ? AND x.account_id = ? LIMIT ?`,
      )
      .pluck()
      .all(messageId, accountId, limit) as unknown as number[];
  }

  /** A message in the mailbox with exactly these bytes (by SHA-256), if any. */
  findBySha256(mailboxId: number, sha256: Buffer): number | null {
    return (
      this.#s
        .prepare<{ uid: number }>(
          'SELECT m.uid FROM message_blobs b CROSS JOIN messages m ON m.blob_id = b.id WHERE b.sha256 = ? AND m.mailbox_id = ? LIMIT 1',
        )
        .get(sha256, mailboxId)?.uid ?? null
    );
  }

  rawByUid(mailboxId: number, uid: number): Buffer | null {
    const m = this.get(mailboxId, uid);
    return m ? this.raw(m.blobId) : null;
  }

  headers(blobId: number): HeaderFields | null {
    const r = this.#s
      .prepare<HeaderDbRow>(`SELECT ${HEADER_COLS} FROM message_blobs b WHERE b.id = ?`)
      .get(blobId);
    return r ? headersFrom(r) : null;
  }

  /** Streams the header index of a mailbox (for SEARCH/SORT), in UID order. */
  *iterateHeaders(mailboxId: number): Generator<HeaderRow> {
    const it = this.#s
      .prepare<HeaderDbRow & MetaRow>(
        `SELECT ${META_COLS}, ${HEADER_COLS} FROM messages m JOIN message_blobs b ON b.id = m.blob_id
         WHERE m.mailbox_id = ? ORDER BY m.uid`,
      )
      .iterate(mailboxId);
    for (const r of it)
      yield {
        ...headersFrom(r),
        uid: r.uid,
        flags: flagsToList(r.flags, r.keywords),
        modseq: r.modseq,
        internalDate: r.internal_date,
        size: r.size,
      };
  }

  /** CONDSTORE: rows with MODSEQ > modseq, in UID order. */
  changedSince(mailboxId: number, modseq: number): FlagChange[] {
    return this.#s
      .prepare<MetaRow>(
        `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid`,
      )
      .all(mailboxId, modseq)
      .map((r: MetaRow) => ({ uid: r.uid, flags: flagsToList(r.flags, r.keywords), modseq: r.modseq }));
  }

  /** QRESYNC: UIDs expunged after modseq. */
  expungedSince(mailboxId: number, modseq: number): number[] {
    return this.#s
      .prepare<number>('SELECT uid FROM expunge_log WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
      .pluck()
      .all(mailboxId, modseq) as unknown as number[];
  }

  /**
   * Case-insensitive substring search (IMAP SEARCH TEXT / BODY and header text): the trigram index
   * narrows the candidates, then each is checked exactly; not-yet-indexed messages are scanned.
   * `uidRange` (inclusive) bounds the work to a slice of the mailbox. Returns matching UIDs in
   * ascending order.
   */
  searchText(
    mailboxId: number,
    needle: string,
    scope: TextScope = 'text',
    uidRange: readonly [number, number] = [0, 0xffffffff],
  ): number[] {
    const [lo, hi] = uidRange;
    const want = needle.toLowerCase();
    const hits = new Set<number>();
    const check = (uid: number, blobId: number) => {
      if (want === '') return void hits.add(uid);
      const doc = this.#ftsDoc(blobId);
      const hay =
        scope === 'body' ? doc.text : scope === 'headers' ? doc.headers : doc.headers + '\n' + doc.text;
      if (hay.toLowerCase().includes(want)) hits.add(uid);
    };
    type Candidate = { uid: number; blob_id: number };
    const grams = trigrams(want);
    if (grams.length === 0) {
      // too short for trigrams: check every message
      const all = this.#s
        .prepare<Candidate>(
          'SELECT uid, blob_id FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid',
        )
        .all(mailboxId, lo, hi);
      for (const r of all) check(r.uid, r.blob_id);
      return [...hits];
    }
    const query = grams.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
    const candidates = this.#s
      .prepare<Candidate>(
        `SELECT m.uid, m.blob_id FROM message_fts f JOIN messages m ON m.blob_id = f.rowid
         WHERE message_fts MATCH ? AND m.mailbox_id = ? AND m.uid BETWEEN ? AND ?`,
      )
      .all(query, mailboxId, lo, hi);
    const queued = this.#s
      .prepare<Candidate>(
        'SELECT m.uid, m.blob_id FROM fts_queue q JOIN messages m ON m.blob_id = q.blob_id WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ?',
      )
      .all(mailboxId, lo, hi);
    for (const r of candidates) check(r.uid, r.blob_id);
    for (const r of queued) check(r.uid, r.blob_id);
    return [...hits].sort((a, b) => a - b);
  }

  // ---------------------------------------------------------------- full-text indexing

  /** Messages waiting to be added to the full-text index. */
  ftsBacklog(): number {
    return this.#s.prepare<{ n: number }>('SELECT count(*) AS n FROM fts_queue').get()!.n;
  }

  /**
   * Moves up to `limit` queued messages into the FTS index (one transaction); returns how many.
   * With `budgetMs`, stops after the message that used the budget up (big messages one by one).
   */
  indexBatch(limit = 200, budgetMs = Infinity): number {
    const started = performance.now();
    return this.#s.write(() => {
      const ids = this.#s
        .prepare<number>('SELECT blob_id FROM fts_queue ORDER BY blob_id LIMIT ?')
        .pluck()
        .all(limit) as unknown as number[];
      const ins = this.#s.prepare('INSERT INTO message_fts (rowid, headers, text) VALUES (?, ?, ?)');
      const del = this.#s.prepare('DELETE FROM fts_queue WHERE blob_id = ?');
      let n = 0;
      for (const id of ids) {
        const doc = this.#ftsDoc(id);
        ins.run(id, doc.headers, doc.text);
        del.run(id);
        n++;
        if (performance.now() - started >= budgetMs) break;
      }
      return n;
    });
  }

  // ---------------------------------------------------------------- internals

  /** The full-text document of a blob, re-derived from its raw bytes. */
  #ftsDoc(blobId: number): { headers: string; text: string } {
    const raw = this.raw(blobId);
    let a: MessageAnalysis;
    try {
      a = analyzeMessage(raw);
    } catch {
      return { headers: headerBlock(raw), text: '' };
    }
    return { headers: ftsHeaders(a, raw), text: a.text };
  }

  #mailbox(id: number): { id: number; account_id: number; uidnext: number; highestmodseq: number } {
    const r = this.#s
      .prepare<{ id: number; account_id: number; uidnext: number; highestmodseq: number }>(
        'SELECT id, account_id, uidnext, highestmodseq FROM mailboxes WHERE id = ?',
      )
      .get(id);
    if (!r) throw new MailboxGoneError('mailbox-gone', `mailbox ${id} does not exist`);
    return r;
  }

  #bump(mailboxId: number, uidnext: number, modseq: number): void {
    this.#s
      .prepare('UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?')
      .run(uidnext, modseq, mailboxId);
  }

  #insertBlob(raw: Buffer, a: MessageAnalysis, sha256?: Buffer, prepacked?: PackedBody): number {
    const h = a.headers;
    const res = this.#s
      .prepare(
        `INSERT INTO message_blobs (size, sha256, envelope, body_structure, body, parts, subject, from_display,
           to_display, cc_display, bcc_display, from_addr, to_addr, cc_addr, date, message_id, in_reply_to, refs, base_subject)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        raw.length,
        sha256 ?? createHash('sha256').update(raw).digest(),
        a.envelope,
        a.bodyStructure,
        a.body,
        JSON.stringify(a.parts),
        h.subject,
        h.from,
        h.to,
        h.cc,
        h.bcc,
        h.fromAddr,
        h.toAddr,
        h.ccAddr,
        h.date,
        h.messageId,
        h.inReplyTo,
        JSON.stringify(h.references),
        h.baseSubject,
      );
    const blobId = Number(res.lastInsertRowid);
    const split = headerEnd(raw, a);
    const body = raw.subarray(split);
    const packed = prepacked ?? (this.#compress ? packBody(body) : { compression: 0, data: body });
    // The header block lives in message_heads (dense pages for header-only FETCH, migration 4).
    this.#s
      .prepare("INSERT INTO message_raw (blob_id, compression, head, body) VALUES (?, ?, x'', ?)")
      .run(blobId, packed.compression, packed.data);
    const head = raw.subarray(0, split);
    this.#s.prepare('INSERT INTO message_heads (blob_id, head) VALUES (?, ?)').run(blobId, head);
    // The fields clients list folders with, apart (migration 5): a header sync reads only these.
    this.#s
      .prepare('INSERT INTO message_summaries (blob_id, head) VALUES (?, ?)')
      .run(blobId, summaryHeader(head));
    this.#s.prepare('INSERT INTO fts_queue (blob_id) VALUES (?)').run(blobId);
    return blobId;
  }

  #insertRow(
    mailboxId: number,
    uid: number,
    modseq: number,
    flags: readonly string[],
    internalDate: number,
    size: number,
    blobId: number,
    savedAt: number,
  ): number {
    const f = packFlags(flags);
    const res = this.#s
      .prepare(
        `INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, saved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        mailboxId,
        uid,
        modseq,
        f.bits,
        joinKeywords(f.keywords),
        Math.trunc(internalDate),
        size,
        blobId,
        savedAt,
      );
    return Number(res.lastInsertRowid);
  }

  #mapRemote(messageId: number, accountId: number, r: RemoteRef & { contentHash?: Buffer }): void {
    this.#s
      .prepare(
        `INSERT INTO remote_map (message_id, account_id, remote_mailbox, remote_uidvalidity, remote_uid, content_hash)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(message_id) DO UPDATE SET remote_mailbox = excluded.remote_mailbox,
           remote_uidvalidity = excluded.remote_uidvalidity, remote_uid = excluded.remote_uid,
           content_hash = excluded.content_hash`,
      )
      .run(messageId, accountId, r.remoteMailbox, r.uidvalidity, r.uid, r.contentHash ?? null);
  }

  #remoteOf(messageId: number): RemoteRef | null {
    const r = this.#s
      .prepare<{ remote_mailbox: string; remote_uidvalidity: number; remote_uid: number }>(
        'SELECT remote_mailbox, remote_uidvalidity, remote_uid FROM remote_map WHERE message_id = ?',
      )
      .get(messageId);
    return r
      ? { remoteMailbox: r.remote_mailbox, uidvalidity: r.remote_uidvalidity, uid: r.remote_uid }
      : null;
  }

  #metaRows(mailboxId: number, uids: readonly number[]): MetaRow[] {
    if (uids.length === 0) return [];
    const sorted = isSortedUnique(uids) ? uids : [...new Set(uids)].sort((a, b) => a - b);
    if (contiguous(sorted))
      return this.#s
        .prepare<MetaRow>(
          `SELECT ${META_COLS} FROM messages m WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
        )
        .all(mailboxId, sorted[0], sorted[sorted.length - 1]);
    return this.#s
      .prepare<MetaRow>(
        `SELECT ${META_COLS} FROM json_each(?) j JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value ORDER BY m.uid`,
      )
      .all(JSON.stringify(sorted), mailboxId);
  }

  #removeRows(mailboxId: number, rows: readonly MetaRow[], origin: Origin): number[] {
    if (rows.length === 0) return [];
    const mb = this.#mailbox(mailboxId);
    const modseq = mb.highestmodseq + 1;
    const del = this.#s.prepare('DELETE FROM messages WHERE id = ?');
    const log = this.#s.prepare(
      'INSERT INTO expunge_log (mailbox_id, uid, modseq) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET modseq = excluded.modseq',
    );
    for (const r of rows) {
      if (origin === 'local')
        this.#pending.enqueue(mb.account_id, {
          kind: 'expunge',
          mailboxId,
          uid: r.uid,
          remote: this.#remoteOf(r.id),
        });
      del.run(r.id);
      log.run(mailboxId, r.uid, modseq);
    }
    this.#bump(mailboxId, mb.uidnext, modseq);
    const uids = rows.map((r) => r.uid);
    this.#s.emit({ type: 'messages-expunged', mailboxId, uids, modseq });
    return uids;
  }
}

interface HeaderDbRow {
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

const HEADER_COLS =
  'b.subject, b.from_display, b.to_display, b.cc_display, b.bcc_display, b.from_addr, b.to_addr, b.cc_addr, b.date, b.message_id, b.in_reply_to, b.refs, b.base_subject';

const HEADER_COL_COUNT = 13;

/** headersFrom for an array row whose HEADER_COLS start at `i`. */
function headersFromArray(r: unknown[], i: number): HeaderFields {
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

function headersFrom(r: HeaderDbRow): HeaderFields {
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

function isSortedUnique(uids: readonly number[]): boolean {
  for (let i = 1; i < uids.length; i++) if (uids[i]! <= uids[i - 1]!) return false;
  return true;
}

/** The distinct trigrams of a (lowercased) needle, by code point, as the trigram tokenizer makes them. */
export function trigrams(s: string): string[] {
  const cps = [...s];
  const out = new Set<string>();
  for (let i = 0; i + 3 <= cps.length; i++) out.add(cps.slice(i, i + 3).join(''));
  return [...out];
}
