/** SEARCH key parsing (RFC 3501 §6.4.4, RFC 7162 MODSEQ, RFC 8514 SAVED*, RFC 8474 EMAILID/THREADID). */
import type { ImapToken } from '../wire/types.ts';
import { ImapBadError, ImapNoError } from '../errors.ts';
import { parseNumber, tokenString } from '../args.ts';
import { parseDate } from '../dates.ts';
import { normalizeFlag } from '../flags.ts';
import { isSequenceSet, parseSequenceSet } from '../sequence.ts';
import type { SeqRange } from '../sequence.ts';

export type SearchKey =
  | { k: 'all' }
  | { k: 'none' }
  /** \Recent in this session (RFC 3501 §2.3.2). */
  | { k: 'recent' }
  | { k: 'flag'; flag: string; has: boolean }
  | { k: 'seq'; ranges: SeqRange[] }
  | { k: 'uid'; ranges: SeqRange[] }
  | { k: 'addr'; field: 'from' | 'to' | 'cc' | 'bcc' | 'subject'; value: string }
  | { k: 'header'; field: string; value: string }
  | { k: 'text'; field: 'body' | 'text'; value: string }
  /** BEFORE/ON/SINCE on INTERNALDATE, SENT* on the Date header, SAVED* on the save date (RFC 8514). */
  | { k: 'date'; of: 'internal' | 'sent' | 'saved'; op: 'before' | 'on' | 'since'; day: number }
  /** WITHIN (RFC 5032): INTERNALDATE older than, or within, `cutoff` (ms; now minus the interval). */
  | { k: 'age'; older: boolean; cutoff: number }
  | { k: 'size'; larger: boolean; n: number }
  | { k: 'modseq'; n: number }
  /** RFC 8474 §6: the message whose EMAILID is `id` (case-sensitive). */
  | { k: 'emailid'; id: string }
  /** RFC 8474 §6: the messages whose THREADID is `id` (case-sensitive). */
  | { k: 'threadid'; id: string }
  | { k: 'not'; a: SearchKey }
  | { k: 'or'; a: SearchKey; b: SearchKey }
  | { k: 'and'; items: SearchKey[] };

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

class Cursor {
  readonly t: ImapToken[];
  i = 0;
  constructor(t: ImapToken[]) {
    this.t = t;
  }
  next(): ImapToken {
    const t = this.t[this.i++];
    if (!t) throw new ImapBadError('Missing search argument');
    return t;
  }
  str(): string {
    return tokenString(this.next(), 'search string');
  }
  atom(): string {
    const t = this.next();
    if (t.type !== 'atom') throw new ImapBadError('Invalid search argument');
    return t.value;
  }
}

