/**
 * SORT order (RFC 5256 §3, RFC 5957 SORT=DISPLAY): the criteria, each message's sort values and the
 * comparison — for SORT and for keeping a CONTEXT=SORT result in order as the mailbox changes.
 */
import type { FetchWant, MessageRow } from '../backend.ts';
import type { ImapToken } from '../wire/types.ts';
import { ImapBadError } from '../errors.ts';
import { displaySortValue } from '../../mime/header-index.ts';

const KEYS = new Set(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

function value(row: MessageRow, k: string): string | number {
  const h = row.headers;
  switch (k) {
    case 'ARRIVAL':
      return row.internalDate;
    case 'DATE':
      return h?.date ?? row.internalDate;
    case 'SIZE':
      return row.size;
    case 'SUBJECT':
      return asciiCasemap(h?.baseSubject ?? '');
    case 'FROM':
      return asciiCasemap(addrMailbox(h?.fromAddr ?? ''));
    case 'TO':
      return asciiCasemap(addrMailbox(h?.toAddr ?? ''));
    // RFC 5957: the first address's decoded display name, else its addr-spec
    case 'DISPLAYFROM':
      return asciiCasemap(row.header ? displaySortValue(row.header, 'from') : '');
    case 'DISPLAYTO':
      return asciiCasemap(row.header ? displaySortValue(row.header, 'to') : '');
    default:
      return asciiCasemap(addrMailbox(h?.ccAddr ?? ''));
  }
}

/** RFC 5256 §3: FROM/TO/CC sort by the first address's addr-mailbox (local part) only. */
function addrMailbox(addr: string): string {
  const at = addr.lastIndexOf('@');
  return at < 0 ? addr : addr.slice(0, at);
}

/** i;ascii-casemap (RFC 4790 §9.2): a–z fold to upper case, so `[` and `_` sort after letters. */
function asciiCasemap(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

export interface SortKey {
  key: string;
  reverse: boolean;
}

/** One message in sort order: its UID and sort values (null when its row was not read). */
export interface SortEntry {
  uid: number;
  v: Array<string | number> | null;
}

/** `(REVERSE DATE SUBJECT ...)`: at least one key, REVERSE only before a key. */
export function parseSortCriteria(crit: ImapToken[]): SortKey[] {
  const keys: SortKey[] = [];
  let reverse = false;
  for (const t of crit) {
    const v = t.type === 'atom' ? t.value.toUpperCase() : '';
    if (v === 'REVERSE') {
      reverse = true;
      continue;
    }
    if (!KEYS.has(v)) throw new ImapBadError('Invalid sort criterion');
    keys.push({ key: v, reverse });
    reverse = false;
  }
  if (!keys.length || reverse) throw new ImapBadError('Invalid sort criteria');
  return keys;
}

/** What a search must read of each match to sort it. */
export function sortWant(keys: readonly SortKey[]): FetchWant {
  return keys.some((k) => k.key.startsWith('DISPLAY'))
    ? { headers: true, header: true, headerFields: ['FROM', 'TO'] }
    : { headers: true };
}

export function sortEntry(uid: number, row: MessageRow | undefined, keys: readonly SortKey[]): SortEntry {
  return { uid, v: row ? keys.map((k) => value(row, k.key)) : null };
}

/** The comparison of the requested order; ties (and unread rows) go by UID, i.e. mailbox order. */
export function sortComparator(keys: readonly SortKey[]): (a: SortEntry, b: SortEntry) => number {
  return (a, b) => {
    if (a.v && b.v) {
      for (let i = 0; i < keys.length; i++) {
        const va = a.v[i]!;
        const vb = b.v[i]!;
        if (va !== vb) {
          const c = va < vb ? -1 : 1;
          return keys[i]!.reverse ? -c : c;
        }
      }
    }
    return a.uid - b.uid;
  };
}
