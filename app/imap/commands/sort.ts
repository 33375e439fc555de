/**
 * SORT / UID SORT (RFC 5256 §3): ARRIVAL CC DATE FROM SIZE SUBJECT TO, and DISPLAYFROM DISPLAYTO
 * (RFC 5957 SORT=DISPLAY), each optionally REVERSE; ESORT (RFC 5267 §3): `RETURN (MIN MAX COUNT
 * ALL SAVE)` answered with ESEARCH in sort order; MODSEQ (RFC 7162 §3.1.5).
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import type { MessageRow } from '../backend.ts';
import { ImapBadError } from '../errors.ts';
import { parseKeys, skipCharset, usesModseq } from '../search/parse.ts';
import { parseReturn, writeReturn } from '../search/results.ts';
import { runSearch } from '../search/evaluate.ts';
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

export const sort: CommandSpec = {
  name: 'SORT',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  async handle({ session, w, args, uid, tag }) {
    const sel = session.requireSelected();
    // ESORT (RFC 5267 §3): `SORT RETURN (options) (criteria) charset keys`.
    const first = args.peek();
    const ret =
      first?.type === 'atom' && first.value.toUpperCase() === 'RETURN'
        ? parseReturn([args.next(), args.next('RETURN options')])!.ret
        : null;
    const crit = args.list('sort criteria');
    const keys: Array<{ key: string; reverse: boolean }> = [];
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
    const tokens = args.rest();
    if (!tokens.length) throw new ImapBadError('Missing charset');
    const i = skipCharset([{ type: 'atom', value: 'CHARSET' }, ...tokens], 0) - 1;
    const display = keys.some((k) => k.key.startsWith('DISPLAY'));
    const key = parseKeys(tokens.slice(i));
    if (ret?.has('SAVE')) sel.saved = [];
    const res = await runSearch(
      sel,
      key,
      display ? { headers: true, header: true, headerFields: ['FROM', 'TO'] } : { headers: true },
      () => session.state !== 'logout',
    );
    const rows = res.rows ?? new Map<number, MessageRow>();
    const list = res.uids.map((u) => {
      const row = rows.get(u);
      return { uid: u, seq: sel.seqOf(u), v: row ? keys.map((k) => value(row, k.key)) : null };
    });
    list.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        if (!a.v || !b.v) break;
        const k = keys[i]!;
        const va = a.v[i]!;
        const vb = b.v[i]!;
        if (va !== vb) {
          const c = va < vb ? -1 : 1;
          return k.reverse ? -c : c;
        }
      }
      return a.seq - b.seq;
    });
    const modseq = usesModseq(key);
    if (modseq) session.enableCondstore();
    if (ret) {
      writeReturn(
        w,
        sel,
        tag,
        uid,
        list.map((x) => x.uid),
        ret,
        modseq,
        res.highestModseq,
      );
      return;
    }
    // RFC 7162 §3.1.5: with a MODSEQ key, the highest mod-sequence of the matches follows.
    const mod = modseq && list.length ? ` (MODSEQ ${res.highestModseq})` : '';
    w.line(`* SORT${list.map((x) => ' ' + (uid ? x.uid : x.seq)).join('')}${mod}`);
  },
};
