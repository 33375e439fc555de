/**
 * In-memory reference implementation of the ImapBackend port, for protocol tests. Follows every
 * rule documented in app/imap/backend.ts (synchronous change feed, modseq, UID rules), so it doubles
 * as the executable spec for the STORE adapter.
 */
import { randomBytes } from 'node:crypto';
import { analyzeMessage } from '../../app/mime/analyze.ts';
import { assignThreadId, type ThreadIndex } from '../../app/store/thread-ids.ts';
import type { MessageAnalysis } from '../../app/mime/types.ts';
import type {
  AppendInput,
  AppendResult,
  ChangeOrigin,
  CopyResult,
  FetchWant,
  FlagOperation,
  FlagRow,
  ImapAccount,
  ImapBackend,
  MailboxChange,
  MailboxId,
  MailboxInfo,
  MailboxSnapshot,
  MailboxStatus,
  MailboxWatcher,
  MessageRow,
  SpecialUse,
  StoreFlagsResult,
  TextSearchField,
} from '../../app/imap/backend.ts';
import {
  InvalidMailboxNameError,
  MailboxExistsError,
  MailboxHasChildrenError,
  MailboxNotFoundError,
  MessageRejectedError,
} from '../../app/imap/errors.ts';

interface MemMessage {
  uid: number;
  modseq: number;
  flags: string[];
  internalDate: number;
  /** When it was saved into its mailbox (SAVEDATE). */
  savedAt: number;
  /** EMAILID: kept by copies and moves. */
  emailId: string;
  /** THREADID: as the store threads (app/store/thread-ids.ts), per account; kept by copies and moves. */
  threadId: string;
  raw: Buffer;
  analysis: MessageAnalysis;
}

interface MemMailbox {
  info: MailboxInfo;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: MemMessage[]; // ascending uid
  watchers: Set<MailboxWatcher>;
  /** uid → modseq of its expunge (QRESYNC). */
  expunged?: Map<number, number>;
}

export interface MemoryBackendOptions {
  /** username → password */
  users?: Record<string, string>;
  /** First uidValidity handed out (each new mailbox gets the next one). Deterministic by default. */
  uidValidityStart?: number;
  /** Mailboxes created for each user besides INBOX. */
  defaultMailboxes?: Array<{ name: string; specialUse?: SpecialUse }>;
  /** Reject appends bigger than this. */
  maxMessageSize?: number;
}

/** A random RFC 8474 objectid, as the store makes them. */
function objectId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

function lowerSet(flags: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of flags) if (!m.has(f.toLowerCase())) m.set(f.toLowerCase(), f);
  return m;
}

function headerEnd(raw: Buffer): number {
  const i = raw.indexOf('\r\n\r\n');
  if (i >= 0) return i + 4;
  const j = raw.indexOf('\n\n');
  return j >= 0 ? j + 2 : raw.length;
}

export class MemoryAccount implements ImapAccount {
  readonly username: string;
  readonly boxes = new Map<MailboxId, MemMailbox>();
  private nextId = 1;
  private readonly backend: MemoryImapBackend;
  /** Message-ID → THREADID, as the store's message_threads. */
  private readonly threads = new Map<string, string>();
  private readonly threadIndex: ThreadIndex = {
    find: (id) => this.threads.get(id),
    record: (id, thread) => {
      if (!this.threads.has(id)) this.threads.set(id, thread);
    },
  };

  constructor(backend: MemoryImapBackend, username: string) {
    this.backend = backend;
    this.username = username;
  }

  private box(id: MailboxId): MemMailbox {
    const b = this.boxes.get(id);
    if (!b) throw new MailboxNotFoundError();
    return b;
  }

  private emit(b: MemMailbox, ev: MailboxChange): void {
    if (ev.kind === 'expunge') for (const u of ev.uids) (b.expunged ??= new Map()).set(u, ev.highestModseq);
    for (const w of [...b.watchers]) w(ev);
  }

  listMailboxes(): MailboxInfo[] {
    return [...this.boxes.values()].map((b) => ({ ...b.info }));
  }

  getMailbox(name: string): MailboxInfo | null {
    for (const b of this.boxes.values()) if (b.info.name === name) return { ...b.info };
    return null;
  }

