/**
 * Messages: per-mailbox UIDs (never reused), MODSEQ per change, flags, and the raw MIME stored
 * once and shared by copies. The work is split by job under messages/: writes.ts (insert, copy,
 * move, expunge), flags.ts (STORE and flag queries), reads.ts (rows, UID lists, FETCH batches),
 * blobs.ts (the stored bytes), full-text.ts (search and its index); rows.ts holds what they share.
 * This class is the one door callers use (`store.messages`); its methods hand over to those.
 */
import type { ForegroundWork } from '../../shared/foreground.ts';
import type { HeaderIndex } from '../../mime/types.ts';
import { maxParts, prepareMessage, prepareMessageAsync, type PrepareResult } from '../import/prepare.ts';
import type { Logger } from '../../shared/logger.ts';
import type { FlagOp } from '../flags.ts';
import type { StoreDb } from '../sql.ts';
import { MessageBlobs } from './messages/blobs.ts';
import { BodyCache } from './messages/body-cache.ts';
import { BodyChunks } from './messages/body-chunks.ts';
import { MessageFlags, type StoreFlagsResult } from './messages/flags.ts';
import type { FtsDoc } from './messages/fts-doc.ts';
import {
  MessageFullText,
  type OffloadedDoc,
  type SearchStep,
  type SearchStepOptions,
  type TextScope,
} from './messages/full-text.ts';
import { MimeWorkerPool } from './messages/mime-worker-pool.ts';
import { MessageReads, type FetchWant, type FlagColumns } from './messages/reads.ts';
import type { FetchedRow, MessageMeta, NewMessage, RemoteLink } from './messages/rows.ts';
import { MessageWrites, type InsertResult } from './messages/writes.ts';
import type { Origin, PendingChangesRepo } from './pending-changes.ts';

export type { FetchedRow, MessageMeta, NewMessage, RemoteIdentity, RemoteLink } from './messages/rows.ts';
export { MailboxGoneError } from './messages/rows.ts';
export type { InsertResult } from './messages/writes.ts';
export type { StoreFlagsResult } from './messages/flags.ts';
export type { OffloadedDoc, SearchStep, TextScope } from './messages/full-text.ts';
export type { FtsDoc } from './messages/fts-doc.ts';
export type { FetchWant, FlagColumns } from './messages/reads.ts';
export type { BodyCacheStatus } from './messages/body-cache.ts';
export { BodyEvictedError } from './raw-codec.ts';

/**
 * What prepare() does on the caller's thread: up to 128 KiB and 200 MIME parts (the analysis of
 * 128 KiB of text or of 200 small parts takes a few ms; a message is then not copied to the worker).
 */
const PREPARE_HERE_BYTES = 128 * 1024;
const PREPARE_HERE_PARTS = 200;

export class MessagesRepo {
  readonly #writes: MessageWrites;
  readonly #flags: MessageFlags;
  readonly #reads: MessageReads;
  readonly #blobs: MessageBlobs;
  readonly #fullText: MessageFullText;
  readonly #worker = new MimeWorkerPool();
  /** Big bodies in chunks (messages/body-chunks.ts); the store runs their sweep. */
  readonly chunks: BodyChunks;
  /**
   * The bounded body cache (messages/body-cache.ts): the budget, eviction of the least recently
   * read bodies in the background, its status.
   */
  readonly bodyCache: BodyCache;

  constructor(
    s: StoreDb,
    pending: PendingChangesRepo,
    opts: { compressBodies?: boolean; logger?: Logger; foreground?: ForegroundWork } = {},
  ) {
    this.chunks = new BodyChunks(s, opts.logger);
    this.bodyCache = new BodyCache(s, this.chunks, opts.logger, opts.foreground);
    this.#blobs = new MessageBlobs(s, opts.compressBodies ?? true, this.chunks);
    this.#writes = new MessageWrites(s, pending, this.#blobs);
    this.#flags = new MessageFlags(s, pending);
    this.#reads = new MessageReads(s, this.chunks, this.bodyCache);
    this.#fullText = new MessageFullText(s, this.#blobs, this.#worker, this.bodyCache);
  }

  // writes (messages/writes.ts)

  insert(mailboxId: number, msg: NewMessage, origin: Origin = 'local'): InsertResult {
    return this.#writes.insertBatch(mailboxId, [msg], origin)[0]!;
  }

