/**
 * SEARCH evaluation over a selected mailbox. Full-text keys go to the backend's index
 * (`searchText`); other keys are checked on rows read in batches — and no rows are read at all when
 * the program only needs UIDs, sequence numbers and text.
 */
import type { FetchWant, ImapAccount, MessageRow } from '../backend.ts';
import type { SearchKey } from './parse.ts';
import { clampRanges, resolveSequenceSet } from '../sequence.ts';
import { dayOf } from '../dates.ts';
import { filterHeader } from '../fetch/section.ts';
import { rfc5322WrittenDay } from '../../mime/date.ts';
import { ImapNoError } from '../errors.ts';

interface Needs {
  meta: boolean;
  headers: boolean;
  header: boolean;
  emailId: boolean;
  threadId: boolean;
}

function needs(k: SearchKey, n: Needs): void {
  switch (k.k) {
    case 'flag':
    case 'size':
    case 'modseq':
    case 'age':
      n.meta = true;
      break;
    case 'date':
      n.meta = true;
      if (k.of === 'sent') n.header = true;
      break;
    case 'addr':
      n.headers = true;
      break;
    case 'header':
      n.header = true;
      break;
    case 'emailid':
      n.emailId = true;
      break;
    case 'threadid':
      n.threadId = true;
      break;
    case 'not':
      needs(k.a, n);
      break;
    case 'or':
      needs(k.a, n);
      needs(k.b, n);
      break;
    case 'and':
      for (const i of k.items) needs(i, n);
      break;
    default:
  }
}

function collectText(k: SearchKey, out: Extract<SearchKey, { k: 'text' }>[]): void {
  if (k.k === 'text') out.push(k);
  else if (k.k === 'not') collectText(k.a, out);
  else if (k.k === 'or') {
    collectText(k.a, out);
    collectText(k.b, out);
  } else if (k.k === 'and') for (const i of k.items) collectText(i, out);
}

function collectSets(k: SearchKey, out: Extract<SearchKey, { k: 'seq' | 'uid' }>[]): void {
  if (k.k === 'seq' || k.k === 'uid') out.push(k);
  else if (k.k === 'not') collectSets(k.a, out);
  else if (k.k === 'or') {
    collectSets(k.a, out);
    collectSets(k.b, out);
  } else if (k.k === 'and') for (const i of k.items) collectSets(i, out);
}

function hasFlag(flags: string[], f: string): boolean {
  const lf = f.toLowerCase();
  for (const x of flags) if (x === f || x.toLowerCase() === lf) return true;
  return false;
}

function contains(hay: string, needle: string): boolean {
  return hay.toLowerCase().includes(needle.toLowerCase());
}

/**
 * The unfolded values of the fields in a header block (each after its name and colon; a line break
 * and the whitespace after it become one space), decoded as UTF-8. One pass over the bytes: a
 * regular expression anchored at every line start was quadratic on a folded header of a few
 * hundred KB, and a string per line cost 100 ms on a 2 MB one.
 */
function fieldValues(block: Buffer): string[] {
  const out: string[] = [];
  const buf = Buffer.allocUnsafe(block.length);
  const n = block.length;
  let i = 0;
  while (i < n) {
    // a field line: skip its name up to the colon
    let eol = block.indexOf(0x0a, i);
    if (eol < 0) eol = n;
    const colon = block.subarray(i, eol).indexOf(0x3a);
    if (colon < 0) {
      i = eol + 1;
      continue;
    }
    let at = 0;
    i += colon + 1;
    while (i < n) {
      const c = block[i]!;
      if (c === 0x0d || c === 0x0a) {
        let j = i + (c === 0x0d && block[i + 1] === 0x0a ? 2 : 1);
        const next = block[j];
        if (next !== 0x20 && next !== 0x09) {
          i = j;
          break;
        }
        while (block[j] === 0x20 || block[j] === 0x09) j++;
        buf[at++] = 0x20;
        i = j;
        continue;
      }
      buf[at++] = c;
      i++;
    }
    out.push(buf.toString('utf8', 0, at));
  }
  return out;
}

function dateMatch(op: 'before' | 'on' | 'since', d: number | null, day: number): boolean {
  if (d === null) return false;
  return op === 'before' ? d < day : op === 'on' ? d === day : d >= day;
}

/** RFC 3501 SENT*: the Date header's day as written, its time and time zone disregarded. */
function sentDay(row: MessageRow): number | null {
  if (!row.header) return null;
  const v = fieldValues(filterHeader(row.header, ['Date'], false))[0];
  return v === undefined ? null : rfc5322WrittenDay(v);
}

interface Env {
  recent: Set<number>;
  textSets: Map<SearchKey, Set<number>>;
  /** Per text key, the UIDs it could not be decided for (their bodies are not stored here). */
  unknownSets: Map<SearchKey, Set<number>>;
  setSets: Map<SearchKey, Set<number>>;
}

