/**
 * IMAP sequence sets (RFC 3501 §9 `sequence-set`, RFC 9051): `1,3:5,7:*`, ranges in either order,
 * `*` meaning the largest number in use (resolved later against a maximum), and `$` (SEARCHRES,
 * RFC 5182) when allowed. Works the same for message sequence numbers and UIDs.
 */
import { UserError } from '../../shared/errors.ts';
import { MAX_UINT32 } from './limits.ts';

export class SequenceSetError extends UserError {
  override name = 'SequenceSetError';
  constructor(message: string) {
    super('sequence-set', message);
  }
}

/** STAR stands for `*` in an unresolved range. */
export const STAR = -1;

/**
 * A parsed, unresolved sequence set. `ranges` holds [a, b] pairs as written (a may be > b);
 * STAR (-1) stands for `*`.
 */
export class SequenceSet {
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  /** `$`: the saved SEARCH result (RFC 5182); the session substitutes it. */
  readonly isSearchResult: boolean;

  private constructor(ranges: Array<readonly [number, number]>, isSearchResult: boolean) {
    this.ranges = ranges;
    this.isSearchResult = isSearchResult;
  }

  /** Parses `text`; throws SequenceSetError on 0, empty parts, numbers > 2^32-1, or garbage. */
  static parse(text: string, opts: { allowSearchResult?: boolean } = {}): SequenceSet {
    if (text === '$') {
      if (!opts.allowSearchResult) throw new SequenceSetError('Invalid sequence set: $ not allowed here');
      return new SequenceSet([], true);
    }
    const ranges: Array<readonly [number, number]> = [];
    const n = text.length;
    let i = 0;
    if (n === 0) throw new SequenceSetError('Empty sequence set');
    while (true) {
      let a: number;
      [a, i] = readSeqNumber(text, i);
      let b = a;
      if (text.charCodeAt(i) === 0x3a /* : */) [b, i] = readSeqNumber(text, i + 1);
      ranges.push([a, b]);
      if (i === n) break;
      if (text.charCodeAt(i) !== 0x2c /* , */)
        throw new SequenceSetError(`Invalid sequence set: ${clip(text)}`);
      i++;
    }
    return new SequenceSet(ranges, false);
  }

  /** Non-throwing parse. */
  static tryParse(text: string, opts: { allowSearchResult?: boolean } = {}): SequenceSet | null {
    try {
      return SequenceSet.parse(text, opts);
    } catch {
      return null;
    }
  }

  /** Builds a set from resolved numbers (any order, duplicates allowed). */
  static fromNumbers(nums: Iterable<number>): SequenceSet {
    const sorted = Float64Array.from(nums).sort();
    const ranges: Array<readonly [number, number]> = [];
    for (let k = 0; k < sorted.length;) {
      const start = sorted[k] as number;
      let end = start;
      while (k + 1 < sorted.length && (sorted[k + 1] as number) <= end + 1) end = sorted[++k] as number;
      ranges.push([start, end]);
      k++;
    }
    return new SequenceSet(ranges, false);
  }

  /** True if the set uses `*`. */
  get hasStar(): boolean {
    return this.ranges.some(([a, b]) => a === STAR || b === STAR);
  }

  /** The largest explicit number in the set (0 if none); for "message number out of range" checks. */
  get maxExplicit(): number {
    let m = 0;
    for (const [a, b] of this.ranges) m = Math.max(m, a, b);
    return m;
  }

  /**
   * Resolves `*` to `max` (the highest UID / message count; 0 for an empty mailbox), orders every
   * range, clips to 1..max, merges overlaps. `UID FETCH 100:*` with max 90 gives 90:90
   * (RFC 3501 §6.4.8).
   */
  resolve(max: number): ResolvedSet {
    if (this.isSearchResult) throw new SequenceSetError('$ must be substituted before resolving');
    const tmp: Array<[number, number]> = [];
    for (const [ra, rb] of this.ranges) {
      let a = ra === STAR ? max : ra;
      let b = rb === STAR ? max : rb;
      if (a > b) [a, b] = [b, a];
      if (a < 1) a = 1;
      if (b > max) b = max;
      if (a <= b) tmp.push([a, b]);
    }
    return ResolvedSet.fromRanges(tmp);
  }