  insertBatch(mailboxId: number, msgs: readonly NewMessage[], origin: Origin = 'local'): InsertResult[] {
    return this.#writes.insertBatch(mailboxId, msgs, origin);
  }

  copy(
    srcMailboxId: number,
    uids: readonly number[],
    dstMailboxId: number,
    origin: Origin = 'local',
  ): Array<[number, number]> {
    return this.#writes.copy(srcMailboxId, uids, dstMailboxId, origin);
  }

  move(
    srcMailboxId: number,
    uids: readonly number[],
    dstMailboxId: number,
    origin: Origin = 'local',
  ): Array<[number, number]> {
    return this.#writes.move(srcMailboxId, uids, dstMailboxId, origin);
  }

  expunge(mailboxId: number, uids?: readonly number[], origin: Origin = 'local'): number[] {
    return this.#writes.expunge(mailboxId, uids, origin);
  }

  remove(mailboxId: number, uids: readonly number[], origin: Origin = 'local'): number[] {
    return this.#writes.remove(mailboxId, uids, origin);
  }

  setRemote(messageId: number, accountId: number, remote: RemoteLink): void {
    this.#writes.setRemote(messageId, accountId, remote);
  }

  // flags (messages/flags.ts)

  storeFlags(
    mailboxId: number,
    uids: readonly number[],
    op: FlagOp,
    flags: readonly string[],
    opts: { unchangedSince?: number; origin?: Origin } = {},
  ): StoreFlagsResult {
    return this.#flags.storeFlags(mailboxId, uids, op, flags, opts);
  }

  uidsWithFlags(mailboxId: number, from: number, to: number, hasBits: number, lacksBits: number): number[] {
    return this.#flags.uidsWithFlags(mailboxId, from, to, hasBits, lacksBits);
  }

  firstUnseenUid(mailboxId: number): number | null {
    return this.#flags.firstUnseenUid(mailboxId);
  }

  // reads (messages/reads.ts)

  get(mailboxId: number, uid: number): MessageMeta | null {
    return this.#reads.get(mailboxId, uid);
  }

  uids(mailboxId: number): number[] {
    return this.#reads.uids(mailboxId);
  }

  uidView(mailboxId: number): Uint32Array {
    return this.#reads.uidView(mailboxId);
  }

  iterateMeta(mailboxId: number, fromUid = 1, toUid = 0xffffffff): Generator<MessageMeta> {
    return this.#reads.iterateMeta(mailboxId, fromUid, toUid);
  }

  metaFor(mailboxId: number, uids: readonly number[]): MessageMeta[] {
    return this.#reads.metaFor(mailboxId, uids);
  }

  fetchRows(mailboxId: number, uids: readonly number[], want: FetchWant): FetchedRow[] {
    return this.#reads.fetchRows(mailboxId, uids, want);
  }

  flagColumns(mailboxId: number, uids: ArrayLike<number>, changedSince: number | null): FlagColumns {
    return this.#reads.flagColumns(mailboxId, uids, changedSince);
  }

  expungedSince(mailboxId: number, modseq: number): number[] {
    return this.#reads.expungedSince(mailboxId, modseq);
  }

  // stored bytes (messages/blobs.ts)

  get compressBodies(): boolean {
    return this.#blobs.compressBodies;
  }

