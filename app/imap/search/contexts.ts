/**
 * CONTEXT=SEARCH / CONTEXT=SORT updates (RFC 5267 §4.3): a SEARCH or SORT with `RETURN (UPDATE)`
 * leaves a context on the selected mailbox — its program, its order and its current result — and
 * every change the session is told of is followed by what it did to the result: untagged
 * `ESEARCH (TAG "t") [UID] ADDTO (...)` / `REMOVEFROM (...)`, until CANCELUPDATE or the mailbox is
 * closed.
 *
 * - Expunged members are removed BEFORE the EXPUNGE / VANISHED that announces them (their message
 *   numbers are still valid then); new matches are added AFTER the EXISTS (§4.3.3, §4.3.4).
 * - New messages and messages whose flags (or mod-sequence) changed are searched again with the
 *   same program (`searchAmongSteps`); nothing else about a message changes while it is in the
 *   mailbox. That is done in slices of about 20 ms (a BODY key reads and decodes each message
 *   again): what is left waits in a backlog, and the session calls `catchUp` again once the event
 *   loop had a turn, or once the text of a big message is derived off the event loop (`waiting`:
 *   300-400 ms of CPU for the first MiB of a message of 14,000 parts or of a 20 MB HTML one).
 *   Untagged ESEARCH may come at any time; numbers are taken when a line is written.
 * - A SEARCH context is kept in mailbox order and says position 0; a SORT context is kept in the
 *   requested order and says where each run of changed results sits (§4.3.2).
 * - A program whose result changes without a mailbox change — message numbers, `$`, a UID set
 *   with `*`, YOUNGER / OLDER — gets no context: `* NO [NOUPDATE "t"]`, the rest of the answer as usual (§4.3.1). So
 *   does a ninth context of one session.
 */
import type { SearchKey } from './parse.ts';
import { searchAmongSteps } from './evaluate.ts';
import type { Found, SearchView } from './evaluate.ts';
import { sortComparator, sortEntry, sortWant } from './sort-order.ts';
import type { SortEntry, SortKey } from './sort-order.ts';
import { compressUids, isSaved } from '../sequence.ts';
import { quoted } from '../format.ts';
import { ImapBadError } from '../errors.ts';
import type { ResponseWriter } from '../writer.ts';

/** The selected mailbox as contexts see it: a `SelectedMailbox`. */
interface View extends SearchView {
  seqOf(uid: number): number;
}

/** Updating contexts one session may hold (RFC 5267 §4.3.1: at least one). */
const MAX_CONTEXTS = 8;
/** Work on the backlog between two turns of the event loop, and the messages checked at a time. */
const SLICE_MS = 20;
const CHUNK = 32;

interface Context {
  tag: string;
  uid: boolean;
  key: SearchKey;
  /** SORT criteria; null for a SEARCH context (mailbox order). */
  sort: SortKey[] | null;
  /** The current result in result order. */
  entries: SortEntry[];
}

function movesWithStar([a, b]: [number, number]): boolean {
  return (a < 0 || b < 0) && a !== 1 && b !== 1;
}

/** Why a program cannot be kept up to date by looking at changed messages only, or null. */
function changesByItself(k: SearchKey): string | null {
  switch (k.k) {
    case 'seq':
      return 'message numbers';
    case 'uid':
      // `*` is the highest UID, which new and expunged messages move: `UID 5:*` names the last
      // message alone while no UID reaches 5 (`1:*` is every message, whatever `*` is)
      return isSaved(k.ranges) ? '$' : k.ranges.some(movesWithStar) ? 'UID *' : null;
    case 'age':
      return 'YOUNGER / OLDER';
    case 'not':
      return changesByItself(k.a);
    case 'or':
      return changesByItself(k.a) ?? changesByItself(k.b);
    case 'and':
      for (const i of k.items) {
        const r = changesByItself(i);
        if (r) return r;
      }
      return null;
    default:
      return null;
  }
}

