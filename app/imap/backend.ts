/**
 * The ImapBackend port: everything the IMAP server needs from storage, and nothing more.
 *
 * The IMAP engine (app/imap) never imports the store. The STORE helper implements this interface in
 * `app/control/adapters/imap-backend.ts`; tests use `test/helpers/imap-memory-backend.ts`.
 *
 * Conventions (normative for every implementation):
 * - Mailbox names are UTF-8 strings with '/' as the hierarchy delimiter (the server converts to and
 *   from modified UTF-7). `INBOX` is always spelled `INBOX` in and out of the port (the server
 *   upper-cases any case variant before calling). Names never start or end with '/', never contain
 *   '//' or control characters; the server validates that before calling.
 * - Mailboxes are addressed by an opaque, stable `MailboxId` (it survives renames).
 * - UIDs are positive 32-bit integers, strictly ascending per mailbox in insertion order and never
 *   reused within one `uidValidity`. `uidNext` is greater than every UID ever assigned in the mailbox.
 *   `uidValidity` is a positive 32-bit integer that changes only if UIDs are renumbered.
 * - Modseq (RFC 7162 CONDSTORE): a positive integer per mailbox. Every change to a message (append,
 *   flag change, copy/move in) gives that message `modseq = ++highestModseq`; an expunge also bumps
 *   `highestModseq`. A brand-new empty mailbox has `highestModseq` 1.
 * - Flags are strings. System flags are passed with canonical case (`\Seen \Answered \Flagged
 *   \Deleted \Draft`); keywords are atoms compared case-insensitively but stored case-preserving
 *   (adding `$label1` to a message that has `$Label1` changes nothing). `\Recent` is never stored
 *   and never passed. A flag list returned by the port has no duplicates (order is free).
 * - Dates are milliseconds since the epoch (`internalDate`).
 * - Everything except `authenticate`, `append`, `fetchMissingBodies` and `searchMissingBodies` is synchronous (the store is better-sqlite3) so that
 *   the FETCH loop has no per-message Promise overhead.
 * - Errors: implementations throw the typed errors of `app/imap/errors.ts` (`MailboxNotFoundError`,
 *   `MailboxExistsError`, `InvalidMailboxNameError`, `MailboxHasChildrenError`,
 *   `MessageRejectedError`, `BackendUnavailableError`), each a NO with its RFC 5530 code. The
 *   shared errors are mapped too (`error-map.ts`, the one place): a full disk → `NO [OVERQUOTA]`,
 *   `NotFoundError` → `[NONEXISTENT]`, `ConflictError` → `[INUSE]`, `UnlockError` →
 *   `[UNAVAILABLE]`, any other `UserError` → `[CANNOT]`; anything else is a bug: `NO [SERVERBUG]`,
 *   logged.
 *   A failing call must change nothing (all-or-nothing, one transaction).
 * - Change feed: every committed change to a mailbox, from ANY path (this or another IMAP session,
 *   an import, upstream sync), is reported to that mailbox's watchers synchronously, after the commit
 *   and before the mutating call returns, in commit order. A watcher must only queue the event (it
 *   must not call back into the backend). `openMailbox` followed by `watch` in the same tick
 *   therefore sees a consistent state: nothing can happen in between.
 */

import type { HeaderIndex, MimePart } from '../mime/types.ts';

/** Opaque stable identifier of a mailbox (survives renames). */
export type MailboxId = string;

/** An opaque token identifying who made a change (an IMAP session passes itself); echoed in events. */
export type ChangeOrigin = object;

/** SPECIAL-USE attributes (RFC 6154) a mailbox may carry. */
export type SpecialUse = '\\All' | '\\Archive' | '\\Drafts' | '\\Flagged' | '\\Junk' | '\\Sent' | '\\Trash';

export interface MailboxInfo {
  id: MailboxId;
  /** Full UTF-8 name with '/' delimiter, e.g. `INBOX`, `Archive/2024`, `Entwürfe`. */
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  /**
   * MAILBOXID (RFC 8474 objectid: 1-255 of A-Z a-z 0-9 _ -): kept through renames and restarts,
   * never given to another mailbox (a mailbox deleted and created again gets a new one).
   */
  objectId: string;
}

