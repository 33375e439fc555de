/**
 * Header-field selection on raw header bytes, as IMAP's BODY[HEADER.FIELDS (..)] and .NOT define
 * it (RFC 3501 §6.4.5), without decoding or allocating per line; and the "summary" header block
 * the store keeps per message: every line of the fields mail clients fetch when they list a
 * folder, in their original order and bytes.
 *
 * Filtering is stable under restriction: for any field set F ⊆ SUMMARY_FIELDS, filtering the
 * summary block by F gives exactly the bytes filtering the whole header by F gives (kept lines
 * start a field or continue one; the summary keeps both, drops everything else).
 */

/**
 * A compiled HEADER.FIELDS name set: names grouped by length, as lower-case bytes, so a header line
 * is matched without allocating a string. Names with non-ASCII characters (possible only in SEARCH
 * HEADER) fall back to comparing latin1-decoded, lower-cased strings, as the simple form would.
 */
export interface FieldMatcher {
  readonly maxLen: number;
  /** byLen[n]: the wanted names of n bytes (lower-case ASCII). */
  readonly byLen: ReadonlyArray<readonly Uint8Array[] | undefined>;
  /** Set when some name is not ASCII: match by string instead. */
  readonly strings: ReadonlySet<string> | null;
}

export function compileFields(fields: Iterable<string>, lower = true): FieldMatcher {
  const names = [...new Set([...fields].map((f) => (lower ? f.toLowerCase() : f)))];
  let maxLen = 0;
  for (const f of names) if (f.length > maxLen) maxLen = f.length;
  if (names.some(notAscii)) return { maxLen, byLen: [], strings: new Set(names) };
  const byLen: Uint8Array[][] = [];
  for (const f of names) (byLen[f.length] ??= []).push(Buffer.from(f, 'latin1'));
  return { maxLen, byLen, strings: null };
}

function notAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function nameMatches(h: Buffer, start: number, end: number, m: FieldMatcher): boolean {
  const len = end - start;
  if (len > m.maxLen) return false;
  if (m.strings) return m.strings.has(h.toString('latin1', start, end).toLowerCase());
  const cands = m.byLen[len];
  if (!cands) return false;
  for (let c = 0; c < cands.length; c++) {
    const name = cands[c]!;
    let k = 0;
    for (; k < len; k++) {
      let b = h[start + k]!;
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== name[k]) break;
    }
    if (k === len) return true;
  }
  return false;
}

/**
 * The byte ranges of a header block kept by a HEADER.FIELDS (or, with `not`, .NOT) filter: runs of
 * kept lines as [start, end) pairs pushed onto `ranges` (cleared first). Returns their total length.
 * A field's folded continuation lines go with it; lines that are not fields are dropped; the scan
 * stops at the blank line. The caller appends the blank line (CRLF) that ends the result.
 */
export function headerFieldRanges(header: Buffer, m: FieldMatcher, not: boolean, ranges: number[]): number {
  ranges.length = 0;
  let total = 0;
  let runStart = -1;
  let keep = false;
  let pos = 0;
  const n = header.length;
  while (pos < n) {
    const first = header[pos]!;
    if (first === 0x0d || first === 0x0a) break; // blank line: end of header
    // end of line (after the LF) and, on a field line, its first colon
    let eol = pos;
    let colon = -1;
    if (first !== 0x20 && first !== 0x09) {
      while (eol < n) {
        const c = header[eol]!;
        if (c === 0x0a) break;
        if (c === 0x3a) {
          colon = eol;
          break;
        }
        eol++;
      }
      if (colon > pos) {
        let end = colon;
        while (end > pos && (header[end - 1] === 0x20 || header[end - 1] === 0x09)) end--;
        keep = nameMatches(header, pos, end, m) !== not;
      } else keep = false;
    }
    while (eol < n && header[eol] !== 0x0a) eol++;
    eol = eol < n ? eol + 1 : n;
    if (keep) {
      if (runStart < 0) runStart = pos;
    } else if (runStart >= 0) {
      ranges.push(runStart, pos);
      total += pos - runStart;
      runStart = -1;
    }
    pos = eol;
  }
  if (runStart >= 0) {
    ranges.push(runStart, pos);
    total += pos - runStart;
  }
  return total;
}

const CRLF = Buffer.from('\r\n');
const RANGES: number[] = [];

/** Keep (or drop, with `not`) the named fields of a header block; result ends with the blank line. */
export function filterHeader(header: Buffer, fields: string[] | FieldMatcher, not: boolean): Buffer {
  const m = Array.isArray(fields) ? compileFields(fields) : fields;
  const total = headerFieldRanges(header, m, not, RANGES);
  const out = Buffer.allocUnsafe(total + 2);
  let at = 0;
  for (let i = 0; i < RANGES.length; i += 2) at += header.copy(out, at, RANGES[i]!, RANGES[i + 1]!);
  CRLF.copy(out, at);
  return out;
}

/**
 * The fields the store keeps in each message's summary block (lower case): Thunderbird's header
 * sync, neomutt's, mbsync's and K-9's, and list headers. Changing this set needs a migration that
 * recomputes the summaries (a summary without a field would answer as if the field were absent).
 */
export const SUMMARY_FIELDS: readonly string[] = [
  // Thunderbird (mailnews default headers)
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'priority',
  'x-priority',
  'references',
  'newsgroups',
  'in-reply-to',
  'content-type',
  'reply-to',
  // neomutt, mbsync, K-9, Apple Mail's list view, list handling
  'sender',
  'content-description',
  'lines',
  'list-id',
  'list-post',
  'list-subscribe',
  'list-unsubscribe',
  'x-label',
  'x-original-to',
  'delivered-to',
  'x-tuid',
  'content-transfer-encoding',
  'mime-version',
  'chat-version',
  'x-k9mail-identity',
  'importance',
  'x-mailer',
  'user-agent',
];

const SUMMARY_SET = new Set(SUMMARY_FIELDS);
const SUMMARY_MATCHER = compileFields(SUMMARY_FIELDS);
const SUMMARY_RANGES: number[] = [];

/** Whether every name (any case) is a summary field, so the summary block can answer it. */
export function coveredBySummary(fields: Iterable<string>): boolean {
  for (const f of fields) if (!SUMMARY_SET.has(f.toLowerCase())) return false;
  return true;
}

/** The summary block of a header: the lines of SUMMARY_FIELDS only (no blank line at the end). */
export function summaryHeader(header: Buffer): Buffer {
  const total = headerFieldRanges(header, SUMMARY_MATCHER, false, SUMMARY_RANGES);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < SUMMARY_RANGES.length; i += 2) {
    at += header.copy(out, at, SUMMARY_RANGES[i]!, SUMMARY_RANGES[i + 1]!);
  }
  return out;
}
