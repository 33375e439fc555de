/**
 * SORT / UID SORT (RFC 5256 §3): ARRIVAL CC DATE FROM SIZE SUBJECT TO, and DISPLAYFROM DISPLAYTO
 * (RFC 5957 SORT=DISPLAY), each optionally REVERSE; ESORT (RFC 5267 §3): `RETURN (MIN MAX COUNT
 * ALL SAVE)` answered with ESEARCH in sort order; CONTEXT=SORT `RETURN (PARTIAL lo:hi UPDATE
 * CONTEXT)` (RFC 5267 §4); MODSEQ (RFC 7162 §3.1.5).
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import { ImapBadError } from '../errors.ts';
import { parseKeys, skipCharset, usesModseq } from '../search/parse.ts';
import { keepUpdated, noteUnsearchable, parseReturn, writeReturn } from '../search/results.ts';
import { runSearch } from '../search/evaluate.ts';
import { parseSortCriteria, sortComparator, sortEntry, sortWant } from '../search/sort-order.ts';
import type { SortEntry } from '../search/sort-order.ts';

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
    const keys = parseSortCriteria(args.list('sort criteria'));
    const tokens = args.rest();
    if (!tokens.length) throw new ImapBadError('Missing charset');
    const i = skipCharset([{ type: 'atom', value: 'CHARSET' }, ...tokens], 0) - 1;
    const key = parseKeys(tokens.slice(i));
    const update = ret?.opts.has('UPDATE') ?? false;
    if (update) sel.contexts.checkTag(tag);
    if (ret?.opts.has('SAVE')) sel.saved = [];
    const res = await runSearch(sel, key, sortWant(keys), () => session.state !== 'logout');
    const rows = res.rows;
    // the sort values (a display name is parsed and decoded for each match) in ~20 ms slices
    const list: SortEntry[] = [];
    let slice = performance.now();
    for (let i = 0; i < res.uids.length; i++) {
      const u = res.uids[i]!;
      list.push(sortEntry(u, rows?.get(u), keys));
      if ((i & 255) === 255 && performance.now() - slice >= 20) {
        await new Promise((r) => setImmediate(r));
        if (session.state === 'logout') return;
        slice = performance.now();
      }
    }
    list.sort(sortComparator(keys));
    const modseq = usesModseq(key);
    if (modseq) session.enableCondstore();
    const name = `${uid ? 'UID ' : ''}Sort`;
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
      if (update)
        return noteUnsearchable(name, res.unsearchable, keepUpdated(w, sel, tag, uid, key, keys, list));
      return noteUnsearchable(name, res.unsearchable);
    }
    // RFC 7162 §3.1.5: with a MODSEQ key, the highest mod-sequence of the matches follows.
    const mod = modseq && list.length ? ` (MODSEQ ${res.highestModseq})` : '';
    w.line(`* SORT${list.map((x) => ' ' + (uid ? x.uid : sel.seqOf(x.uid))).join('')}${mod}`);
    return noteUnsearchable(name, res.unsearchable);
  },
};
