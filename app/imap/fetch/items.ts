/**
 * FETCH attribute parsing (RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ / CHANGEDSINCE,
 * RFC 8970 PREVIEW, RFC 8514 SAVEDATE, RFC 8474 EMAILID / THREADID).
 */
import type { ImapToken } from '../wire/types.ts';
import { ImapBadError } from '../errors.ts';
import { parseNumber } from '../args.ts';

export type SimpleItem =
  | 'UID'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODYSTRUCTURE'
  | 'BODY'
  | 'MODSEQ'
  | 'PREVIEW'
  | 'SAVEDATE'
  | 'EMAILID'
  | 'THREADID';

export interface SectionSpec {
  /** Part path, [] = whole message. */
  path: number[];
  /** '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' */
  text: string;
  fields: string[];
  /** The section as echoed in the response, without brackets (e.g. `1.HEADER.FIELDS (FROM TO)`). */
  label: string;
}

export interface SectionItem {
  kind: 'section';
  /** How the response names it. */
  resp: 'BODY' | 'BINARY' | 'BINARY.SIZE' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';
  peek: boolean;
  section: SectionSpec;
  partial: { start: number; length?: number } | null;
}

export type FetchItem = { kind: 'simple'; name: SimpleItem } | SectionItem;

export interface FetchRequest {
  items: FetchItem[];
  changedSince: number | null;
  /** RFC 7162 §3.2.6 `VANISHED` modifier (with CHANGEDSINCE, UID FETCH, QRESYNC enabled). */
  vanished: boolean;
  /** Needs at least one non-PEEK body item (implicit \Seen). */
  setsSeen: boolean;
}

const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE = new Set<string>([
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'MODSEQ',
  'PREVIEW',
  'SAVEDATE',
  'EMAILID',
  'THREADID',
]);

function whole(): SectionSpec {
  return { path: [], text: '', fields: [], label: '' };
}

