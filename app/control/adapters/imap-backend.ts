/**
 * The ImapBackend port (app/imap/backend.ts) over the encrypted store. Everything but
 * authenticate/append is synchronous; FETCH reads only the columns asked for (raw bytes included),
 * in one query per batch. The store's change feed (from ANY writer: IMAP sessions, import, sync)
 * is fanned out to per-mailbox watchers synchronously after each commit.
 */
import { localLogin } from './local-auth.ts';
import type {
  AppendInput,
  AppendResult,
  ChangeOrigin,
  CopyResult,
  FetchWant,
  FlagColumns,
  FlagOperation,
  ImapAccount,
  ImapBackend,
  MailboxChange,
  MailboxId,
  MailboxInfo,
  MailboxSnapshot,
  MailboxStatus,
  MailboxWatcher,
  MessageRow,
  MissingBodies,
  MissingSearch,
  SpecialUse,
  StoreFlagsResult,
  TextSearchField,
} from '../../imap/backend.ts';
import {
  BackendUnavailableError,
  ImapNoError,
  InvalidMailboxNameError,
  MailboxExistsError,
  MailboxHasChildrenError,
  MailboxNotFoundError,
  MessageRejectedError,
} from '../../imap/errors.ts';
import { ConflictError, NotFoundError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { StoreEvent } from '../../store/change-feed.ts';
import { coveredBySummary } from '../../mime/header-fields.ts';
import { MailboxViewCache } from './mailbox-view-cache.ts';
import {
  InvalidMailboxNameError as StoreInvalidNameError,
  type Mailbox,
} from '../../store/repos/mailboxes.ts';
import {
  MailboxGoneError,
  type NewMessage,
  type SearchStep,
  type TextScope,
} from '../../store/repos/messages.ts';
import { systemFlagBit } from '../../store/flags.ts';
import type { Store } from '../../store/store.ts';

export interface ImapBackendOptions {
  logger: Logger;
  /** APPEND limit in bytes (default 64 MiB). */
  maxMessageSize?: number;
  /**
   * Bodies on demand (issue 20): fetches the evicted bodies of local messages from the provider
   * and stores them (the sync engine's readBodies); resolves with the UIDs that could not be had
   * and the bodies it hands over before they are stored. Without it, such bodies are unavailable.
   */
  fetchBodies?: (accountId: number, mailboxId: number, uids: readonly number[]) => Promise<MissingBodies>;
  /**
   * Full-text search of evicted bodies the index cannot decide (issue 20): asks the provider's
   * SEARCH (the sync engine's searchBodies); resolves with the UIDs that match and those it could
   * not search; once `alive` is false (the client went away) the provider is not asked again.
   * Without it, such messages stay undecided.
   */
  searchBodies?: (
    accountId: number,
    mailboxId: number,
    field: TextSearchField,
    needle: string,
    uids: readonly number[],
    alive: () => boolean,
  ) => Promise<MissingSearch>;
}

/** The ImapBackend plus `dispose()` (stops listening to the store). */
export interface StoreImapBackend extends ImapBackend {
  dispose(): void;
}

/** Maps store errors to the IMAP port's typed errors (one place). */
function mapError(err: unknown): unknown {
  if (err instanceof ImapNoError) return err;
  if (err instanceof MailboxGoneError || err instanceof NotFoundError) return new MailboxNotFoundError();
  if (err instanceof StoreInvalidNameError) return new InvalidMailboxNameError(err.message);
  if (err instanceof ConflictError) {
    switch (err.code) {
      case 'mailbox-exists':
        return new MailboxExistsError();
      case 'mailbox-has-children':
        return new MailboxHasChildrenError();
      case 'inbox-delete':
      case 'inbox-rename':
      case 'mailbox-rename-into-self':
        return new InvalidMailboxNameError(err.message);
    }
  }
  if (
    err instanceof Error &&
    /database connection is not open|SQLITE_BUSY|database is locked/i.test(err.message)
  )
    return new BackendUnavailableError();
  return err;
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapError(err);
  }
}