export interface MailboxStatus {
  messages: number;
  /** Messages without \Seen. */
  unseen: number;
  /** Messages with \Deleted (STATUS DELETED, RFC 9051). */
  deleted: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Sum of RFC822.SIZE of all messages (STATUS=SIZE). */
  size: number;
}

/** What SELECT/EXAMINE needs, read in one transaction. */
export interface MailboxSnapshot {
  info: MailboxInfo;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /**
   * Every UID in the mailbox, ascending. Sequence number n is `uids[n-1]`. Read-only: a backend
   * may hand the same array to every session that selects the mailbox (sessions copy on write).
   */
  uids: Uint32Array;
  /** UID of the first message without \Seen, or null if all are seen (for `[UNSEEN n]`). */
  firstUnseenUid: number | null;
}

/** Byte offsets of one MIME part (app/mime). */
export type MessagePartOffsets = MimePart;

/** Decoded header values for SEARCH/SORT/THREAD (app/mime). */
export type MessageHeaderIndex = HeaderIndex;

/** Which columns a `fetch` must fill. Unrequested optional fields may be left undefined. */
export interface FetchWant {
  /** envelope, bodyStructure, body, parts (precomputed at insert time; never re-parse). */
  analysis?: boolean;
  /** The decoded header index (SEARCH/SORT/THREAD). */
  headers?: boolean;
  /** The raw header block: bytes [0, parts[''].bodyStart) of the message, i.e. incl. the blank line. */
  header?: boolean;
  /**
   * With `header`: the caller reads only these fields of it (BODY[HEADER.FIELDS (..)]), so the
   * backend may return a reduced block instead: at least every line of these fields (with their
   * continuation lines), in their original order and bytes.
   */
  headerFields?: readonly string[];
  /** The whole raw message (`raw`, or `rawSource` for a big message). */
  raw?: boolean;
  /** The EMAILID (RFC 8474). */
  emailId?: boolean;
  /** The THREADID (RFC 8474). */
  threadId?: boolean;
}

/**
 * The UID, MODSEQ and flags of messages, a column each (`fetchFlags`): row i is `uids[i]`,
 * `modseqs[i]`, `flags[i]`, ascending by UID.
 */
export interface FlagColumns {
  uids: readonly number[];
  modseqs: readonly number[];
  /** Read-only lists; rows with the same flags may share one. */
  flags: ReadonlyArray<readonly string[]>;
}

/** What `fetchMissingBodies` could do. */
export interface MissingBodies {
  /** UIDs whose body could not be had. */
  failed: number[];
  /** Bodies handed over at once, by UID (exactly the message's bytes); the others are read again. */
  bodies?: ReadonlyMap<number, Buffer>;
}

/** What `searchMissingBodies` decided. */
export interface MissingSearch {
  /** UIDs that match. */
  found: number[];
  /** UIDs it could not decide (offline, a provider error, mail encrypted at the provider). */
  failed: number[];
}

export interface MessageRow {
  uid: number;
  modseq: number;
  flags: string[];
  internalDate: number;
  /**
   * When the message was saved into this mailbox (ms since epoch; RFC 8514 SAVEDATE): the time of
   * the append, copy or move in, or sync insert — a copy keeps `internalDate` but not this.
   */
  saveDate: number;
  /**
   * RFC822.SIZE = byte length of `raw`; never changes (not even while the body is not stored
   * locally: see `bodyMissing`).
   */
  size: number;
  envelope?: string;
  bodyStructure?: string;
  body?: string;
  parts?: MessagePartOffsets[];
  headers?: MessageHeaderIndex;
  header?: Buffer;
  raw?: Buffer;
  /**
   * Instead of `raw`, for a big message (the backend decides which): its bytes, read a piece at a
   * time with the event loop free in between; `header` then holds its header block.
   */
  rawSource?: RawSource;
  /**
   * Set when `raw` was asked for but the message's body is not stored locally (a bounded local
   * cache evicted it; the provider has it): neither `raw` nor `rawSource` is given, everything
   * else is (size, flags, ENVELOPE/BODYSTRUCTURE, header block) and equals what the body gives
   * once fetched. `fetchMissingBodies` brings it back.
   */
  bodyMissing?: boolean;
  /**
   * EMAILID (RFC 8474 objectid): the same for the same message however often it is read, and for
   * its copies and moved versions; never the id of another message.
   */
  emailId?: string;
  /**
   * THREADID (RFC 8474 objectid): shared by the messages of one conversation, in every mailbox, and
   * never changed; absent (NIL) where the backend does not thread.
   */
  threadId?: string;
}