/**
 * Whether a message matches: true, false, or null when that depends on a text key that could not
 * be decided for it (three-valued: `OR` is true when either side is, `AND` false when any item is,
 * `NOT` of unknown is unknown).
 */
function test(k: SearchKey, uid: number, row: MessageRow | undefined, env: Env): boolean | null {
  switch (k.k) {
    case 'text':
      return env.textSets.get(k)!.has(uid) ? true : env.unknownSets.get(k)?.has(uid) ? null : false;
    case 'not': {
      const a = test(k.a, uid, row, env);
      return a === null ? null : !a;
    }
    case 'or': {
      const a = test(k.a, uid, row, env);
      if (a === true) return true;
      const b = test(k.b, uid, row, env);
      return b === true ? true : a === null || b === null ? null : false;
    }
    case 'and': {
      let unknown = false;
      for (const i of k.items) {
        const r = test(i, uid, row, env);
        if (r === false) return false;
        if (r === null) unknown = true;
      }
      return unknown ? null : true;
    }
    default:
      return testKnown(k, uid, row, env);
  }
}

/** test() for the keys that are always decided. */
function testKnown(
  k: Exclude<SearchKey, { k: 'text' | 'not' | 'or' | 'and' }>,
  uid: number,
  row: MessageRow | undefined,
  env: Env,
): boolean {
  switch (k.k) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'recent':
      return env.recent.has(uid);
    case 'flag':
      return hasFlag(row!.flags, k.flag) === k.has;
    case 'seq':
    case 'uid':
      return env.setSets.get(k)!.has(uid);
    case 'addr': {
      const h = row!.headers;
      if (!h) return false;
      return contains(h[k.field], k.value);
    }
    case 'header': {
      if (!row!.header) return false;
      const block = filterHeader(row!.header, [k.field], false);
      if (block.length <= 2) return false;
      if (k.value === '') return true;
      for (const value of fieldValues(block)) if (contains(value, k.value)) return true;
      return false;
    }
    case 'date':
      return dateMatch(
        k.op,
        k.of === 'sent' ? sentDay(row!) : dayOf(k.of === 'saved' ? row!.saveDate : row!.internalDate),
        k.day,
      );
    case 'age':
      return k.older ? row!.internalDate < k.cutoff : row!.internalDate >= k.cutoff;
    case 'size':
      return k.larger ? row!.size > k.n : row!.size < k.n;
    case 'modseq':
      return row!.modseq >= k.n;
    case 'emailid':
      return row!.emailId === k.id;
    case 'threadid':
      return row!.threadId === k.id;
  }
}

/**
 * The flag keys a key requires at its top level (itself, or items of a top-level AND), and the key
 * without them: every match must pass those, so a backend can narrow the candidates first.
 */
function splitFlagKeys(key: SearchKey): { has: string[]; lacks: string[]; rest: SearchKey } {
  const has: string[] = [];
  const lacks: string[] = [];
  const take = (k: SearchKey): boolean => {
    if (k.k !== 'flag') return false;
    (k.has ? has : lacks).push(k.flag);
    return true;
  };
  if (take(key)) return { has, lacks, rest: { k: 'all' } };
  if (key.k !== 'and') return { has, lacks, rest: key };
  const items = key.items.filter((i) => !take(i));
  return { has, lacks, rest: items.length === 0 ? { k: 'all' } : { k: 'and', items } };
}

/**
 * An address or subject key (`FROM x`, `SUBJECT x`...) the key requires at its top level (itself,
 * or an item of a top-level AND) whose value a header index can narrow by: printable ASCII of 3
 * characters or more (trigrams; ASCII folds the same in the index and in the exact check).
 */
function requiredAddrKey(key: SearchKey): Extract<SearchKey, { k: 'addr' }> | undefined {
  const usable = (k: SearchKey): k is Extract<SearchKey, { k: 'addr' }> =>
    k.k === 'addr' && /^[\x20-\x7e]{3,}$/.test(k.value);
  if (usable(key)) return key;
  if (key.k === 'and') return key.items.find(usable);
  return undefined;
}

export interface SearchResult {
  uids: number[];
  /** Highest modseq among matches (for the MODSEQ search response), 0 if unknown. */
  highestModseq: number;
  /**
   * Messages left out of `uids` because whether they match could not be decided: their bodies are
   * not stored here and the provider could not search them (offline, encrypted there). 0 if none.
   */
  unsearchable: number;
}

/**
 * Bounds of one SEARCH (also SORT and THREAD), checked before any work: beyond them the command is
 * answered `NO [LIMIT]`. 1,000 OR'ed BODY keys on 12 messages took 16.8 s; a real client sends a
 * handful of keys (Thunderbird's quick filter: 4 OR'ed keys per word).
 */
