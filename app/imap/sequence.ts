/**
 * Sequence sets (`1:3,5,7:*`) resolved against a selected mailbox's view, in message-number or UID
 * form (RFC 3501 §9 sequence-set; §6.4.8: `*` is the largest number in use, ranges are unordered,
 * so `UID FETCH 100:*` with highest UID 90 returns UID 90).
 */
import { ImapBadError } from './errors.ts';

/** -1 stands for `*`. */
export type SeqRange = [number, number];

/** `$` (RFC 5182 SEARCHRES): the saved search result, as parsed; see `isSaved`. */
const SAVED: SeqRange = [-2, -2];

export function isSaved(ranges: SeqRange[]): boolean {
  return ranges.length === 1 && ranges[0] === SAVED;
}

export function parseSequenceSet(s: string): SeqRange[] {
  if (s === '$') return [SAVED];
  if (!s || s.length > 1_000_000) throw new ImapBadError('Invalid sequence set');
  const out: SeqRange[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+|\*)(?::(\d+|\*))?$/.exec(part);
    if (!m) throw new ImapBadError('Invalid sequence set');
    const a = m[1] === '*' ? -1 : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === '*' ? -1 : Number(m[2]);
    if (a === 0 || b === 0 || a > 0xffffffff || b > 0xffffffff)
      throw new ImapBadError('Invalid sequence set');
    out.push([a, b]);
  }
  return out;
}

/** Whether `n` is in a UID set (`*` = `max`, the highest UID the client could mean). */
export function inUidSet(ranges: SeqRange[], n: number, max: number): boolean {
  for (const [a0, b0] of ranges) {
    const a = a0 < 0 ? max : a0;
    const b = b0 < 0 ? max : b0;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

export function isSequenceSet(s: string): boolean {
  return /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(s) || s === '$';
}

/**
 * Resolve to the UIDs (ascending, unique) of the view. `uids` is the ascending view.
 * Message-number form: a number beyond the view is an error (BAD), as in Dovecot. `saved` (the
 * SEARCHRES result, UIDs) answers `$`: those still in the view, in either form.
 */
export function resolveSequenceSet(
  ranges: SeqRange[],
  uids: ArrayLike<number>,
  byUid: boolean,
  saved: readonly number[] = [],
): number[] {
  if (isSaved(ranges))
    return resolveSequenceSet(
      saved.map((u): SeqRange => [u, u]),
      uids,
      true,
    );
  const n = uids.length;
  if (n === 0) {
    if (!byUid && ranges.some(([a, b]) => a !== -1 || b !== -1)) throw new ImapBadError('Invalid messageset');
    return [];
  }
  if (!byUid) {
    if (ranges.length === 1) {
      let [a, b] = ranges[0]!;
      if (a === -1) a = n;
      if (b === -1) b = n;
      if (a > b) [a, b] = [b, a];
      if (b > n) throw new ImapBadError('Invalid messageset');
      return copyRange(uids, a - 1, b);
    }
    const mark = new Uint8Array(n + 1);
    for (const [ra, rb] of ranges) {
      let a = ra === -1 ? n : ra;
      let b = rb === -1 ? n : rb;
      if (a > b) [a, b] = [b, a];
      if (b > n) throw new ImapBadError('Invalid messageset');
      for (let i = a; i <= b; i++) mark[i] = 1;
    }
    const out: number[] = [];
    for (let i = 1; i <= n; i++) if (mark[i]) out.push(uids[i - 1]!);
    return out;
  }
  const max = uids[n - 1]!;
  const norm: SeqRange[] = ranges.map(([ra, rb]) => {
    const a = ra === -1 ? max : ra;
    const b = rb === -1 ? max : rb;
    return a <= b ? [a, b] : [b, a];
  });
  if (norm.length === 1) {
    const [a, b] = norm[0]!;
    const lo = lowerBound(uids, a);
    const hi = lowerBound(uids, b + 1);
    return copyRange(uids, lo, hi);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = uids[i]!;
    for (const [a, b] of norm) {
      if (u >= a && u <= b) {
        out.push(u);
        break;
      }
    }
  }
  return out;
}

/** uids[from..to) as a plain array (the view may be a typed array shared with other sessions). */
function copyRange(uids: ArrayLike<number>, from: number, to: number): number[] {
  const out = new Array<number>(Math.max(0, to - from));
  for (let i = from; i < to; i++) out[i - from] = uids[i]!;
  return out;
}

function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Compact a sorted UID list into a sequence-set string (`1:3,7`). */
export function compressUids(uids: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < uids.length) {
    const start = uids[i]!;
    let end = start;
    while (i + 1 < uids.length && uids[i + 1] === end + 1) end = uids[++i]!;
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

/** Message-number ranges clamped to the view (SEARCH: numbers beyond the mailbox match nothing). */
export function clampRanges(ranges: SeqRange[], n: number): SeqRange[] {
  const out: SeqRange[] = [];
  if (n === 0) return out;
  for (const [ra, rb] of ranges) {
    let a = ra === -1 ? n : ra;
    let b = rb === -1 ? n : rb;
    if (a > b) [a, b] = [b, a];
    if (a > n) continue;
    out.push([a, Math.min(b, n)]);
  }
  return out;
}
