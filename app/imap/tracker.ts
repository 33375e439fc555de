/**
 * The per-connection view of a selected mailbox: its sequence-number → UID map and the queue of
 * changes (from the backend's change feed) not yet told to the client.
 *
 * RFC 3501 §7.4.1 / RFC 9051 §7.5.1: EXISTS and FETCH FLAGS may be sent after any command, EXPUNGE
 * only when the client can cope with renumbering — never while answering FETCH, STORE or SEARCH
 * (and SORT/THREAD) in their sequence-number forms, never when no command is in progress (except
 * during IDLE). Until an expunge is told, the expunged message stays in this view as a "ghost"
 * (fetches simply skip it), so sequence numbers the client knows keep their meaning.
 */
import type { ChangeOrigin, ImapAccount, MailboxChange, MailboxInfo, MailboxSnapshot } from './backend.ts';
import type { ResponseWriter } from './writer.ts';
import { flagList } from './format.ts';
import { compressUids } from './sequence.ts';
import { SYSTEM_FLAGS } from './flags.ts';
import { RecentClaims } from './recent.ts';
import { UpdateContexts } from './search/contexts.ts';

export class SelectedMailbox {
  readonly account: ImapAccount;
  readonly id: string;
  info: MailboxInfo;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /**
   * Sequence view: uids[seq-1] = UID, ascending. Copy-on-write: at SELECT it is the backend's
   * array, shared with every other session on the mailbox and never written; the first change
   * this session tells its client gives it an array of its own (`#own`, with room to grow).
   */
  uids: Uint32Array;
  #own: Uint32Array | null = null;
  /** The mailbox was deleted or renumbered: the session must end. */
  reset: 'deleted' | 'uidvalidity' | null = null;
  #pending: MailboxChange[] = [];
  readonly #origin: ChangeOrigin;
  #unwatch: () => void;
  /** Called whenever a change is queued (IDLE pushes at once). */
  onChange: (() => void) | null = null;
  /** Flags changed by others, not yet told: uid → the newest {flags, modseq}. */
  readonly #flagUpdates = new Map<number, { flags: readonly string[]; modseq: number }>();

  /** The SEARCHRES result `$` (RFC 5182), as UIDs; empty at SELECT. */
  saved: number[] = [];
  /** CONTEXT=SEARCH / CONTEXT=SORT results kept up to date (RFC 5267 §4.3); end with the selection. */
  readonly contexts = new UpdateContexts();
  /** Messages whose flags changed (any session) since the contexts last looked. */
  readonly #contextDirty = new Set<number>();
  /** UIDs that are \Recent in this session (RFC 3501 §2.3.2). */
  readonly recent = new Set<number>();
  /** Null in an IMAP4rev2 session: it has no \Recent, claims none and is told no RECENT. */
  #claims: RecentClaims | null;
  readonly #recentKey: string;