const SEARCH_LIMITS = {
  /** Keys of every kind (each node of the program). */
  keys: 1000,
  /** BODY / TEXT keys (each one a full-text lookup). */
  textKeys: 64,
  /** Full-text keys × messages searched (each a document checked in the worst case). */
  textCost: 2_000_000,
};

/** Work done between two yields to the event loop, so other clients and the servers go on. */
const SLICE_MS = 20;
/** Rows per read: the unit of work between two yield checks. */
const BATCH = 256;

class Slicer {
  #last = performance.now();
  readonly #alive: () => boolean;
  constructor(alive: () => boolean) {
    this.#alive = alive;
  }
  async breathe(): Promise<void> {
    if (performance.now() - this.#last < SLICE_MS) return;
    await new Promise((r) => setImmediate(r));
    this.#last = performance.now();
    // the client went away meanwhile: stop working for it
    if (!this.#alive()) throw new ImapNoError(null, 'Connection closed during the search');
  }
}

function countKeys(k: SearchKey): number {
  if (k.k === 'not') return 1 + countKeys(k.a);
  if (k.k === 'or') return 1 + countKeys(k.a) + countKeys(k.b);
  if (k.k === 'and') {
    let n = 1;
    for (const i of k.items) n += countKeys(i);
    return n;
  }
  return 1;
}

function checkCost(key: SearchKey, textKeys: number, messages: number): void {
  if (textKeys > SEARCH_LIMITS.textKeys)
    throw new ImapNoError(
      'LIMIT',
      `Search too complex: ${textKeys} BODY/TEXT keys (at most ${SEARCH_LIMITS.textKeys})`,
    );
  const keys = countKeys(key);
  if (keys > SEARCH_LIMITS.keys)
    throw new ImapNoError('LIMIT', `Search too complex: ${keys} keys (at most ${SEARCH_LIMITS.keys})`);
  if (textKeys * messages > SEARCH_LIMITS.textCost)
    throw new ImapNoError('LIMIT', 'Search too complex for this mailbox: use fewer BODY/TEXT keys');
}

export type Found = SearchResult & { rows?: Map<number, MessageRow> };

/** What a search reads of the selected mailbox (a `SelectedMailbox`). */
export interface SearchView {
  readonly account: ImapAccount;
  readonly id: string;
  /** The session's view: message n is `uids[n-1]`. */
  readonly uids: Uint32Array;
  /** \Recent in this session. */
  readonly recent: Set<number>;
  /** `$` (RFC 5182). */
  readonly saved: number[];
}

/**
 * The search among `candidates` (ascending UIDs of the view), as a generator that yields after
 * each unit of work (a full-text step of SLICE_MS, 256 rows, 1,024 checks) so that a driver can
 * give the event loop a turn there.
 */
function* searchSteps(
  sel: SearchView,
  key: SearchKey,
  among: Uint32Array | number[],
  extraWant: FetchWant,
  wait: boolean,
  alive: () => boolean,
): Generator<void | Promise<void>, Found> {
  const env: Env = { recent: sel.recent, textSets: new Map(), unknownSets: new Map(), setSets: new Map() };
  const all = sel.uids;
  const texts0: Extract<SearchKey, { k: 'text' }>[] = [];
  collectText(key, texts0);
  checkCost(key, texts0.length, among.length);
  // flag conditions every match needs: answered by the backend's index scan when it can, so
  // SEARCH UNSEEN / DELETED / FLAGGED ... read no rows (10x faster on 100k messages)
  let candidates: Uint32Array | number[] = among;
  let prog = key;
  const split = sel.account.withFlags ? splitFlagKeys(key) : null;
  if (split && (split.has.length || split.lacks.length)) {
    const narrowed = sel.account.withFlags!(sel.id, among, split.has, split.lacks);
    if (narrowed) {
      candidates = narrowed;
      prog = split.rest;
    }
  }
  // an address or subject every match needs: the backend's header index narrows the candidates
  // (SEARCH SUBJECT on a million messages read every row's headers: 6 s)
  const addr = sel.account.headerCandidates ? requiredAddrKey(prog) : undefined;
  if (addr && candidates.length > 0) {
    const kept: number[] = [];
    for (const found of sel.account.headerCandidates!(sel.id, addr.value, candidates, SLICE_MS)) {
      for (const u of found) kept.push(u);
      yield;
    }
    candidates = kept;
  }
  const n: Needs = { meta: false, headers: false, header: false, emailId: false, threadId: false };
  needs(prog, n);
  const texts: Extract<SearchKey, { k: 'text' }>[] = [];
  collectText(prog, texts);
  for (const t of texts) {
    const hits = new Set<number>();
    const undecided: number[] = [];
    // one search over all candidates, in steps of SLICE_MS (linear in the mailbox)
    for (const found of sel.account.searchText(sel.id, t.field, t.value, candidates, SLICE_MS, wait, (u) =>
      undecided.push(u),
    )) {
      if (!Array.isArray(found)) {
        yield found; // work off the event loop: the driver awaits it
        continue;
      }
      for (const u of found) hits.add(u);
      yield;
    }
    env.textSets.set(t, hits);
    if (undecided.length === 0) continue;
    // bodies not stored here: the backend asks the provider, where it can
    let unknown: readonly number[] = undecided;
    if (sel.account.searchMissingBodies) {
      const asked = sel.account.searchMissingBodies(sel.id, t.field, t.value, undecided, alive);
      // (it never rejects: a provider failure leaves them undecided)
      yield asked.then((r) => {
        for (const u of r.found) hits.add(u);
        unknown = r.failed;
      });
    }
    if (unknown.length) env.unknownSets.set(t, new Set(unknown));
  }
  const sets: Extract<SearchKey, { k: 'seq' | 'uid' }>[] = [];
  collectSets(prog, sets);
  for (const s of sets) {
    const r = resolveSequenceSet(
      s.k === 'uid' ? s.ranges : clampRanges(s.ranges, all.length),
      all,
      s.k === 'uid',
      sel.saved,
    );
    env.setSets.set(s, new Set(r));
  }
  // SORT reads its keys from the rows the search reads anyway
  const keepRows = Boolean(extraWant.headers || extraWant.header);
  const wantRows =
    n.meta || n.headers || n.header || n.emailId || n.threadId || keepRows || usesModseqFlag(prog);
  const out: number[] = [];
  let highest = 0;
  let unsearchable = 0;
  if (!wantRows) {
    for (let i = 0; i < candidates.length; i++) {
      const uid = candidates[i]!;
      const r = test(prog, uid, undefined, env);
      if (r) out.push(uid);
      else if (r === null) unsearchable++;
      if ((i & 1023) === 1023) yield;
    }
    return { uids: out, highestModseq: 0, unsearchable };
  }
  const want: FetchWant = {
    headers: n.headers || Boolean(extraWant.headers),
    header: n.header || Boolean(extraWant.header),
  };
  if (n.emailId) want.emailId = true;
  if (n.threadId) want.threadId = true;
  // the whole header block when the search reads it, else only the fields the caller asked for
  if (!n.header && extraWant.headerFields) want.headerFields = extraWant.headerFields;
  const rows = keepRows ? new Map<number, MessageRow>() : undefined;
  for (let i = 0; i < candidates.length; i += BATCH) {
    for (const row of sel.account.fetch(sel.id, candidates.slice(i, i + BATCH), want)) {
      const r = test(prog, row.uid, row, env);
      if (r) {
        out.push(row.uid);
        if (row.modseq > highest) highest = row.modseq;
        rows?.set(row.uid, row);
      } else if (r === null) unsearchable++;
    }
    yield;
  }
  const found: Found = { uids: out, highestModseq: highest, unsearchable };
  if (rows) found.rows = rows;
  return found;
}

/**
 * Runs a search over the selected view in slices: the event loop gets a turn every ~20 ms of work.
 * The selected view's UIDs do not change meanwhile (other sessions' changes are queued for this one).
 */
export async function runSearch(
  sel: SearchView,
  key: SearchKey,
  extraWant: FetchWant = {},
  alive: () => boolean = () => true,
): Promise<Found> {
  const slicer = new Slicer(alive);
  const steps = searchSteps(sel, key, sel.uids, extraWant, true, alive);
  try {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (r.value) await r.value;
      await slicer.breathe();
    }
  } finally {
    // a search given up (the client went away, an error) ends the backend's search too
    steps.return(undefined as never);
  }
}

/**
 * The same search among a few messages of the view, in steps: which of the messages a change
 * touched match a CONTEXT=SEARCH / CONTEXT=SORT program now (`among` ascending). A step may yield
 * a promise (the text of a big message derived off the event loop) for the caller to await before
 * the next step.
 */
export function searchAmongSteps(
  sel: SearchView,
  key: SearchKey,
  among: number[],
  extraWant: FetchWant = {},
): Generator<void | Promise<void>, Found> {
  return searchSteps(sel, key, among, extraWant, true, () => true);
}

function usesModseqFlag(k: SearchKey): boolean {
  return (
    k.k === 'modseq' ||
    (k.k === 'and' && k.items.some(usesModseqFlag)) ||
    (k.k === 'not' && usesModseqFlag(k.a)) ||
    (k.k === 'or' && (usesModseqFlag(k.a) || usesModseqFlag(k.b)))
  );
}
