/**
 * What SEARCH and SORT answer with RETURN options: ESEARCH (RFC 4731) for SEARCH, ESORT (RFC 5267
 * §3) for SORT, PARTIAL (RFC 5267 §4.4), SAVE (RFC 5182), and the MODSEQ of the returned messages
 * (RFC 7162 §3.1.5). UPDATE and CONTEXT are kept for the caller (search/contexts.ts).
 *
 * Results are passed in result order: ascending for SEARCH, the requested order for SORT. MIN and
 * MAX are the first and last of that order (RFC 5267 §3.1: the lowest / highest *sorted* message),
 * ALL keeps it (ranges only where the numbers ascend by one, RFC 5267 §3.2).
 */
import type { ImapToken } from '../wire/types.ts';
import { ImapBadError } from '../errors.ts';
import { compressUids } from '../sequence.ts';
import { quoted } from '../format.ts';
import type { SelectedMailbox } from '../tracker.ts';
import type { ResponseWriter } from '../writer.ts';
import type { Completion } from '../command.ts';
import type { SearchKey } from './parse.ts';
import type { SortEntry, SortKey } from './sort-order.ts';

const OPTIONS = new Set(['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE', 'CONTEXT', 'UPDATE']);

export interface ReturnOptions {
  /** MIN MAX COUNT ALL (RFC 4731), SAVE (RFC 5182), CONTEXT and UPDATE (RFC 5267 §4.2, §4.3). */
  opts: Set<string>;
  /** `PARTIAL lo:hi` (RFC 5267 §4.4): 1-based positions in the result, lo <= hi; or null. */
  partial: [number, number] | null;
}

/**
 * `RETURN (options)` at the start of `tokens`: the options (`()` means ALL) and the index after
 * them; null without RETURN.
 */
export function parseReturn(tokens: readonly ImapToken[]): { ret: ReturnOptions; next: number } | null {
  const first = tokens[0];
  if (!first || first.type !== 'atom' || first.value.toUpperCase() !== 'RETURN') return null;
  const list = tokens[1];
  if (!list || list.type !== 'list') throw new ImapBadError('Invalid RETURN options');
  const ret: ReturnOptions = { opts: new Set(), partial: null };
  const items = list.items;
  for (let i = 0; i < items.length; i++) {
    const o = items[i]!;
    const v = o.type === 'atom' ? o.value.toUpperCase() : '';
    if (v === 'PARTIAL') {
      const r = items[++i];
      const m = r?.type === 'atom' ? /^([1-9]\d{0,9}):([1-9]\d{0,9})$/.exec(r.value) : null;
      if (!m || ret.partial) throw new ImapBadError('Invalid PARTIAL range');
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a > 0xffffffff || b > 0xffffffff) throw new ImapBadError('Invalid PARTIAL range');
      ret.partial = a <= b ? [a, b] : [b, a];
    } else if (OPTIONS.has(v)) ret.opts.add(v);
    else throw new ImapBadError('Invalid RETURN option');
  }
  // RFC 5267 §4.4: one PARTIAL or one ALL, not both.
  if (ret.partial && ret.opts.has('ALL')) throw new ImapBadError('PARTIAL and ALL cannot be combined');
  if (ret.opts.size === 0 && !ret.partial) ret.opts.add('ALL');
  return { ret, next: 2 };
}

/**
 * The UIDs the answer names (RFC 5182 §2.1: SAVE keeps just those): every match with ALL or
 * COUNT, or when no MIN / MAX / PARTIAL narrows it; else the MIN, MAX and PARTIAL ones.
 */
function returned(uids: readonly number[], ret: ReturnOptions): number[] | null {
  const o = ret.opts;
  if (o.has('ALL') || o.has('COUNT') || !(o.has('MIN') || o.has('MAX') || ret.partial)) return null;
  const out = new Set<number>();
  if (uids.length && o.has('MIN')) out.add(uids[0]!);
  if (uids.length && o.has('MAX')) out.add(uids[uids.length - 1]!);
  if (ret.partial) for (const u of uids.slice(ret.partial[0] - 1, ret.partial[1])) out.add(u);
  return [...out];
}

/** The `$` a `RETURN (... SAVE)` keeps: UIDs ascending. */
function savedResult(uids: readonly number[], ret: ReturnOptions): number[] {
  return (returned(uids, ret) ?? [...uids]).sort((a, b) => a - b);
}

