/** SORT / UID SORT (RFC 5256 §3): ARRIVAL CC DATE FROM SIZE SUBJECT TO, each optionally REVERSE. */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import type { MessageRow } from '../backend.ts';
import { ImapBadError } from '../errors.ts';
import { parseKeys, skipCharset } from '../search/parse.ts';
import { runSearch } from '../search/evaluate.ts';

const KEYS = new Set(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO']);

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
      return (h?.baseSubject ?? '').toLowerCase();
    case 'FROM':
      return h?.fromAddr ?? '';
    case 'TO':
      return h?.toAddr ?? '';
    default:
      return h?.ccAddr ?? '';
  }
}

export const sort: CommandSpec = {
  name: 'SORT',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  handle({ session, w, args, uid }) {
    const sel = session.requireSelected();
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
    const res = runSearch(sel, parseKeys(tokens.slice(i)), { headers: true });
    const rows = res.rows ?? new Map<number, MessageRow>();
    const list = res.uids.map((u) => ({ uid: u, seq: sel.seqOf(u), row: rows.get(u) }));
    list.sort((a, b) => {
      for (const k of keys) {
        if (!a.row || !b.row) break;
        const va = value(a.row, k.key);
        const vb = value(b.row, k.key);
        if (va !== vb) {
          const c = va < vb ? -1 : 1;
          return k.reverse ? -c : c;
        }
      }
      return a.seq - b.seq;
    });
    w.line(`* SORT${list.map((x) => ' ' + (uid ? x.uid : x.seq)).join('')}`);
  },
};