  createMailbox(name: string, specialUse: SpecialUse | null = null): MailboxInfo {
    if (!name || name.startsWith('/') || name.endsWith('/') || name.includes('//')) {
      throw new InvalidMailboxNameError();
    }
    if (this.getMailbox(name)) throw new MailboxExistsError(name);
    const id = `mb${this.nextId++}`;
    const subscribed = this.orphans.delete(name);
    const info: MailboxInfo = { id, name, specialUse, subscribed, objectId: objectId('F') };
    this.boxes.set(id, {
      info,
      uidValidity: this.backend.nextUidValidity(),
      uidNext: 1,
      highestModseq: 1,
      messages: [],
      watchers: new Set(),
    });
    return { ...info };
  }

  deleteMailbox(id: MailboxId): void {
    const b = this.box(id);
    if (b.info.name === 'INBOX') throw new InvalidMailboxNameError('INBOX cannot be deleted');
    for (const o of this.boxes.values()) {
      if (o.info.name.startsWith(b.info.name + '/')) throw new MailboxHasChildrenError();
    }
    this.boxes.delete(id);
    if (b.info.subscribed) this.orphans.add(b.info.name);
    this.emit(b, { kind: 'reset', reason: 'deleted' });
  }

  renameMailbox(id: MailboxId, newName: string): void {
    const b = this.box(id);
    const old = b.info.name;
    const moving = [...this.boxes.values()].filter(
      (o) => o.info.name === old || o.info.name.startsWith(old + '/'),
    );
    for (const o of moving) {
      const target = newName + o.info.name.slice(old.length);
      if (this.getMailbox(target)) throw new MailboxExistsError(target);
    }
    for (const o of moving) o.info.name = newName + o.info.name.slice(old.length);
  }

  setSubscribed(id: MailboxId, subscribed: boolean): void {
    this.box(id).info.subscribed = subscribed;
  }

  /** Subscribed names that are no mailbox (kept after DELETE). */
  private readonly orphans = new Set<string>();

  expungedSince(id: MailboxId, modseq: number): number[] {
    const out: number[] = [];
    for (const [u, m] of this.box(id).expunged ?? []) if (m > modseq) out.push(u);
    return out.sort((a, c) => a - c);
  }

  orphanSubscriptions(): string[] {
    return [...this.orphans];
  }

  forgetSubscription(name: string): void {
    this.orphans.delete(name);
  }

  status(id: MailboxId): MailboxStatus {
    const b = this.box(id);
    let unseen = 0;
    let deleted = 0;
    let size = 0;
    for (const m of b.messages) {
      if (!m.flags.includes('\\Seen')) unseen++;
      if (m.flags.includes('\\Deleted')) deleted++;
      size += m.raw.length;
    }
    return {
      messages: b.messages.length,
      unseen,
      deleted,
      uidNext: b.uidNext,
      uidValidity: b.uidValidity,
      highestModseq: b.highestModseq,
      size,
    };
  }

  openMailbox(id: MailboxId): MailboxSnapshot {
    const b = this.box(id);
    const first = b.messages.find((m) => !m.flags.includes('\\Seen'));
    return {
      info: { ...b.info },
      uidValidity: b.uidValidity,
      uidNext: b.uidNext,
      highestModseq: b.highestModseq,
      uids: Uint32Array.from(b.messages.map((m) => m.uid)),
      firstUnseenUid: first ? first.uid : null,
    };
  }

  watch(id: MailboxId, watcher: MailboxWatcher): () => void {
    const b = this.box(id);
    b.watchers.add(watcher);
    return () => b.watchers.delete(watcher);
  }

  private select(b: MemMailbox, uids: ArrayLike<number>): MemMessage[] {
    const want = new Set<number>(Array.from(uids));
    return b.messages.filter((m) => want.has(m.uid));
  }

  fetch(id: MailboxId, uids: ArrayLike<number>, want: FetchWant): MessageRow[] {
    const b = this.box(id);
    return this.select(b, uids).map((m) => {
      const row: MessageRow = {
        uid: m.uid,
        modseq: m.modseq,
        flags: [...m.flags],
        internalDate: m.internalDate,
        saveDate: m.savedAt,
        size: m.raw.length,
      };
      if (want.analysis) {
        row.envelope = m.analysis.envelope;
        row.bodyStructure = m.analysis.bodyStructure;
        row.body = m.analysis.body;
        row.parts = m.analysis.parts;
      }
      if (want.headers) row.headers = m.analysis.headers;
      if (want.header) {
        const whole = m.analysis.parts.find((p) => p.section === '');
        const end = whole && whole.bodyStart > 0 ? whole.bodyStart : headerEnd(m.raw);
        row.header = m.raw.subarray(0, end);
      }
      if (want.raw) row.raw = m.raw;
      if (want.emailId) row.emailId = m.emailId;
      if (want.threadId) row.threadId = m.threadId;
      return row;
    });
  }

