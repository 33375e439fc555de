/**
 * What SEARCH and SORT answer with RETURN options: ESEARCH (RFC 4731) for SEARCH, ESORT (RFC 5267
 * §3) for SORT, SAVE (RFC 5182), and the MODSEQ of the returned messages (RFC 7162 §3.1.5).
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

const OPTIONS = new Set(['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE']);

/**
 * `RETURN (options)` at the start of `tokens`: the options (`()` means ALL) and the index after
 * them; null without RETURN.
 */
export function parseReturn(tokens: readonly ImapToken[]): { ret: Set<string>; next: number } | null {
  const first = tokens[0];
  if (!first || first.type !== 'atom' || first.value.toUpperCase() !== 'RETURN') return null;
  const opts = tokens[1];
  if (!opts || opts.type !== 'list') throw new ImapBadError('Invalid RETURN options');
  const ret = new Set<string>();
  for (const o of opts.items) {
    const v = o.type === 'atom' ? o.value.toUpperCase() : '';
    if (!OPTIONS.has(v)) throw new ImapBadError('Invalid RETURN option');
    ret.add(v);
  }
  if (ret.size === 0) ret.add('ALL');
  return { ret, next: 2 };
}

/** MIN and/or MAX alone (RFC 5182 §2.1: SAVE then keeps just those). */
function minMaxOnly(ret: Set<string>): boolean {
  return (ret.has('MIN') || ret.has('MAX')) && !ret.has('ALL') && !ret.has('COUNT');
}

/** The UIDs the answer names: the MIN / MAX ones alone, or every match. */
function returned(uids: readonly number[], ret: Set<string>): number[] {
  if (!minMaxOnly(ret)) return [...uids];
  const out: number[] = [];
  if (!uids.length) return out;
  if (ret.has('MIN')) out.push(uids[0]!);
  if (ret.has('MAX') && (uids.length > 1 || !ret.has('MIN'))) out.push(uids[uids.length - 1]!);
  return out;
}

/** The `$` a `RETURN (... SAVE)` keeps (RFC 5182 §2.1): UIDs ascending. */
function savedResult(uids: readonly number[], ret: Set<string>): number[] {
  return returned(uids, ret).sort((a, b) => a - b);
}

/**
 * RFC 7162 §3.1.5 / RFC 4731 §3.2: the highest mod-sequence of the messages *returned* — of the
 * MIN and/or MAX message when only those are asked for, of every match with ALL or COUNT
 * (`highest`, what the search read).
 */
function returnedModseq(
  sel: SelectedMailbox,
  uids: readonly number[],
  ret: Set<string> | null,
  highest: number,
): number {
  if (!ret || !minMaxOnly(ret)) return highest;
  let m = 0;
  for (const r of sel.account.fetch(sel.id, returned(uids, ret), {})) if (r.modseq > m) m = r.modseq;
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
  ret: Set<string>,
  modseq: number | null,
): string {
  let line = `* ESEARCH (TAG ${quoted(tag)})${uid ? ' UID' : ''}`;
  if (ids.length) {
    if (ret.has('MIN')) line += ` MIN ${ids[0]}`;
    if (ret.has('MAX')) line += ` MAX ${ids[ids.length - 1]}`;
  }
  if (ret.has('COUNT')) line += ` COUNT ${ids.length}`;
  if (ret.has('ALL') && ids.length) line += ` ALL ${compressUids(ids)}`;
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
  ret: Set<string>,
  modseq: boolean,
  highest: number,
): void {
  const save = ret.has('SAVE');
  if (save) sel.saved = savedResult(uids, ret);
  if (save && ret.size === 1) return;
  const ids = uid ? uids : uids.map((u) => sel.seqOf(u));
  w.line(esearchLine(tag, uid, ids, ret, modseq ? returnedModseq(sel, uids, ret, highest) : null));
}