/** The bytes of a big message, read a piece at a time (see MessageRow.rawSource). */
export interface RawSource {
  /** Byte length of the message (RFC822.SIZE). */
  readonly size: number;
  /** The bytes [start, end) of the message, in pieces. */
  read(start?: number, end?: number): AsyncIterable<Buffer>;
  /** The whole message in one Buffer. */
  whole(): Promise<Buffer>;
}

export interface AppendInput {
  raw: Buffer;
  flags: string[];
  /** ms since epoch; the backend uses "now" when null. */
  internalDate: number | null;
}

export interface AppendResult {
  uidValidity: number;
  /** One UID per input message, in input order. */
  uids: number[];
}

export interface CopyResult {
  /** uidValidity of the destination. */
  uidValidity: number;
  /** [source UID, destination UID] for every source UID that existed, ascending by source UID. */
  pairs: Array<[number, number]>;
}

export type FlagOperation = 'add' | 'remove' | 'replace';

export interface FlagRow {
  uid: number;
  flags: string[];
  modseq: number;
}

export interface StoreFlagsResult {
  /** Every existing UID of the request (changed or not) with its flags and modseq after the call. */
  rows: FlagRow[];
  /** UIDs NOT changed because their modseq was > unchangedSince (RFC 7162 `[MODIFIED ...]`). */
  modified: number[];
}

/** Which text a full-text search looks at (IMAP semantics: case-insensitive substring). */
export type TextSearchField =
  /** The decoded body text (text/* parts; HTML tags stripped). */
  | 'body'
  /** Headers (decoded) and body text. */
  | 'text';

/**
 * Events of the per-mailbox change feed. `origin` is the value the caller passed to the mutating
 * method (undefined for sync/import), so a session can recognise its own changes.
 */
export type MailboxChange =
  /** New messages were added (append, copy/move in, sync). `uids` ascending, all > any earlier UID. */
  | { kind: 'exists'; uids: number[]; uidNext: number; highestModseq: number; origin?: ChangeOrigin }
  /** Messages were removed (expunge, move out, sync). `uids` ascending. */
  | { kind: 'expunge'; uids: number[]; highestModseq: number; origin?: ChangeOrigin }
  /** Flags of existing messages changed (only rows whose flags really changed). */
  | { kind: 'flags'; rows: FlagRow[]; highestModseq: number; origin?: ChangeOrigin }
  /**
   * The mailbox is gone or its UIDs were renumbered (deleted, or uidValidity changed): sessions
   * that have it selected must end (`* BYE`). A rename is NOT reported here (ids are stable).
   */
  | { kind: 'reset'; reason: 'deleted' | 'uidvalidity' };

export type MailboxWatcher = (change: MailboxChange) => void;

/** The authenticated view of one account's mail. Obtained from `ImapBackend.authenticate`. */
export interface ImapAccount {
  /** The login name (the account's email address). */
  readonly username: string;