/** `pos set pos set ...` for runs of consecutive entries (positions as the client applies them). */
function runs(
  list: readonly SortEntry[],
  picked: (e: SortEntry) => boolean,
  ids: (e: SortEntry) => number,
  removing: boolean,
): string {
  const parts: string[] = [];
  let done = 0;
  for (let i = 0; i < list.length;) {
    if (!picked(list[i]!)) {
      i++;
      continue;
    }
    const start = i;
    const run: number[] = [];
    while (i < list.length && picked(list[i]!)) run.push(ids(list[i++]!));
    // removals shift later positions down by what was removed before
    parts.push(`${start + 1 - (removing ? done : 0)} ${compressUids(run)}`);
    done += run.length;
  }
  return parts.join(' ');
}

export class UpdateContexts {
  readonly #byTag = new Map<string, Context>();
  /** Messages of the view to search again (new, or their flags changed). */
  readonly #backlog = new Set<number>();
  /** The backlog ascending, from `#next` on (sorted again only when messages were added to it). */
  #queue: number[] = [];
  #next = 0;
  /** A chunk of the backlog being searched again: the contexts still to do, the current one's steps. */
  #work: { chunk: number[]; todo: Context[]; steps: Generator<void | Promise<void>, Found> | null } | null =
    null;
  /** Set while the current step waits for work off the event loop. */
  #waiting: Promise<void> | null = null;

  get size(): number {
    return this.#byTag.size;
  }