/**
 * RFC 7162 §3.1.5 / RFC 4731 §3.2: the highest mod-sequence of the messages *returned* — of the
 * MIN and/or MAX message when only those are asked for, of every match with ALL or COUNT
 * (`highest`, what the search read).
 */
function returnedModseq(
  sel: SelectedMailbox,
  uids: readonly number[],
  ret: ReturnOptions,
  highest: number,
): number {
  const some = returned(uids, ret);
  if (!some) return highest;
  let m = 0;
  for (const r of sel.account.fetch(sel.id, some, {})) if (r.modseq > m) m = r.modseq;
  return m;
}

/**
 * `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]`; `ids` are what the
 * client is told (UIDs or message numbers) in result order, `modseq` null unless MODSEQ was used.
 */
function esearchLine(
  tag: string,
  uid: boolean,
  ids: readonly number[],
  ret: ReturnOptions,
  modseq: number | null,
): string {
  const o = ret.opts;
  let line = `* ESEARCH (TAG ${quoted(tag)})${uid ? ' UID' : ''}`;
  if (ids.length) {
    if (o.has('MIN')) line += ` MIN ${ids[0]}`;
    if (o.has('MAX')) line += ` MAX ${ids[ids.length - 1]}`;
  }
  if (o.has('COUNT')) line += ` COUNT ${ids.length}`;
  if (o.has('ALL') && ids.length) line += ` ALL ${compressUids(ids)}`;
  if (ret.partial) {
    const [a, b] = ret.partial;
    const part = ids.slice(a - 1, b);
    line += ` PARTIAL (${a}:${b} ${part.length ? compressUids(part) : 'NIL'})`;
  }
  if (modseq !== null && ids.length) line += ` MODSEQ ${modseq}`;
  return line;
}

/**
 * Answer a SEARCH or SORT that has RETURN options: SAVE keeps `$`, then the ESEARCH line unless
 * SAVE was the only option. `uids` in result order; `modseq` when a MODSEQ key was used, with
 * `highest` the highest mod-sequence of all matches.
 */
export function writeReturn(
  w: ResponseWriter,
  sel: SelectedMailbox,
  tag: string,
  uid: boolean,
  uids: readonly number[],
  ret: ReturnOptions,
  modseq: boolean,
  highest: number,
): void {
  const save = ret.opts.has('SAVE');
  if (save) sel.saved = savedResult(uids, ret);
  // SAVE alone: no ESEARCH response (RFC 5182 §2.1)
  if (save && ret.opts.size === 1 && !ret.partial) return;
  const ids = uid ? uids : uids.map((u) => sel.seqOf(u));
  w.line(esearchLine(tag, uid, ids, ret, modseq ? returnedModseq(sel, uids, ret, highest) : null));
}

/**
 * `RETURN (UPDATE)` (RFC 5267 §4.3): keep the result up to date, or say why not (`* NO
 * [NOUPDATE "tag"]`, the command still succeeds).
 */
export function keepUpdated(
  w: ResponseWriter,
  sel: SelectedMailbox,
  tag: string,
  uid: boolean,
  key: SearchKey,
  sort: SortKey[] | null,
  entries: SortEntry[],
): Completion | undefined {
  const refused = sel.contexts.add(tag, uid, key, sort, entries);
  if (!refused) return undefined;
  w.line(`* NO [NOUPDATE ${quoted(tag)}] ${refused}`);
  return { text: 'Completed, will not notify.' };
}

/**
 * The tagged OK of a search (SEARCH, SORT, THREAD) that left `unsearchable` messages out
 * (SearchResult.unsearchable) — `command completed (2 messages could not be searched: ...)`, or
 * `done`'s text with the same note —; `done` as it is when none was left out.
 */
export function noteUnsearchable(
  command: string,
  unsearchable: number,
  done?: Completion,
): Completion | undefined {
  if (unsearchable === 0) return done;
  const one = unsearchable === 1;
  const note =
    `${unsearchable} message${one ? '' : 's'} could not be searched: ` +
    `${one ? 'its body is' : 'their bodies are'} not stored here and the provider cannot search ${one ? 'it' : 'them'}`;
  const base = (done?.text ?? `${command} completed`).replace(/\.$/, '');
  return { ...done, text: `${base} (${note})` };
}