function key(c: Cursor): SearchKey {
  const t = c.next();
  if (t.type === 'list') {
    if (!t.items.length) throw new ImapBadError('Empty search list');
    return parseKeys(t.items);
  }
  if (t.type !== 'atom') throw new ImapBadError('Invalid search key');
  const name = t.value.toUpperCase();
  const flag = FLAG_KEYS[name];
  if (flag) return { k: 'flag', flag: flag[0], has: flag[1] };
  switch (name) {
    case 'ALL':
      return { k: 'all' };
    case 'OLD':
      return { k: 'not', a: { k: 'recent' } };
    case 'NEW':
      return { k: 'and', items: [{ k: 'recent' }, { k: 'flag', flag: '\\Seen', has: false }] };
    case 'RECENT':
      return { k: 'recent' };
    case 'KEYWORD':
      return { k: 'flag', flag: normalizeFlag(c.atom()), has: true };
    case 'UNKEYWORD':
      return { k: 'flag', flag: normalizeFlag(c.atom()), has: false };
    case 'FROM':
    case 'TO':
    case 'CC':
    case 'BCC':
    case 'SUBJECT':
      return { k: 'addr', field: name.toLowerCase() as 'from', value: c.str() };
    case 'HEADER': {
      const field = c.str();
      return { k: 'header', field, value: c.str() };
    }
    case 'BODY':
      return { k: 'text', field: 'body', value: c.str() };
    case 'TEXT':
      return { k: 'text', field: 'text', value: c.str() };
    case 'BEFORE':
    case 'ON':
    case 'SINCE':
      return { k: 'date', of: 'internal', op: name.toLowerCase() as 'on', day: parseDate(c.str()) };
    case 'OLDER':
    case 'YOUNGER':
      return {
        k: 'age',
        older: name === 'OLDER',
        cutoff: Date.now() - parseNumber(c.atom(), 'interval') * 1000,
      };
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
      return { k: 'date', of: 'sent', op: name.slice(4).toLowerCase() as 'on', day: parseDate(c.str()) };
    case 'SAVEDBEFORE':
    case 'SAVEDON':
    case 'SAVEDSINCE':
      return { k: 'date', of: 'saved', op: name.slice(5).toLowerCase() as 'on', day: parseDate(c.str()) };
    // RFC 8514 §4.3: every mailbox here keeps save dates
    case 'SAVEDATESUPPORTED':
      return { k: 'all' };
    case 'EMAILID':
      return { k: 'emailid', id: objectId(c.str()) };
    case 'THREADID':
      return { k: 'threadid', id: objectId(c.str()) };
    case 'LARGER':
      return { k: 'size', larger: true, n: parseNumber(c.atom()) };
    case 'SMALLER':
      return { k: 'size', larger: false, n: parseNumber(c.atom()) };
    case 'UID':
      return { k: 'uid', ranges: parseSequenceSet(c.atom()) };
    case 'NOT':
      return { k: 'not', a: key(c) };
    case 'OR': {
      const a = key(c);
      return { k: 'or', a, b: key(c) };
    }
    case 'MODSEQ': {
      // MODSEQ [entry-name entry-type-req] mod-sequence-valzer
      let v = c.next();
      if (v.type === 'string') {
        c.next();
        v = c.next();
      }
      if (v.type !== 'atom') throw new ImapBadError('Invalid MODSEQ');
      return { k: 'modseq', n: parseNumber(v.value, 'mod-sequence') };
    }
    default:
      if (t.value === '$') return { k: 'uid', ranges: parseSequenceSet('$') };
      if (isSequenceSet(t.value)) return { k: 'seq', ranges: parseSequenceSet(t.value) };
      throw new ImapBadError(`Unknown search key ${t.value}`);
  }
}

/** RFC 8474 §7: objectid = 1*255(ALPHA / DIGIT / "_" / "-"). */
function objectId(s: string): string {
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(s)) throw new ImapBadError('Invalid object id');
  return s;
}

export function parseKeys(tokens: ImapToken[]): SearchKey {
  const c = new Cursor(tokens);
  const items: SearchKey[] = [];
  while (c.i < tokens.length) items.push(key(c));
  if (!items.length) throw new ImapBadError('Missing search criteria');
  return items.length === 1 ? items[0]! : { k: 'and', items };
}

/** `[CHARSET x]` prefix: only UTF-8 and US-ASCII. Returns the index after it. */
export function skipCharset(tokens: ImapToken[], i: number): number {
  const t = tokens[i];
  if (t && t.type === 'atom' && t.value.toUpperCase() === 'CHARSET') {
    const cs = tokens[i + 1];
    if (!cs) throw new ImapBadError('Missing charset');
    const name = tokenString(cs).toUpperCase();
    if (name !== 'UTF-8' && name !== 'US-ASCII' && name !== 'UTF8') {
      throw new ImapNoError('BADCHARSET (UTF-8 US-ASCII)', 'Unsupported charset');
    }
    return i + 2;
  }
  return i;
}

export function usesModseq(k: SearchKey): boolean {
  if (k.k === 'modseq') return true;
  if (k.k === 'not') return usesModseq(k.a);
  if (k.k === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.k === 'and') return k.items.some(usesModseq);
  return false;
}