const toArray = (uids: ArrayLike<number>): number[] => Array.from(uids);

function info(m: Mailbox): MailboxInfo {
  return {
    id: String(m.id),
    name: m.name,
    specialUse: m.specialUse as SpecialUse | null,
    subscribed: m.subscribed,
    objectId: m.objectId,
  };
}

/** Up to this many messages, a full-text search checks them without asking the index. */
const FEW = 32;

/** `uids` when ascending, else a sorted copy. */
function ascending(uids: ArrayLike<number>): ArrayLike<number> {
  for (let i = 1; i < uids.length; i++)
    if (uids[i]! < uids[i - 1]!) return Array.from(uids).sort((a, b) => a - b);
  return uids;
}

class Watchers {
  readonly #byMailbox = new Map<number, Set<MailboxWatcher>>();
  /**
   * Mailbox id → account id of mailboxes looked up before. A mailbox never changes account, so
   * `watch` can check ownership without a query; an entry goes when its mailbox (or account) is
   * deleted, since ids may be reused.
   */
  readonly #owners = new Map<number, number>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(mailboxId: number, w: MailboxWatcher): () => void {
    let set = this.#byMailbox.get(mailboxId);
    if (!set) this.#byMailbox.set(mailboxId, (set = new Set()));
    set.add(w);
    return () => {
      set.delete(w);
      if (set.size === 0 && this.#byMailbox.get(mailboxId) === set) this.#byMailbox.delete(mailboxId);
    };
  }

  ownerOf(mailboxId: number): number | undefined {
    return this.#owners.get(mailboxId);
  }

  rememberOwner(mailboxId: number, accountId: number): void {
    this.#owners.set(mailboxId, accountId);
  }

  dispatch(e: StoreEvent): void {
    if (e.type === 'mailbox-deleted') this.#owners.delete(e.mailboxId);
    // an account's mailboxes go with it without one event each: forget every owner
    else if (e.type === 'account-removed') this.#owners.clear();
    const origin = e.actor ? { origin: e.actor as ChangeOrigin } : {};
    let mailboxId: number;
    let change: MailboxChange;
    switch (e.type) {
      case 'messages-added':
        mailboxId = e.mailboxId;
        change = {
          kind: 'exists',
          uids: e.uids,
          uidNext: e.uids[e.uids.length - 1]! + 1,
          highestModseq: e.modseq,
          ...origin,
        };
        break;
      case 'messages-expunged':
        mailboxId = e.mailboxId;
        change = { kind: 'expunge', uids: e.uids, highestModseq: e.modseq, ...origin };
        break;
      case 'flags-changed':
        mailboxId = e.mailboxId;
        change = {
          kind: 'flags',
          rows: e.changes,
          highestModseq: e.changes.reduce((m, c) => Math.max(m, c.modseq), 0),
          ...origin,
        };
        break;
      case 'mailbox-deleted':
        mailboxId = e.mailboxId;
        change = { kind: 'reset', reason: 'deleted' };
        break;
      case 'mailbox-uidvalidity':
        mailboxId = e.mailboxId;
        change = { kind: 'reset', reason: 'uidvalidity' };
        break;
      default:
        return;
    }
    const set = this.#byMailbox.get(mailboxId);
    if (!set) return;
    for (const w of [...set]) {
      try {
        w(change);
      } catch (err) {
        this.#logger.error({ err }, 'IMAP watcher failed');
      }
    }
  }
}

class StoreImapAccount implements ImapAccount {
  readonly username: string;
  readonly #store: Store;
  readonly #accountId: number;
  readonly #watchers: Watchers;
  readonly #maxSize: number;

  readonly #views: MailboxViewCache;
  readonly #fetchBodies: ImapBackendOptions['fetchBodies'];
  readonly #searchBodies: ImapBackendOptions['searchBodies'];