  /**
   * A raw message made ready to insert (import/prepare.ts prepareMessage: stored form, SHA-256,
   * MIME analysis, body packed), for an APPEND, a message synced in, the Sent copy. A message of
   * more than PREPARE_HERE_BYTES or of more than PREPARE_HERE_PARTS MIME parts is prepared on the
   * MIME worker thread: the analysis of ~1 MiB of 14,000 small parts held the event loop 270-370
   * ms. Should the worker fail, it is prepared here (mail is never refused for that), in turns.
   */
  async prepareToInsert(raw: Buffer): Promise<PrepareResult> {
    const compress = this.#blobs.compressBodies;
    if (raw.length <= PREPARE_HERE_BYTES && maxParts(raw, PREPARE_HERE_PARTS) <= PREPARE_HERE_PARTS)
      return prepareMessage(raw, compress);
    try {
      return await this.#worker.prepare(raw, compress);
    } catch (err) {
      if (this.#worker.closed) throw err;
      return prepareMessageAsync(raw, compress);
    }
  }

  prepack(m: NewMessage): Promise<NewMessage> {
    return this.#blobs.prepack(m);
  }

  /**
   * Runs `fn`, which inserts prepacked messages (in its own transaction), with their big bodies
   * already written, one chunk per transaction with the event loop free in between: the insert's
   * transaction then only links them. Without it, an insert writes them in its transaction.
   */
  staged<M extends NewMessage, T>(msgs: readonly M[], fn: (msgs: M[]) => T): Promise<T> {
    return this.chunks.staged(msgs, fn);
  }

  raw(blobId: number): Buffer {
    return this.#blobs.raw(blobId);
  }

  /** raw() read a chunk per turn of the event loop when the body is big. */
  rawAsync(blobId: number): Promise<Buffer> {
    return this.#blobs.rawAsync(blobId);
  }

  /** The SHA-256 of the served bytes, recorded at insert. */
  sha256(blobId: number): Buffer {
    return this.#blobs.sha256(blobId);
  }

  header(blobId: number): Buffer {
    return this.#blobs.header(blobId);
  }

  headers(blobId: number): HeaderIndex | null {
    return this.#blobs.headers(blobId);
  }

  intact(blobId: number): Promise<boolean> {
    return this.#blobs.intact(blobId);
  }

  /**
   * Writes a blob's bytes again in place — a damaged copy (repair) or a body evicted from the body
   * cache fetched again — only when they are exactly the bytes recorded (SHA-256); false (nothing
   * written) for other bytes. A body written back counts as just read (body cache order).
   */
  async restoreRaw(blobId: number, m: NewMessage): Promise<boolean> {
    const ok = await this.#blobs.restoreRaw(blobId, m);
    if (ok) this.bodyCache.touch(blobId);
    return ok;
  }

  /** Whether the blob's body is evicted from the body cache (not stored locally). */
  bodyEvicted(blobId: number): boolean {
    return this.bodyCache.isEvicted(blobId);
  }

  blobsWithMessageId(accountId: number, messageId: string, limit = 10): number[] {
    return this.#blobs.blobsWithMessageId(accountId, messageId, limit);
  }

  hasMessageId(mailboxId: number, messageId: string): boolean {
    return this.#blobs.hasMessageId(mailboxId, messageId);
  }

  findBySha256(mailboxId: number, sha256: Buffer): number | null {
    return this.#blobs.findBySha256(mailboxId, sha256);
  }

  // full-text search (messages/full-text.ts)

  /** The UIDs (ascending) in `uidRange` whose text contains `needle` (see MessageFullText). */
  searchText(
    mailboxId: number,
    needle: string,
    scope: TextScope = 'text',
    uidRange: readonly [number, number] = [0, 0xffffffff],
  ): number[] {
    return this.#fullText.searchText(mailboxId, needle, scope, uidRange);
  }

  /**
   * searchText in steps of about `opts.stepMs` of work, each yielding the UIDs it found, for a
   * caller that gives the event loop a turn in between (see MessageFullText.searchSteps).
   */
  searchTextSteps(
    mailboxId: number,
    needle: string,
    scope: TextScope,
    uidRange: readonly [number, number],
    opts: SearchStepOptions,
  ): Generator<SearchStep, void, void> {
    return this.#fullText.searchSteps(mailboxId, needle, scope, uidRange, opts);
  }

  indexBatch(limit = 200, budgetMs = Infinity): number {
    return this.#fullText.indexBatch(limit, budgetMs);
  }

  /** The full-text document of a message from its first bytes, derived on a worker thread. */
  ftsDocOffThread(raw: Buffer): Promise<FtsDoc | null> {
    return this.#fullText.ftsDocOffThread(raw);
  }

  /** Ends the MIME worker thread (the store closes). */
  closeWorker(): void {
    this.#worker.close();
  }

  /** indexBatch with documents derived off the event loop (see MessageFullText.indexBatchWith). */
  indexBatchWith(
    limit: number,
    budgetMs: number,
    opts: { docs?: ReadonlyMap<number, FtsDoc>; offloadAbove?: number },
  ): { indexed: number; offload: OffloadedDoc | null } {
    return this.#fullText.indexBatchWith(limit, budgetMs, opts);
  }

  ftsBacklog(): number {
    return this.#fullText.ftsBacklog();
  }
}