  /** All mailboxes of the account, INBOX included (order is free; the server sorts). */
  listMailboxes(): MailboxInfo[];
  /** Exact-name lookup (case-sensitive; INBOX already normalised by the server). Null if missing. */
  getMailbox(name: string): MailboxInfo | null;
  /**
   * Create one mailbox (the server creates missing parents first, one call each). Throws
   * MailboxExistsError. The new mailbox gets a fresh uidValidity, uidNext 1, highestModseq 1,
   * and is NOT subscribed (RFC 3501 §6.3.3) — unless its name is still subscribed from before (a
   * subscription outlives a DELETE).
   */
  createMailbox(name: string, specialUse?: SpecialUse | null): MailboxInfo;
  /**
   * Delete one mailbox and its messages. Throws MailboxNotFoundError, InvalidMailboxNameError for
   * INBOX, MailboxHasChildrenError if another mailbox is named `name/...`. Watchers get `reset`.
   * A subscription of the name is kept (RFC 3501 §6.3.6: never removed unilaterally).
   */
  deleteMailbox(id: MailboxId): void;
  /**
   * Rename a mailbox AND all its children (`from/...` becomes `to/...`), keeping ids, UIDs and
   * uidValidity. Throws MailboxNotFoundError, MailboxExistsError (if `to` or a child target exists).
   * Never called for INBOX (the server implements RFC 3501 INBOX rename with create + move).
   * Missing parents of `to` are created by the server beforehand.
   */
  renameMailbox(id: MailboxId, newName: string): void;
  setSubscribed(id: MailboxId, subscribed: boolean): void;
  /** Subscribed names that are not mailboxes (any more): LSUB / LIST (SUBSCRIBED) list them. */
  orphanSubscriptions(): string[];
  /** UNSUBSCRIBE of a name that is not a mailbox. */
  forgetSubscription(name: string): void;
  status(id: MailboxId): MailboxStatus;

  /** Everything SELECT needs, in one consistent read. */
  openMailbox(id: MailboxId): MailboxSnapshot;
  /**
   * UIDs (ascending) expunged from the mailbox with an expunge mod-sequence above `modseq`
   * (RFC 7162 QRESYNC: VANISHED (EARLIER)). Remembered for the mailbox's current uidValidity.
   */
  expungedSince(id: MailboxId, modseq: number): number[];
  /** Subscribe to a mailbox's change feed. Returns the unsubscribe function. */
  watch(id: MailboxId, watcher: MailboxWatcher): () => void;

  /**
   * Read rows for the given UIDs (any order in, ascending out). UIDs that no longer exist are
   * silently skipped. The server calls this in batches (e.g. 256 UIDs) to bound memory.
   */
  fetch(id: MailboxId, uids: ArrayLike<number>, want: FetchWant): MessageRow[];
  /**
   * Optional fast path for a FETCH of UID, FLAGS and MODSEQ only (a client's flag resync of a big
   * mailbox): what `fetch` gives of those, as columns rather than one row object per message, for
   * the UIDs `uids` (ascending, unique; missing ones skipped) and, with `changedSince`, only the
   * messages whose modseq is above it. Without it the server reads rows with `fetch`.
   */
  fetchFlags?(id: MailboxId, uids: ArrayLike<number>, changedSince: number | null): FlagColumns;
  /**
   * UIDs (ascending) among `within` (ascending; all messages when omitted) whose `field` contains
   * `needle` as a case-insensitive substring (after decoding RFC 2047 / transfer encodings /
   * charsets). The store answers this from its full-text index with an exact post-check.
   * In steps: each yields the UIDs found by about `stepMs` of work (ascending, after those of the
   * steps before), so the caller can give the event loop a turn between steps; the whole search
   * takes time linear in the mailbox. With `wait` true, a step may yield a promise instead: work
   * done off the event loop (the text of a big message, derived on a worker thread), which the
   * caller awaits before it asks for the next step. `undecided` takes (ascending) the UIDs whose
   * body is not stored locally and whose text the backend cannot decide (they are not among those
   * found); without it they count as not matching.
   */
  searchText(
    id: MailboxId,
    field: TextSearchField,
    needle: string,
    within?: ArrayLike<number>,
    stepMs?: number,
    wait?: boolean,
    undecided?: (uid: number) => void,
  ): Iterable<number[] | Promise<void>>;
  /**
   * Optional prefilter for SEARCH FROM / TO / CC / BCC / SUBJECT: in steps like searchText, the
   * UIDs among `within` (ascending) that may hold `needle` (printable ASCII, 3 characters or more)
   * in one of those fields — every message that does, and maybe others; the caller checks each.
   * The store answers this from the header column of its full-text index.
   */
  headerCandidates?(
    id: MailboxId,
    needle: string,
    within?: ArrayLike<number>,
    stepMs?: number,
  ): Iterable<number[]>;
  /**
   * Optional fast path for SEARCH on flags: the UIDs among `uids` (ascending) whose flags include
   * every flag of `has` and none of `lacks`, ascending; null when the backend cannot answer for
   * these flags (the caller then checks the rows itself).
   */
  withFlags?(
    id: MailboxId,
    uids: ArrayLike<number>,
    has: readonly string[],
    lacks: readonly string[],
  ): number[] | null;