  constructor(
    store: Store,
    accountId: number,
    username: string,
    watchers: Watchers,
    maxSize: number,
    views: MailboxViewCache,
    fetchBodies: ImapBackendOptions['fetchBodies'],
    searchBodies: ImapBackendOptions['searchBodies'],
  ) {
    this.#views = views;
    this.#fetchBodies = fetchBodies;
    this.#searchBodies = searchBodies;
    this.#store = store;
    this.#accountId = accountId;
    this.username = username;
    this.#watchers = watchers;
    this.#maxSize = maxSize;
  }

  /** The mailbox row, checked to belong to this account. */
  #box(id: MailboxId): Mailbox {
    const n = Number(id);
    const m = Number.isSafeInteger(n) ? this.#store.mailboxes.get(n) : null;
    if (!m || m.accountId !== this.#accountId) throw new MailboxNotFoundError();
    this.#watchers.rememberOwner(m.id, m.accountId);
    return m;
  }

  listMailboxes(): MailboxInfo[] {
    return guard(() => this.#store.mailboxes.list(this.#accountId).map(info));
  }

  getMailbox(name: string): MailboxInfo | null {
    return guard(() => {
      const m = this.#store.mailboxes.getByName(this.#accountId, name);
      if (!m || m.name !== name) return null;
      this.#watchers.rememberOwner(m.id, this.#accountId);
      return info(m);
    });
  }

  createMailbox(name: string, specialUse: SpecialUse | null = null): MailboxInfo {
    return guard(() => {
      // Not subscribed (RFC 3501), unless the name still is from before a DELETE.
      const orphans = this.orphanSubscriptions();
      const subscribed = orphans.includes(name);
      const m = this.#store.mailboxes.create(this.#accountId, name, { specialUse, subscribed });
      if (subscribed) this.#setOrphans(orphans.filter((n) => n !== name));
      return info(m);
    });
  }

  deleteMailbox(id: MailboxId): void {
    guard(() => {
      const m = this.#box(id);
      if (m.name === 'INBOX') throw new InvalidMailboxNameError('INBOX cannot be deleted');
      this.#store.mailboxes.delete(m.id);
      // RFC 3501 §6.3.6: the server never removes a subscription on its own.
      if (m.subscribed) this.#setOrphans([...this.orphanSubscriptions().filter((n) => n !== m.name), m.name]);
    });
  }

  /** Subscribed names that are no mailbox, kept in the store's settings per account. */
  expungedSince(id: MailboxId, modseq: number): number[] {
    return guard(() => this.#store.messages.expungedSince(this.#box(id).id, modseq));
  }

  orphanSubscriptions(): string[] {
    return guard(() => this.#store.settings.get<string[]>(this.#orphanKey) ?? []);
  }

  forgetSubscription(name: string): void {
    guard(() => this.#setOrphans(this.orphanSubscriptions().filter((n) => n !== name)));
  }

  get #orphanKey(): string {
    return `imap.orphan-subscriptions.${this.#accountId}`;
  }

  #setOrphans(names: string[]): void {
    if (names.length) this.#store.settings.set(this.#orphanKey, names);
    else this.#store.settings.delete(this.#orphanKey);
  }

  renameMailbox(id: MailboxId, newName: string): void {
    guard(() => this.#store.mailboxes.rename(this.#box(id).id, newName));
  }

  setSubscribed(id: MailboxId, subscribed: boolean): void {
    guard(() => this.#store.mailboxes.setSubscribed(this.#box(id).id, subscribed));
  }

  status(id: MailboxId): MailboxStatus {
    return guard(() => {
      const s = this.#store.mailboxes.status(this.#box(id).id);
      return {
        messages: s.messages,
        unseen: s.unseen,
        deleted: s.deleted,
        uidNext: s.uidNext,
        uidValidity: s.uidValidity,
        highestModseq: s.highestModseq,
        size: s.size,
      };
    });
  }

  openMailbox(id: MailboxId): MailboxSnapshot {
    return guard(() => {
      const m = this.#box(id);
      return {
        info: info(m),
        uidValidity: m.uidValidity,
        uidNext: m.uidNext,
        highestModseq: m.highestModseq,
        ...this.#views.get(m.id, () => ({
          uids: this.#store.messages.uidView(m.id),
          firstUnseenUid: this.#store.messages.firstUnseenUid(m.id),
        })),
      };
    });
  }

  watch(id: MailboxId, watcher: MailboxWatcher): () => void {
    const n = Number(id);
    // SELECT watches the mailbox it has just looked up: no second query for the same row.
    if (this.#watchers.ownerOf(n) === this.#accountId) return this.#watchers.add(n, watcher);
    return guard(() => this.#watchers.add(this.#box(id).id, watcher));
  }

  fetch(id: MailboxId, uids: ArrayLike<number>, want: FetchWant): MessageRow[] {
    return guard(() => {
      const mailboxId = this.#box(id).id;
      const summary =
        want.header === true && want.headerFields !== undefined && coveredBySummary(want.headerFields);
      const rows = this.#store.messages.fetchRows(mailboxId, toArray(uids), {
        analysis: want.analysis ?? false,
        headers: want.headers ?? false,
        head: (want.header ?? false) && !summary,
        summary,
        raw: want.raw ?? false,
        lazy: true,
        emailId: want.emailId ?? false,
        threadId: want.threadId ?? false,
      });
      return rows.map((r) => {
        const out: MessageRow = {
          uid: r.uid,
          modseq: r.modseq,
          flags: r.flags,
          internalDate: r.internalDate,
          saveDate: r.savedAt,
          size: r.size,
        };
        if (want.analysis) {
          out.envelope = r.envelope!;
          out.bodyStructure = r.bodyStructure!;
          out.body = r.body!;
          out.parts = r.parts!;
        }
        if (want.headers) out.headers = r.headers!;
        if (r.evicted) out.bodyMissing = true;
        else if (r.lazyRaw) {
          out.rawSource = r.lazyRaw;
          out.header = r.lazyRaw.head;
        } else if (want.raw) out.raw = r.raw!;
        if (want.emailId) out.emailId = r.emailId!;
        if (want.threadId) out.threadId = r.threadId!;
        if (want.header) out.header = r.head!;
        return out;
      });
    });
  }

  fetchFlags(id: MailboxId, uids: ArrayLike<number>, changedSince: number | null): FlagColumns {
    return guard(() => this.#store.messages.flagColumns(this.#box(id).id, uids, changedSince));
  }

  async fetchMissingBodies(id: MailboxId, uids: readonly number[]): Promise<MissingBodies> {
    const mailboxId = guard(() => this.#box(id).id);
    if (!this.#fetchBodies) return { failed: [...uids] };
    const { failed, bodies } = await this.#fetchBodies(this.#accountId, mailboxId, uids);
    return bodies ? { failed, bodies } : { failed };
  }

  async searchMissingBodies(
    id: MailboxId,
    field: TextSearchField,
    needle: string,
    uids: readonly number[],
    alive: () => boolean = () => true,
  ): Promise<MissingSearch> {
    if (!this.#searchBodies) return { found: [], failed: [...uids] };
    try {
      const mailboxId = guard(() => this.#box(id).id);
      return await this.#searchBodies(this.#accountId, mailboxId, field, needle, uids, alive);
    } catch {
      // the mailbox gone meanwhile, or a failure the engine did not answer: the search goes on
      return { found: [], failed: [...uids] };
    }
  }

  searchText(
    id: MailboxId,
    field: TextSearchField,
    needle: string,
    within?: ArrayLike<number>,
    stepMs?: number,
    wait = false,
    undecided?: (uid: number) => void,
  ): Generator<SearchStep, void, void> {
    return this.#textSteps(
      id,
      field === 'body' ? 'body' : 'text',
      needle,
      within,
      stepMs,
      true,
      wait,
      undecided,
    );
  }

  *headerCandidates(
    id: MailboxId,
    needle: string,
    within?: ArrayLike<number>,
    stepMs?: number,
  ): Generator<number[], void, void> {
    if (within && within.length <= FEW) yield Array.from(within);
    // unchecked candidates: no text is derived, no step waits
    else
      for (const s of this.#textSteps(id, 'headers', needle, within, stepMs, false, false))
        if (Array.isArray(s)) yield s;
  }

  *#textSteps(
    id: MailboxId,
    scope: TextScope,
    needle: string,
    within: ArrayLike<number> | undefined,
    stepMs: number | undefined,
    exact: boolean,
    offload: boolean,
    undecided?: (uid: number) => void,
  ): Generator<SearchStep, void, void> {
    const mailboxId = guard(() => this.#box(id).id);
    let range: [number, number] = [0, 0xffffffff];
    let accept: ((uid: number) => boolean) | undefined;
    if (within) {
      if (within.length === 0) return;
      const only = ascending(within);
      range = [only[0]!, only[only.length - 1]!];
      // the store asks in ascending UID order: one pointer through `within`
      let i = 0;
      accept = (uid) => {
        while (i < only.length && only[i]! < uid) i++;
        return only[i] === uid;
      };
    }
    const steps = this.#store.messages.searchTextSteps(mailboxId, needle, scope, range, {
      ...(stepMs === undefined ? {} : { stepMs }),
      ...(accept ? { accept } : {}),
      exact,
      // a few messages (a CONTEXT update) are checked directly: the index query costs as much for
      // a few as for the whole store
      useIndex: !within || within.length > FEW,
      offload,
      ...(undecided ? { undecided } : {}),
    });
    try {
      for (;;) {
        const r = guard(() => steps.next());
        if (r.done) return;
        yield r.value;
      }
    } finally {
      steps.return();
    }
  }

  withFlags(
    id: MailboxId,
    uids: ArrayLike<number>,
    has: readonly string[],
    lacks: readonly string[],
  ): number[] | null {
    let hasBits = 0;
    let lacksBits = 0;
    for (const f of has) {
      const bit = systemFlagBit(f);
      if (bit === undefined) return null; // keywords, \Recent: checked on rows
      hasBits |= bit;
    }
    for (const f of lacks) {
      const bit = systemFlagBit(f);
      if (bit === undefined) return null;
      lacksBits |= bit;
    }
    if (uids.length === 0) return [];
    return guard(() => {
      const hits = this.#store.messages.uidsWithFlags(
        this.#box(id).id,
        uids[0]!,
        uids[uids.length - 1]!,
        hasBits,
        lacksBits,
      );
      // keep only the session's view (both ascending): new mail it has not been told about and
      // expunged mail it still numbers are left to the view, as for every other key
      const out: number[] = [];
      let j = 0;
      for (const u of hits) {
        while (j < uids.length && uids[j]! < u) j++;
        if (j < uids.length && uids[j] === u) out.push(u);
      }
      return out;
    });
  }

  async append(id: MailboxId, messages: AppendInput[], origin?: ChangeOrigin): Promise<AppendResult> {
    const box = guard(() => this.#box(id));
    const batch: NewMessage[] = [];
    for (const m of messages) {
      if (m.raw.length > this.#maxSize) throw new MessageRejectedError('Message too big', 'TOOBIG');
      if (m.raw.length === 0) throw new MessageRejectedError('Empty message');
      // Stored as served: CRLF line ends, binary parts in base64 (legal in any IMAP literal). A big
      // or many-part message is analysed on the store's MIME worker (not on the event loop).
      const p = await this.#store.messages.prepareToInsert(m.raw);
      if (!p.ok)
        throw new MessageRejectedError(
          p.error === 'empty message' ? 'Empty message' : 'Message cannot be parsed',
        );
      const { raw, analysis, sha256, packedBody } = p.value;
      batch.push({
        raw,
        analysis,
        sha256,
        packedBody,
        flags: m.flags,
        internalDate: m.internalDate ?? Date.now(),
      });
    }
    const packed = await Promise.all(batch.map((m) => this.#store.messages.prepack(m)));
    // big bodies are written ahead in chunks (one short transaction each), then linked
    try {
      return await this.#store.messages.staged(packed, (msgs) => {
        const res = this.#store.as(origin, () => this.#store.messages.insertBatch(box.id, msgs, 'local'));
        const uidValidity = this.#store.mailboxes.require(box.id).uidValidity;
        return { uidValidity, uids: res.map((r) => r.uid) };
      });
    } catch (err) {
      throw mapError(err);
    }
  }

  storeFlags(
    id: MailboxId,
    uids: ArrayLike<number>,
    op: FlagOperation,
    flags: string[],
    unchangedSince?: number,
    origin?: ChangeOrigin,
  ): StoreFlagsResult {
    return guard(() => {
      const mailboxId = this.#box(id).id;
      const list = toArray(uids);
      const res = this.#store.as(origin, () =>
        this.#store.messages.storeFlags(
          mailboxId,
          list,
          op,
          flags,
          unchangedSince === undefined ? { origin: 'local' } : { unchangedSince, origin: 'local' },
        ),
      );
      const modified = new Set(res.modified);
      const rows = this.#store.messages
        .metaFor(mailboxId, list)
        .filter((m) => !modified.has(m.uid))
        .map((m) => ({ uid: m.uid, flags: m.flags, modseq: m.modseq }));
      return { rows, modified: res.modified };
    });
  }

  copy(id: MailboxId, uids: ArrayLike<number>, target: MailboxId, origin?: ChangeOrigin): CopyResult {
    return guard(() => {
      const src = this.#box(id);
      const dst = this.#box(target);
      const pairs = this.#store.as(origin, () =>
        this.#store.messages.copy(src.id, toArray(uids), dst.id, 'local'),
      );
      return { uidValidity: dst.uidValidity, pairs };
    });
  }

  move(id: MailboxId, uids: ArrayLike<number>, target: MailboxId, origin?: ChangeOrigin): CopyResult {
    return guard(() => {
      const src = this.#box(id);
      const dst = this.#box(target);
      const pairs = this.#store.as(origin, () =>
        this.#store.messages.move(src.id, toArray(uids), dst.id, 'local'),
      );
      return { uidValidity: dst.uidValidity, pairs };
    });
  }

  expunge(id: MailboxId, uids?: ArrayLike<number>, origin?: ChangeOrigin): number[] {
    return guard(() => {
      const mailboxId = this.#box(id).id;
      return this.#store.as(origin, () =>
        this.#store.messages.expunge(mailboxId, uids === undefined ? undefined : toArray(uids), 'local'),
      );
    });
  }
}

/** The IMAP backend over `store`. Local login: username = account email, password = local password. */
export function createImapBackend(store: Store, opts: ImapBackendOptions): StoreImapBackend {
  const watchers = new Watchers(opts.logger);
  const views = new MailboxViewCache();
  const unsubscribe = store.changes.on((e) => {
    views.invalidate(e); // before any session hears of the change
    watchers.dispatch(e);
  });
  const maxSize = opts.maxMessageSize ?? 64 * 1024 * 1024;
  return {
    async authenticate(username: string, password: string): Promise<ImapAccount | null> {
      if (store.closed) throw new BackendUnavailableError();
      const account = localLogin(store, username, password);
      if (!account) return null;
      // every account has an INBOX (it exists on every provider: not queued for upload)
      guard(() => store.mailboxes.ensure(account.id, 'INBOX', { origin: 'sync' }));
      return new StoreImapAccount(
        store,
        account.id,
        account.email,
        watchers,
        maxSize,
        views,
        opts.fetchBodies,
        opts.searchBodies,
      );
    },
    dispose: unsubscribe,
  };
}
