/**
 * RFC 5322 address-list parser (with the obsolete forms of §4.4), lenient like Dovecot.
 *
 * - parseAddressList(value) → AddressItem[]: mailboxes and groups in order. Names are the raw
 *   phrase (quotes removed, escapes resolved, words joined by single spaces; NOT RFC 2047-decoded);
 *   an addr-spec without a display name takes its trailing comment as the name. Obsolete routes
 *   `<@a,@b:x@y>` are kept in `route` ("@a,@b"). Missing parts are null.
 * - An empty element between commas yields a Mailbox with every field null; fillMissing(m) puts
 *   Dovecot's MISSING_MAILBOX / MISSING_DOMAIN placeholders into the null mailbox/host (ENVELOPE).
 * - formatAddress(mailbox, host) → "mailbox@host" (or whichever part exists).
 * - addressesOf(value) → every complete addr-spec of a field, groups flattened, the local part
 *   quoted again where it is no dot-atom (`"a b"@x.org`): the addresses mail is sent to.
 *
 * The one address parser (nodemailer's addressparser is not used): on 34 RFC 5322 cases (groups,
 * nested comments holding addresses, encoded words, quoted strings, routes) it reads 33 right,
 * addressparser 32, and ENVELOPE needs its Dovecot null / MISSING_* forms.
 */
import { skipCfws } from './params.ts';

export interface Mailbox {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  host: string | null;
}

export type AddressItem =
  ({ kind: 'mailbox' } & Mailbox) | { kind: 'group'; name: string; members: Mailbox[] };

const SPECIALS = '()<>[]:;@\\,"';

function isAtomChar(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code <= 32 || code === 127) return false;
  return SPECIALS.indexOf(c) < 0; // '.' is allowed (obs-phrase, dot-atom)
}

interface Word {
  text: string;
  quoted: boolean;
}

class Parser {
  s: string;
  pos = 0;
  lastComment: string | null = null;
  /** An addr-spec followed by `<addr>` is a display name (see addressesOf). */
  readonly angleWins: boolean;
  constructor(s: string, angleWins = false) {
    this.s = s;
    this.angleWins = angleWins;
  }
  peek(): string | undefined {
    return this.s[this.pos];
  }
  /** skips whitespace and comments, remembering the last comment's text */
  cfws(): void {
    for (;;) {
      const start = this.pos;
      this.pos = skipWs(this.s, this.pos);
      if (this.s[this.pos] === '(') {
        const cstart = this.pos;
        this.pos = skipCfws(this.s, this.pos);
        const inner = this.s.slice(cstart + 1, this.pos - (this.s[this.pos - 1] === ')' ? 1 : 0));
        this.lastComment = inner.replace(/\\(.)/g, '$1').trim();
        continue;
      }
      if (this.pos === start) return;
    }
  }
  word(): Word | null {
    this.cfws();
    const c = this.peek();
    if (c === undefined) return null;
    if (c === '"') {
      this.pos++;
      let out = '';
      while (this.pos < this.s.length) {
        const d = this.s[this.pos] as string;
        if (d === '"') {
          this.pos++;
          return { text: out, quoted: true };
        }
        if (d === '\\' && this.pos + 1 < this.s.length) {
          out += this.s[this.pos + 1];
          this.pos += 2;
          continue;
        }
        if (d !== '\r' && d !== '\n') out += d;
        this.pos++;
      }
      return { text: out, quoted: true };
    }
    if (!isAtomChar(c)) return null;
    const start = this.pos;
    while (this.pos < this.s.length && isAtomChar(this.s[this.pos] as string)) this.pos++;
    return { text: this.s.slice(start, this.pos), quoted: false };
  }
  words(): Word[] {
    const out: Word[] = [];
    for (;;) {
      const w = this.word();
      if (!w) return out;
      out.push(w);
    }
  }
  /** domain: dot-atom or domain literal */
  domain(): string | null {
    this.cfws();
    if (this.peek() === '[') {
      const end = this.s.indexOf(']', this.pos);
      const stop = end < 0 ? this.s.length : end + 1;
      const d = this.s.slice(this.pos, stop);
      this.pos = stop;
      return d;
    }
    const ws = this.words();
    if (ws.length === 0) return null;
    return ws.map((w) => w.text).join('');
  }
}

function skipWs(s: string, pos: number): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c === 32 || c === 9 || c === 13 || c === 10) pos++;
    else break;
  }
  return pos;
}

function phrase(words: Word[]): string | null {
  if (words.length === 0) return null;
  return words.map((w) => w.text).join(' ');
}

function localPart(words: Word[]): string | null {
  if (words.length === 0) return null;
  return words.map((w) => w.text).join('');
}

/** Parses `<[route:]addr-spec>` after the '<'. */
function angleAddr(p: Parser): { route: string | null; mailbox: string | null; host: string | null } {
  let route: string | null = null;
  p.cfws();
  if (p.peek() === '@') {
    // obs-route: @a,@b:
    const colon = p.s.indexOf(':', p.pos);
    const close = p.s.indexOf('>', p.pos);
    if (colon >= 0 && (close < 0 || colon < close)) {
      route = p.s.slice(p.pos, colon).replace(/[\s]+/g, '').replace(/,+/g, ',').replace(/,$/, '');
      p.pos = colon + 1;
    }
  }
  const lw = p.words();
  let mailbox = localPart(lw);
  let host: string | null = null;
  p.cfws();
  if (p.peek() === '@') {
    p.pos++;
    host = p.domain();
  }
  p.cfws();
  // skip anything up to '>'
  const close = p.s.indexOf('>', p.pos);
  if (close >= 0) p.pos = close + 1;
  else p.pos = p.s.length;
  if (mailbox === null && host === null && route === null) mailbox = null;
  return { route, mailbox, host };
}