  /** RFC 5267 §4.3: UPDATE under a tag whose context still runs is BAD. */
  checkTag(tag: string): void {
    if (this.#byTag.has(tag)) throw new ImapBadError('Tag reuse');
  }

  /**
   * Keep a context for `tag` (`entries`: its result in result order, with the sort values for
   * SORT); returns why it cannot, for `* NO [NOUPDATE]`, or null.
   */
  add(
    tag: string,
    uid: boolean,
    key: SearchKey,
    sort: SortKey[] | null,
    entries: SortEntry[],
  ): string | null {
    const why = changesByItself(key);
    if (why) return `No updates for a search by ${why}`;
    if (this.#byTag.size >= MAX_CONTEXTS) return 'Too many contexts';
    this.#byTag.set(tag, { tag, uid, key, sort, entries });
    return null;
  }

  /** CANCELUPDATE (RFC 5267 §4.3.5). */
  cancel(tag: string): void {
    this.#byTag.delete(tag);
    if (this.#byTag.size === 0) {
      this.#backlog.clear();
      this.#queue = [];
      this.#work?.steps?.return(undefined as never);
      this.#work = null;
    }
  }

  /**
   * Messages are still to be searched again: call `catchUp` after the event loop had a turn (after
   * `waiting` when set).
   */
  get behind(): boolean {
    return this.#backlog.size > 0 || this.#work !== null;
  }

  /** Work off the event loop the next `catchUp` needs done first, or null. */
  get waiting(): Promise<void> | null {
    return this.#waiting;
  }

  /** Before the expunge of `gone` is told: REMOVEFROM for the members among them. */
  expunging(w: ResponseWriter, sel: View, gone: ReadonlySet<number>): void {
    for (const c of this.#byTag.values()) {
      if (!c.entries.some((e) => gone.has(e.uid))) continue;
      this.#remove(w, sel, c, (e) => gone.has(e.uid));
    }
  }

  /**
   * `uids` are new (their EXISTS was told: ADDTO for those that match) or their flags changed
   * (REMOVEFROM / ADDTO as they match now): search them again, for about 20 ms; see `behind`.
   */
  recheck(w: ResponseWriter, sel: View, uids: Iterable<number>): void {
    const before = this.#backlog.size;
    for (const u of uids) this.#backlog.add(u);
    if (this.#backlog.size !== before) {
      this.#queue = [...this.#backlog].sort((a, b) => a - b);
      this.#next = 0;
    }
    this.catchUp(w, sel);
  }

  /**
   * Search the backlog again, a chunk at a time, until it is done, ~20 ms have passed or a step
   * waits for work off the event loop (`waiting`).
   */
  catchUp(w: ResponseWriter, sel: View): void {
    if (this.#waiting) return;
    const started = performance.now();
    while (performance.now() - started < SLICE_MS) {
      if (!this.#work) {
        const chunk: number[] = [];
        while (chunk.length < CHUNK && this.#next < this.#queue.length) {
          const u = this.#queue[this.#next++]!;
          // expunged and told meanwhile: no longer in any result
          if (this.#backlog.delete(u) && sel.seqOf(u) > 0) chunk.push(u);
        }
        if (this.#next >= this.#queue.length) this.#backlog.clear();
        if (!chunk.length) {
          if (!this.#backlog.size) return;
          continue;
        }
        this.#work = { chunk, todo: [...this.#byTag.values()], steps: null };
      }
      const job = this.#work;
      const c = job.todo[0];
      if (!c) {
        this.#work = null;
        continue;
      }
      job.steps ??= searchAmongSteps(sel, c.key, job.chunk, c.sort ? sortWant(c.sort) : {});
      const r = job.steps.next();
      if (r.done) {
        job.todo.shift();
        job.steps = null;
        // a context cancelled meanwhile is left as it is
        if (this.#byTag.get(c.tag) === c) this.#update(w, sel, c, job.chunk, r.value);
      } else if (r.value) {
        const done = (): void => void (this.#waiting = null);
        this.#waiting = r.value.then(done, done);
        return;
      }
    }
  }

  /** `chunk` (ascending) searched again for `c` (`found`): what left and what joined its result. */
  #update(w: ResponseWriter, sel: View, c: Context, chunk: number[], found: Found): void {
    // messages expunged (and told) while the search waited are in no result any more
    const inView = (u: number): boolean => sel.seqOf(u) > 0;
    const now = new Set(found.uids.filter(inView));
    const members = new Set(c.entries.map((e) => e.uid));
    const leaving = new Set(chunk.filter((u) => members.has(u) && !now.has(u)));
    if (leaving.size) this.#remove(w, sel, c, (e) => leaving.has(e.uid));
    const coming = found.uids
      .filter((u) => now.has(u) && !members.has(u))
      .map((u) => sortEntry(u, found.rows?.get(u), c.sort ?? []));
    if (coming.length) this.#insert(w, sel, c, coming);
  }

  #ids(sel: View, c: Context): (e: SortEntry) => number {
    return c.uid ? (e) => e.uid : (e) => sel.seqOf(e.uid);
  }

  #line(c: Context, item: string): string {
    return `* ESEARCH (TAG ${quoted(c.tag)})${c.uid ? ' UID' : ''} ${item}`;
  }

  #remove(w: ResponseWriter, sel: View, c: Context, picked: (e: SortEntry) => boolean): void {
    const ids = this.#ids(sel, c);
    const pairs = c.sort
      ? runs(c.entries, picked, ids, true)
      : `0 ${compressUids(c.entries.filter(picked).map(ids))}`;
    c.entries = c.entries.filter((e) => !picked(e));
    w.line(this.#line(c, `REMOVEFROM (${pairs})`));
  }

  #insert(w: ResponseWriter, sel: View, c: Context, fresh: SortEntry[]): void {
    const ids = this.#ids(sel, c);
    const cmp = c.sort ? sortComparator(c.sort) : (a: SortEntry, b: SortEntry) => a.uid - b.uid;
    const isNew = new Set(fresh.map((e) => e.uid));
    c.entries = [...c.entries, ...fresh].sort(cmp);
    const pairs = c.sort
      ? runs(c.entries, (e) => isNew.has(e.uid), ids, false)
      : `0 ${compressUids(fresh.sort(cmp).map(ids))}`;
    w.line(this.#line(c, `ADDTO (${pairs})`));
  }
}