export function parseSection(items: ImapToken[], binary: boolean): SectionSpec {
  if (items.length === 0) return whole();
  const first = items[0]!;
  if (first.type !== 'atom') throw new ImapBadError('Invalid section');
  const spec = first.value.toUpperCase();
  const m =
    /^((?:[1-9]\d*)(?:\.[1-9]\d*)*)?(?:\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?$/.exec(
      spec,
    );
  if (!m || (m[1] === undefined && m[2] === undefined)) throw new ImapBadError('Invalid section');
  if (m[1] !== undefined && m[2] !== undefined && !spec.includes('.' + m[2]))
    throw new ImapBadError('Invalid section');
  if (m[1] === undefined && spec.startsWith('.')) throw new ImapBadError('Invalid section');
  const path = m[1] ? m[1].split('.').map(Number) : [];
  const text = m[2] ?? '';
  if (text === 'MIME' && path.length === 0) throw new ImapBadError('Invalid section');
  if (binary && text) throw new ImapBadError('Invalid BINARY section');
  let fields: string[] = [];
  let label = spec;
  if (text.startsWith('HEADER.FIELDS')) {
    const list = items[1];
    if (!list || list.type !== 'list' || list.items.length === 0)
      throw new ImapBadError('Invalid header field list');
    fields = list.items.map((t) => {
      const v = t.type === 'atom' ? t.value : t.type === 'string' ? t.value.toString('latin1') : '';
      if (!v || !/^[\x21-\x39\x3b-\x7e]+$/.test(v)) throw new ImapBadError('Invalid header field name');
      return v.toUpperCase();
    });
    if (items.length > 2) throw new ImapBadError('Invalid section');
    label = `${spec} (${fields.join(' ')})`;
  } else if (items.length > 1) throw new ImapBadError('Invalid section');
  return { path, text, fields, label };
}

function isLazy(t: ImapToken | undefined): boolean {
  return t?.type === 'atom' && t.value.toUpperCase() === 'LAZY';
}

function parseItem(tokens: ImapToken[], i: number, out: FetchItem[]): number {
  const t = tokens[i]!;
  if (t.type !== 'atom') throw new ImapBadError('Invalid fetch attribute');
  const name = t.value.toUpperCase();
  const next = tokens[i + 1];
  if (next && next.type === 'section') {
    let resp: SectionItem['resp'];
    if (name === 'BODY' || name === 'BODY.PEEK') resp = 'BODY';
    else if (name === 'BINARY' || name === 'BINARY.PEEK') resp = 'BINARY';
    else if (name === 'BINARY.SIZE') resp = 'BINARY.SIZE';
    else throw new ImapBadError('Invalid fetch attribute');
    const peek = name.endsWith('.PEEK') || resp === 'BINARY.SIZE';
    const section = parseSection(next.items, resp !== 'BODY');
    let partial: SectionItem['partial'] = null;
    let used = 2;
    const p = tokens[i + 2];
    if (p && p.type === 'partial') {
      if (resp === 'BINARY.SIZE') throw new ImapBadError('Invalid partial');
      if (p.length === 0) throw new ImapBadError('Invalid partial');
      partial = p.length === undefined ? { start: p.start } : { start: p.start, length: p.length };
      used = 3;
    }
    out.push({ kind: 'section', resp, peek, section, partial });
    return used;
  }
  if (name === 'RFC822')
    out.push({ kind: 'section', resp: 'RFC822', peek: false, section: whole(), partial: null });
  else if (name === 'RFC822.HEADER') {
    out.push({
      kind: 'section',
      resp: 'RFC822.HEADER',
      peek: true,
      section: { path: [], text: 'HEADER', fields: [], label: 'HEADER' },
      partial: null,
    });
  } else if (name === 'RFC822.TEXT') {
    out.push({
      kind: 'section',
      resp: 'RFC822.TEXT',
      peek: false,
      section: { path: [], text: 'TEXT', fields: [], label: 'TEXT' },
      partial: null,
    });
  } else if (SIMPLE.has(name)) out.push({ kind: 'simple', name: name as SimpleItem });
  else throw new ImapBadError(`Invalid fetch attribute ${name}`);
  // RFC 8970 §4: `PREVIEW (LAZY)`. The preview is always made at once, so LAZY changes nothing.
  if (name === 'PREVIEW' && next?.type === 'list' && isLazy(next.items[0])) {
    if (!next.items.every(isLazy)) throw new ImapBadError('Invalid PREVIEW modifier');
    return 2;
  }
  return 1;
}

/** Parses the attribute argument(s) and optional modifiers `(CHANGEDSINCE n)`. */
export function parseFetch(tokens: ImapToken[]): FetchRequest {
  const items: FetchItem[] = [];
  const first = tokens[0];
  if (!first) throw new ImapBadError('Missing fetch attributes');
  let rest: ImapToken[];
  if (first.type === 'atom' && MACROS[first.value.toUpperCase()] && tokens[1]?.type !== 'section') {
    for (const n of MACROS[first.value.toUpperCase()]!) items.push({ kind: 'simple', name: n });
    rest = tokens.slice(1);
  } else if (first.type === 'list') {
    const list = first.items;
    if (!list.length) throw new ImapBadError('Empty fetch attribute list');
    for (let i = 0; i < list.length;) i += parseItem(list, i, items);
    rest = tokens.slice(1);
  } else {
    rest = tokens.slice(parseItem(tokens, 0, items));
  }
  let changedSince: number | null = null;
  let vanished = false;
  if (rest.length) {
    const mods = rest[0]!;
    if (mods.type !== 'list' || rest.length > 1) throw new ImapBadError('Invalid fetch modifiers');
    for (let i = 0; i < mods.items.length; i++) {
      const m = mods.items[i]!;
      const v = m.type === 'atom' ? m.value.toUpperCase() : '';
      if (v === 'CHANGEDSINCE') {
        const n = mods.items[++i];
        if (!n || n.type !== 'atom') throw new ImapBadError('Invalid CHANGEDSINCE');
        changedSince = parseNumber(n.value, 'mod-sequence');
      } else if (v === 'VANISHED') vanished = true;
      else throw new ImapBadError('Unknown fetch modifier');
    }
  }
  const setsSeen = items.some((it) => it.kind === 'section' && !it.peek);
  if (vanished && changedSince === null) throw new ImapBadError('VANISHED needs CHANGEDSINCE');
  return { items, changedSince, vanished, setsSeen };
}