  /**
   * Optional: fetches the bodies of the messages `uids` whose rows came with `bodyMissing` from the
   * provider now and stores them (the same bytes as before: size and structure do not change).
   * Resolves with the UIDs whose body could not be had (offline, provider error) and the bodies it
   * hands over at once (`bodies`, by UID: the message's bytes, maybe not stored yet); a later `fetch`
   * of the others gives their bytes. A backend without it never sets `bodyMissing`.
   */
  fetchMissingBodies?(id: MailboxId, uids: readonly number[]): Promise<MissingBodies>;

  /**
   * Optional: decides `field` / `needle` (as searchText) for the messages `uids` that searchText
   * left undecided, by asking the provider (the plaintext ones, when it can be reached). Resolves
   * with those that match and those it could not decide (`failed`); the others do not match.
   * Never rejects. Once `alive()` is false (the client went away), the provider is not asked
   * again: the rest is `failed`. A backend without it leaves them undecided.
   */
  searchMissingBodies?(
    id: MailboxId,
    field: TextSearchField,
    needle: string,
    uids: readonly number[],
    alive?: () => boolean,
  ): Promise<MissingSearch>;

  /**
   * Append messages atomically (MULTIAPPEND: all or none). The backend analyses each message
   * (MIME) at insert time. Throws MailboxNotFoundError, MessageRejectedError (unparseable / too big).
   * Emits one `exists` event.
   */
  append(id: MailboxId, messages: AppendInput[], origin?: ChangeOrigin): Promise<AppendResult>;
  /**
   * Change flags of the given UIDs. `unchangedSince` (RFC 7162): skip (and report in `modified`)
   * messages whose modseq is greater. Only rows whose flags really change get a new modseq and an
   * event. Emits one `flags` event (if anything changed).
   */
  storeFlags(
    id: MailboxId,
    uids: ArrayLike<number>,
    op: FlagOperation,
    flags: string[],
    unchangedSince?: number,
    origin?: ChangeOrigin,
  ): StoreFlagsResult;
  /** Copy messages (bytes, flags, internalDate) to another mailbox. Emits `exists` on the target. */
  copy(id: MailboxId, uids: ArrayLike<number>, target: MailboxId, origin?: ChangeOrigin): CopyResult;
  /** Move messages atomically: `exists` on the target, then `expunge` on the source. */
  move(id: MailboxId, uids: ArrayLike<number>, target: MailboxId, origin?: ChangeOrigin): CopyResult;
  /**
   * Permanently remove messages that have \Deleted; when `uids` is given, only those among them
   * (UID EXPUNGE). Returns the expunged UIDs ascending. Emits one `expunge` event if any.
   */
  expunge(id: MailboxId, uids?: ArrayLike<number>, origin?: ChangeOrigin): number[];
}

export interface ImapBackend {
  /**
   * Check the local credentials (username = account email, password = the local password).
   * Resolves null on a wrong username or password (the server throttles); never throws for that.
   */
  authenticate(username: string, password: string): Promise<ImapAccount | null>;
}