  /** Serializes (canonical `a:b` order as parsed). */
  toString(): string {
    if (this.isSearchResult) return '$';
    return this.ranges.map(([a, b]) => (a === b ? num(a) : `${num(a)}:${num(b)}`)).join(',');
  }
}

/** Sorted, disjoint, non-adjacent inclusive ranges; fast membership and iteration. */
export class ResolvedSet {
  /** starts[i]..ends[i] inclusive, ascending, disjoint. */
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  /** Number of values in the set. */
  readonly size: number;

  private constructor(starts: Float64Array, ends: Float64Array) {
    this.starts = starts;
    this.ends = ends;
    let s = 0;
    for (let i = 0; i < starts.length; i++) s += (ends[i] as number) - (starts[i] as number) + 1;
    this.size = s;
  }

  static fromRanges(ranges: Array<[number, number]>): ResolvedSet {
    ranges.sort((x, y) => x[0] - y[0]);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const [a, b] of ranges) {
      const last = ends.length - 1;
      if (last >= 0 && a <= (ends[last] as number) + 1) {
        if (b > (ends[last] as number)) ends[last] = b;
      } else {
        starts.push(a);
        ends.push(b);
      }
    }
    return new ResolvedSet(Float64Array.from(starts), Float64Array.from(ends));
  }

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** Smallest member (undefined if empty). */
  get min(): number | undefined {
    return this.starts[0];
  }

  /** Largest member (undefined if empty). */
  get max(): number | undefined {
    return this.ends[this.ends.length - 1];
  }

  /** O(log ranges). */
  contains(n: number): boolean {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (n < (this.starts[mid] as number)) hi = mid - 1;
      else if (n > (this.ends[mid] as number)) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** The merged ranges as [start, end] pairs, ascending. */
  toRanges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.starts.length; i++) out.push([this.starts[i] as number, this.ends[i] as number]);
    return out;
  }

  /** Ascending members. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.starts.length; i++) {
      const e = this.ends[i] as number;
      for (let v = this.starts[i] as number; v <= e; v++) yield v;
    }
  }

  /**
   * The members of `sorted` (an ascending array, e.g. a mailbox's UIDs) that are in the set, in
   * O(ranges · log n + result) — how UID sets are applied to a mailbox.
   */
  filterSorted(sorted: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      const e = this.ends[i] as number;
      for (let k = lowerBound(sorted, this.starts[i] as number); k < sorted.length; k++) {
        const v = sorted[k] as number;
        if (v > e) break;
        out.push(v);
      }
    }
    return out;
  }

  /** Compact IMAP form (`1:3,7`), '' when empty. */
  toString(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      const a = this.starts[i] as number;
      const b = this.ends[i] as number;
      parts.push(a === b ? String(a) : `${a}:${b}`);
    }
    return parts.join(',');
  }
}

function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function readSeqNumber(text: string, i: number): [number, number] {
  const c = text.charCodeAt(i);
  if (c === 0x2a /* * */) return [STAR, i + 1];
  if (!(c >= 0x31 && c <= 0x39)) {
    throw new SequenceSetError(
      c === 0x30 ? 'Invalid sequence set: 0 is not a valid number' : `Invalid sequence set: ${clip(text)}`,
    );
  }
  let v = 0;
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d < 0x30 || d > 0x39) break;
    v = v * 10 + (d - 0x30);
    if (v > MAX_UINT32) throw new SequenceSetError('Invalid sequence set: number too big');
    j++;
  }
  return [v, j];
}

function num(v: number): string {
  return v === STAR ? '*' : String(v);
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '...' : s;
}