  *searchText(
    id: MailboxId,
    field: TextSearchField,
    needle: string,
    within?: ArrayLike<number>,
    stepMs = Infinity,
  ): Generator<number[], void, void> {
    const b = this.box(id);
    const msgs = within ? this.select(b, within) : b.messages;
    const n = needle.toLowerCase();
    let out: number[] = [];
    let started = performance.now();
    for (const m of msgs) {
      const hEnd = headerEnd(m.raw);
      const bodyText = m.analysis.text || m.raw.subarray(hEnd).toString('utf8');
      let hay = bodyText;
      if (field === 'text') {
        const h = m.analysis.headers;
        hay = [m.raw.subarray(0, hEnd).toString('utf8'), h.subject, h.from, h.to, h.cc, h.bcc, bodyText].join(
          '\n',
        );
      }
      if (hay.toLowerCase().includes(n)) out.push(m.uid);
      if (performance.now() - started >= stepMs) {
        yield out;
        out = [];
        started = performance.now();
      }
    }
    yield out;
  }

  private insert(
    b: MemMailbox,
    raw: Buffer,
    flags: string[],
    internalDate: number,
    emailId = objectId('M'),
    threadId?: string,
  ): MemMessage {
    const analysis = analyzeMessage(raw);
    const m: MemMessage = {
      uid: b.uidNext++,
      modseq: ++b.highestModseq,
      flags: [...lowerSet(flags).values()],
      internalDate,
      savedAt: Date.now(),
      emailId,
      threadId: threadId ?? assignThreadId(this.threadIndex, analysis.headers),
      raw,
      analysis,
    };
    b.messages.push(m);
    return m;
  }

  async append(id: MailboxId, messages: AppendInput[], origin?: ChangeOrigin): Promise<AppendResult> {
    const b = this.box(id);
    for (const input of messages) {
      if (this.backend.maxMessageSize !== undefined && input.raw.length > this.backend.maxMessageSize) {
        throw new MessageRejectedError('Message too big', 'TOOBIG');
      }
    }
    const uids = messages.map((i) => this.insert(b, i.raw, i.flags, i.internalDate ?? Date.now()).uid);
    this.emit(b, {
      kind: 'exists',
      uids,
      uidNext: b.uidNext,
      highestModseq: b.highestModseq,
      ...(origin ? { origin } : {}),
    });
    return { uidValidity: b.uidValidity, uids };
  }

  /** Test convenience: deliver a message as if from sync/import (no origin). */
  deliver(
    mailboxName: string,
    raw: string | Buffer,
    flags: string[] = [],
    internalDate = Date.now(),
  ): number {
    const info = this.getMailbox(mailboxName);
    if (!info) throw new MailboxNotFoundError(mailboxName);
    const b = this.box(info.id);
    const buf = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const m = this.insert(b, buf, flags, internalDate);
    this.emit(b, { kind: 'exists', uids: [m.uid], uidNext: b.uidNext, highestModseq: b.highestModseq });
    return m.uid;
  }

  storeFlags(
    id: MailboxId,
    uids: ArrayLike<number>,
    op: FlagOperation,
    flags: string[],
    unchangedSince?: number,
    origin?: ChangeOrigin,
  ): StoreFlagsResult {
    const b = this.box(id);
    const rows: FlagRow[] = [];
    const changed: FlagRow[] = [];
    const modified: number[] = [];
    for (const m of this.select(b, uids)) {
      if (unchangedSince !== undefined && m.modseq > unchangedSince) {
        modified.push(m.uid);
        continue;
      }
      const cur = lowerSet(m.flags);
      const next = op === 'replace' ? new Map<string, string>() : new Map(cur);
      if (op === 'remove') for (const f of flags) next.delete(f.toLowerCase());
      else for (const f of flags) if (!next.has(f.toLowerCase())) next.set(f.toLowerCase(), f);
      const same = next.size === cur.size && [...next.keys()].every((k) => cur.has(k));
      if (!same) {
        m.flags = [...next.values()];
        m.modseq = ++b.highestModseq;
        changed.push({ uid: m.uid, flags: [...m.flags], modseq: m.modseq });
      }
      rows.push({ uid: m.uid, flags: [...m.flags], modseq: m.modseq });
    }
    if (changed.length) {
      this.emit(b, {
        kind: 'flags',
        rows: changed,
        highestModseq: b.highestModseq,
        ...(origin ? { origin } : {}),
      });
    }
    return { rows, modified };
  }