  constructor(
    account: ImapAccount,
    id: string,
    readOnly: boolean,
    origin: ChangeOrigin,
    claims: RecentClaims | null,
    keywords: readonly string[] = [],
  ) {
    this.account = account;
    this.id = id;
    this.readOnly = readOnly;
    this.#origin = origin;
    this.#claims = claims;
    this.#recentKey = RecentClaims.key(account.username, id);
    // watch + open in the same tick: consistent (backend contract).
    this.#unwatch = account.watch(id, (c) => this.#queue(c));
    let snap: MailboxSnapshot;
    try {
      snap = account.openMailbox(id);
    } catch (err) {
      this.#unwatch();
      throw err;
    }
    this.info = snap.info;
    this.uidValidity = snap.uidValidity;
    this.uidNext = snap.uidNext;
    this.highestModseq = snap.highestModseq;
    this.uids = snap.uids;
    this.firstUnseenUid = snap.firstUnseenUid;
    if (claims) for (const u of claims.open(this.#recentKey, snap.uids, !readOnly)) this.recent.add(u);
    for (const k of keywords) this.#keywords.set(k.toLowerCase(), k);
  }

  /** The session switched to IMAP4rev2 (ENABLE while selected): no \Recent from now on. */
  stopRecent(): void {
    this.#claims = null;
    this.recent.clear();
  }

  /** Flags as this session shows them: with \Recent for its recent messages. */
  shown<F extends readonly string[]>(uid: number, flags: F): F | string[] {
    return this.recent.size && this.recent.has(uid) ? [...flags, '\\Recent'] : flags;
  }

  readonly firstUnseenUid: number | null;

  close(): void {
    this.#unwatch();
    this.#unwatch = () => {};
    this.onChange = null;
  }

  get exists(): number {
    return this.uids.length;
  }

  #queue(c: MailboxChange): void {
    if (c.kind === 'reset') {
      this.reset = c.reason;
    } else if (c.kind === 'flags') {
      if (c.highestModseq > this.highestModseq) this.highestModseq = c.highestModseq;
      // also while a search that may leave a context runs: it is checked again at the next flush
      for (const r of c.rows) this.#contextDirty.add(r.uid);
      // Our own STORE answered already (or replaced what was queued, see `told`).
      if (c.origin === this.#origin) return;
      // Only the newest state of each message is kept: what is told is never older than what was.
      for (const r of c.rows) {
        const q = this.#flagUpdates.get(r.uid);
        if (!q || q.modseq < r.modseq) this.#flagUpdates.set(r.uid, { flags: r.flags, modseq: r.modseq });
      }
    } else this.#pending.push(c);
    this.onChange?.();
  }

  get hasPending(): boolean {
    return this.#pending.length > 0 || this.#flagUpdates.size > 0 || this.reset !== null;
  }

  /**
   * The client was just told (or, with `silent`, implicitly knows) the flags of `uid` as of
   * `modseq`. A queued update that is not newer would be stale news (RFC 7162 §3.1: MODSEQ never
   * goes backwards): it is dropped, or — when the client was not told the flags — replaced by
   * the current state so that what it hears last is true.
   */
  told(uid: number, flags: readonly string[], modseq: number, silent: boolean): void {
    const q = this.#flagUpdates.get(uid);
    if (!q || q.modseq > modseq) return;
    if (silent) this.#flagUpdates.set(uid, { flags, modseq });
    else this.#flagUpdates.delete(uid);
  }

  /** True when queued flag updates exist (FETCH then checks each row it writes). */
  get hasFlagUpdates(): boolean {
    return this.#flagUpdates.size > 0;
  }

  /** Keywords announced so far (lower case → as first seen). */
  readonly #keywords = new Map<string, string>();

  /**
   * RFC 3501 §7.2.6: a keyword must be in a FLAGS response before a FETCH carries it. Keywords are
   * announced the first time this session is about to send one (SELECT lists the system flags, and
   * in an IMAP4rev2 session the keywords of RFC 9051 §2.3.2).
   */
  announceKeywords(w: ResponseWriter, flags: readonly string[]): void {
    let added = false;
    for (const f of flags) {
      if (f.startsWith('\\')) continue;
      const k = f.toLowerCase();
      if (this.#keywords.has(k)) continue;
      this.#keywords.set(k, f);
      added = true;
    }
    if (added) writeFlagsResponses(w, [...this.#keywords.values()], this.readOnly);
  }

  /** Add new UIDs (ascending) at the end of the view, skipping any not above the last one. */
  #appendUids(add: readonly number[]): void {
    const n = this.uids.length;
    let last = n ? this.uids[n - 1]! : 0;
    let buf = this.#own;
    if (!buf || buf.buffer !== this.uids.buffer || buf.length < n + add.length) {
      buf = new Uint32Array(n + add.length + (n >> 3) + 16);
      buf.set(this.uids);
      this.#own = buf;
    }
    let len = n;
    for (const u of add) {
      if (u > last) {
        buf[len++] = u;
        last = u;
      }
    }
    this.uids = buf.subarray(0, len);
  }

  /** Sequence number of a UID in the current view, or 0. */
  seqOf(uid: number): number {
    const a = this.uids;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /**
   * Tell the client about queued changes. With `allowExpunge` false, expunges stay queued (and
   * their messages stay in the view as ghosts) while EXISTS and FLAGS are told. A message added
   * and expunged before the client heard of it is never mentioned (an EXPUNGE may only name a
   * message the client was told exists).
   */
  flush(w: ResponseWriter, allowExpunge: boolean, condstore: boolean, vanished = false): void {
    if (this.#pending.length) this.#flushMembership(w, allowExpunge, vanished);
    if (this.#flagUpdates.size) {
      const updates = [...this.#flagUpdates];
      this.#flagUpdates.clear();
      for (const [uid, f] of updates) {
        const seq = this.seqOf(uid);
        if (!seq) continue;
        this.announceKeywords(w, f.flags);
        w.line(
          `* ${seq} FETCH (UID ${uid} FLAGS ${flagList(this.shown(uid, f.flags))}${condstore ? ` MODSEQ (${f.modseq})` : ''})`,
        );
      }
    }
    if (this.#contextDirty.size) {
      const dirty = [...this.#contextDirty];
      this.#contextDirty.clear();
      if (this.contexts.size) {
        const changed = dirty.filter((u) => this.seqOf(u) > 0);
        if (changed.length) this.contexts.recheck(w, this, changed);
      }
    }
  }

  /** With `vanished` (QRESYNC enabled), expunges are told as one `* VANISHED uids` (RFC 7162 §3.2.10). */
  #flushMembership(w: ResponseWriter, allowExpunge: boolean, vanished: boolean): void {
    const keep: MailboxChange[] = [];
    const gone = new Set<number>();
    for (const c of this.#pending) if (c.kind === 'expunge') for (const u of c.uids) gone.add(u);
    const expunged = new Set<number>();
    const added: number[] = [];
    for (const c of this.#pending) {
      if (c.kind === 'expunge') {
        if (allowExpunge) {
          for (const u of c.uids) expunged.add(u);
          if (c.highestModseq > this.highestModseq) this.highestModseq = c.highestModseq;
        } else keep.push(c);
      } else if (c.kind === 'exists') {
        for (const u of c.uids) if (!gone.has(u)) added.push(u);
        if (c.uidNext > this.uidNext) this.uidNext = c.uidNext;
      }
    }
    this.#pending = keep;
    if (expunged.size) {
      // RFC 5267 §4.3.4: REMOVEFROM before the expunge is told, while the numbers still hold.
      if (this.contexts.size) this.contexts.expunging(w, this, expunged);
      // Descending order: each EXPUNGE renumbers only later messages.
      const gone: number[] = [];
      for (let seq = this.uids.length; seq >= 1; seq--) {
        const uid = this.uids[seq - 1]!;
        if (expunged.has(uid)) {
          if (!vanished) w.line(`* ${seq} EXPUNGE`);
          this.#flagUpdates.delete(uid);
          this.recent.delete(uid);
          gone.push(uid);
        }
      }
      if (vanished && gone.length) w.line(`* VANISHED ${compressUids(gone.reverse())}`);
      if (gone.length) {
        this.#own = this.uids.filter((u) => !expunged.has(u));
        this.uids = this.#own;
      }
    }
    if (added.length) {
      const before = this.uids.length;
      this.#appendUids(added);
      if (this.uids.length !== before) {
        w.line(`* ${this.uids.length} EXISTS`);
        const told = Array.from(this.uids.subarray(before));
        if (this.#claims) {
          for (const u of this.#claims.claim(this.#recentKey, told, !this.readOnly)) this.recent.add(u);
          w.line(`* ${this.recent.size} RECENT`);
        }
        // RFC 5267 §4.3.3: ADDTO after the EXISTS that makes the numbers valid.
        if (this.contexts.size) this.contexts.recheck(w, this, told);
      }
    }
  }
}

/** `* FLAGS` and `* OK [PERMANENTFLAGS]` for the system flags plus `keywords`. */
export function writeFlagsResponses(w: ResponseWriter, keywords: readonly string[], readOnly: boolean): void {
  const flags = [...SYSTEM_FLAGS, ...keywords].join(' ');
  w.line(`* FLAGS (${flags})`);
  w.line(
    readOnly
      ? '* OK [PERMANENTFLAGS ()] Read-only mailbox.'
      : `* OK [PERMANENTFLAGS (${flags} \\*)] Flags permitted.`,
  );
}