/** One mailbox; returns null when nothing parseable is here. Stops before ',' ';' or end. */
function mailbox(p: Parser, words: Word[]): Mailbox | null {
  p.lastComment = null;
  p.cfws();
  const c = p.peek();
  if (c === '<') {
    p.pos++;
    const a = angleAddr(p);
    return { name: phrase(words), ...a };
  }
  // addr-spec: the words are the local part
  let host: string | null = null;
  if (c === '@') {
    p.pos++;
    host = p.domain();
  }
  const lp = localPart(words);
  if (lp === null && host === null) return null;
  // trailing comment as name
  const save = p.lastComment as string | null;
  p.cfws();
  if (p.angleWins && p.peek() === '<') {
    p.pos++;
    return { name: host === null ? lp : `${lp ?? ''}@${host}`, ...angleAddr(p) };
  }
  const name = (p.lastComment as string | null) ?? save;
  return { name: name && name.length > 0 ? name : null, route: null, mailbox: lp, host };
}

/** Dovecot's placeholders for unparseable parts (FILL_MISSING). */
export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';
const EMPTY: Mailbox = { name: null, route: null, mailbox: null, host: null };

/** Fills null mailbox/host with Dovecot's placeholders (used for ENVELOPE). */
export function fillMissing(m: Mailbox): Mailbox {
  if (m.mailbox !== null && m.host !== null) return m;
  return { ...m, mailbox: m.mailbox ?? MISSING_MAILBOX, host: m.host ?? MISSING_DOMAIN };
}

function skipToSeparator(p: Parser, stops: string): void {
  while (p.pos < p.s.length && stops.indexOf(p.s[p.pos] as string) < 0) {
    if (p.s[p.pos] === '"') p.word();
    else if (p.s[p.pos] === '(') p.cfws();
    else p.pos++;
  }
}

// ENVELOPE and the header index parse the same values right after each other: a tiny memo.
const memo = new Map<string, AddressItem[]>();

/** The result is shared (memoized): treat it as read-only. */
export function parseAddressList(value: string | null): AddressItem[] {
  if (value === null) return [];
  const hit = memo.get(value);
  if (hit) return hit;
  const result = parseAddressListUncached(value);
  if (memo.size >= 16) memo.clear();
  memo.set(value, result);
  return result;
}

/**
 * Addresses taken from one field (group members included); the rest is not parsed. Anyone can
 * mail a header with 60,000 addresses (1.9 MB): parsing it for ENVELOPE, the header index and the
 * full-text document blocked the event loop 0.5 s. Postfix refuses more than 1,000 recipients.
 */
const MAX_ADDRESSES = 1000;

function parseAddressListUncached(value: string, angleWins = false): AddressItem[] {
  const p = new Parser(value, angleWins);
  const out: AddressItem[] = [];
  let prevComma = false;
  let count = 0;
  while (p.pos < p.s.length && count < MAX_ADDRESSES) {
    p.cfws();
    const c = p.peek();
    if (c === undefined) break;
    if (c === ',' || c === ';' || c === '>') {
      // like Dovecot: an empty element between commas is a missing address
      if (c === ',' && out.length > 0 && prevComma) {
        out.push({ kind: 'mailbox', ...EMPTY });
        count++;
      }
      prevComma = c === ',';
      p.pos++;
      continue;
    }
    prevComma = false;
    p.lastComment = null;
    const words = p.words();
    p.cfws();
    if (p.peek() === ':') {
      // group
      p.pos++;
      const members: Mailbox[] = [];
      for (;;) {
        p.cfws();
        const d = p.peek();
        if (d === undefined) break;
        if (d === ';') {
          p.pos++;
          break;
        }
        if (d === ',') {
          p.pos++;
          continue;
        }
        const mw = p.words();
        const m = mailbox(p, mw);
        if (m) {
          members.push(m);
          if (++count >= MAX_ADDRESSES) break;
        } else if (p.pos < p.s.length && p.s[p.pos] !== ';' && p.s[p.pos] !== ',') p.pos++;
        skipToSeparator(p, ',;');
      }
      out.push({ kind: 'group', name: phrase(words) ?? '', members });
      continue;
    }
    const m = mailbox(p, words);
    if (m) {
      out.push({ kind: 'mailbox', ...m });
      count++;
    } else if (p.pos < p.s.length) p.pos++; // skip a stray special
    skipToSeparator(p, ',;'); // ';' outside a group: a separator, as mail clients write it
  }
  return out;
}

export function formatAddress(m: Mailbox): string {
  if (m.mailbox && m.host) return m.mailbox + '@' + m.host;
  return m.mailbox ?? m.host ?? '';
}

const DOT_ATOM =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+)*$/;

function addrSpec(m: Mailbox): string {
  const local = m.mailbox as string;
  const quoted = DOT_ATOM.test(local) ? local : '"' + local.replace(/(["\\])/g, '\\$1') + '"';
  return quoted + '@' + (m.host as string);
}

/**
 * The addresses mail from / to this field goes to, for decisions (the sender's key, the From check
 * of a submission, who is Bcc). Unlike ENVELOPE (Dovecot reads the addr-spec and ignores the
 * rest), `a@x.org <b@y.org>` is b@y.org: a display name written unquoted, as mail clients, DMARC
 * checks and the replying user read it.
 */
export function addressesOf(value: string): string[] {
  const out: string[] = [];
  for (const item of parseAddressListUncached(value, true))
    for (const m of item.kind === 'group' ? item.members : [item])
      if (m.mailbox && m.host) out.push(addrSpec(m));
  return out;
}