  copy(id: MailboxId, uids: ArrayLike<number>, target: MailboxId, origin?: ChangeOrigin): CopyResult {
    const src = this.box(id);
    const dst = this.box(target);
    const pairs: Array<[number, number]> = [];
    for (const m of this.select(src, uids)) {
      const n = this.insert(dst, m.raw, m.flags, m.internalDate, m.emailId, m.threadId);
      pairs.push([m.uid, n.uid]);
    }
    if (pairs.length) {
      this.emit(dst, {
        kind: 'exists',
        uids: pairs.map((p) => p[1]),
        uidNext: dst.uidNext,
        highestModseq: dst.highestModseq,
        ...(origin ? { origin } : {}),
      });
    }
    return { uidValidity: dst.uidValidity, pairs };
  }

  move(id: MailboxId, uids: ArrayLike<number>, target: MailboxId, origin?: ChangeOrigin): CopyResult {
    const res = this.copy(id, uids, target, origin);
    const src = this.box(id);
    const gone = new Set(res.pairs.map((p) => p[0]));
    if (gone.size) {
      src.messages = src.messages.filter((m) => !gone.has(m.uid));
      src.highestModseq++;
      this.emit(src, {
        kind: 'expunge',
        uids: [...gone].sort((a, c) => a - c),
        highestModseq: src.highestModseq,
        ...(origin ? { origin } : {}),
      });
    }
    return res;
  }

  expunge(id: MailboxId, uids?: ArrayLike<number>, origin?: ChangeOrigin): number[] {
    const b = this.box(id);
    const limit = uids ? new Set<number>(Array.from(uids)) : null;
    const gone: number[] = [];
    b.messages = b.messages.filter((m) => {
      if (m.flags.includes('\\Deleted') && (!limit || limit.has(m.uid))) {
        gone.push(m.uid);
        return false;
      }
      return true;
    });
    if (gone.length) {
      b.highestModseq++;
      this.emit(b, {
        kind: 'expunge',
        uids: gone,
        highestModseq: b.highestModseq,
        ...(origin ? { origin } : {}),
      });
    }
    return gone;
  }
}

export class MemoryImapBackend implements ImapBackend {
  readonly accounts = new Map<string, MemoryAccount>();
  private readonly passwords: Record<string, string>;
  private uidValidity: number;
  readonly maxMessageSize: number | undefined;
  private readonly defaults: Array<{ name: string; specialUse?: SpecialUse }>;

  constructor(options: MemoryBackendOptions = {}) {
    this.passwords = options.users ?? { 'alice@example.test': 'secret' };
    this.uidValidity = options.uidValidityStart ?? 1000;
    this.maxMessageSize = options.maxMessageSize;
    this.defaults = options.defaultMailboxes ?? [
      { name: 'Drafts', specialUse: '\\Drafts' },
      { name: 'Sent', specialUse: '\\Sent' },
      { name: 'Trash', specialUse: '\\Trash' },
      { name: 'Junk', specialUse: '\\Junk' },
    ];
  }

  nextUidValidity(): number {
    return this.uidValidity++;
  }

  /** The account for a user (created on first use with INBOX and the default mailboxes). */
  account(username: string): MemoryAccount {
    let a = this.accounts.get(username);
    if (!a) {
      a = new MemoryAccount(this, username);
      this.accounts.set(username, a);
      // The defaults are subscribed, like a provider's (Dovecot's `auto = subscribe`).
      a.setSubscribed(a.createMailbox('INBOX').id, true);
      for (const d of this.defaults) a.setSubscribed(a.createMailbox(d.name, d.specialUse ?? null).id, true);
    }
    return a;
  }

  async authenticate(username: string, password: string): Promise<ImapAccount | null> {
    const expected = this.passwords[username];
    if (expected === undefined || expected !== password) return null;
    return this.account(username);
  }
}
