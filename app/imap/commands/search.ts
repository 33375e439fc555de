/**
 * SEARCH / UID SEARCH (RFC 3501 §6.4.4) with CHARSET, MODSEQ (RFC 7162 §3.1.5) and ESEARCH
 * `RETURN (MIN MAX COUNT ALL)` (RFC 4731); always ESEARCH in IMAP4rev2 sessions (RFC 9051 §6.4.4).
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import { ImapBadError } from '../errors.ts';
import { parseKeys, skipCharset, usesModseq } from '../search/parse.ts';
import { runSearch } from '../search/evaluate.ts';
import { compressUids } from '../sequence.ts';
import { quoted } from '../format.ts';
import type { SelectedMailbox } from '../tracker.ts';

/**
 * RFC 7162 §3.1.5 / RFC 4731 §3.2: the highest mod-sequence of the messages *returned* — of the
 * MIN and/or MAX message when only those are asked for, of every match with ALL or COUNT.
 */
function returnedModseq(
  sel: SelectedMailbox,
  res: { uids: number[]; highestModseq: number },
  ret: Set<string>,
): number {
  if (ret.has('ALL') || ret.has('COUNT')) return res.highestModseq;
  const which: number[] = [];
  if (ret.has('MIN')) which.push(res.uids[0]!);
  if (ret.has('MAX')) which.push(res.uids[res.uids.length - 1]!);
  let m = 0;
  for (const r of sel.account.fetch(sel.id, which, {})) if (r.modseq > m) m = r.modseq;
  return m;
}

export const search: CommandSpec = {
  name: 'SEARCH',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  async handle({ session, w, args, uid, tag }) {
    const sel = session.requireSelected();
    const tokens = args.rest();
    let i = 0;
    let ret: Set<string> | null = null;
    const first = tokens[0];
    if (first && first.type === 'atom' && first.value.toUpperCase() === 'RETURN') {
      const opts = tokens[1];
      if (!opts || opts.type !== 'list') throw new ImapBadError('Invalid RETURN options');
      ret = new Set();
      for (const o of opts.items) {
        const v = o.type === 'atom' ? o.value.toUpperCase() : '';
        if (!['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE'].includes(v))
          throw new ImapBadError('Invalid RETURN option');
        ret.add(v);
      }
      if (ret.size === 0) ret.add('ALL');
      i = 2;
    } else if (session.rev2) {
      // RFC 9051 §6.4.4: SEARCH answers ESEARCH, as if RETURN (ALL) was given.
      ret = new Set(['ALL']);
    }
    const save = ret?.delete('SAVE') ?? false;
    i = skipCharset(tokens, i);
    const key = parseKeys(tokens.slice(i));
    // RFC 5182 §2.1: a SEARCH ... RETURN (SAVE) that fails leaves `$` empty (one that cannot be
    // parsed changes nothing, like Dovecot).
    if (save) sel.saved = [];
    const res = await runSearch(sel, key, {}, () => session.state !== 'logout');
    if (save && ret) {
      // MIN and/or MAX alone save just those; otherwise every match.
      const u = res.uids;
      const minMax = ret.size > 0 && !ret.has('ALL') && !ret.has('COUNT');
      const picked = new Set<number>();
      if (minMax && u.length) {
        if (ret.has('MIN')) picked.add(u[0]!);
        if (ret.has('MAX')) picked.add(u[u.length - 1]!);
      }
      sel.saved = minMax ? [...picked].sort((a, b) => a - b) : u;
      if (ret.size === 0) return; // SAVE alone: no ESEARCH response
    }
    const ids = uid ? res.uids : res.uids.map((u) => sel.seqOf(u));
    const modseq = usesModseq(key);
    if (modseq) session.enableCondstore();
    if (ret) {
      let line = `* ESEARCH (TAG ${quoted(tag)})${uid ? ' UID' : ''}`;
      if (ids.length) {
        if (ret.has('MIN')) line += ` MIN ${ids[0]}`;
        if (ret.has('MAX')) line += ` MAX ${ids[ids.length - 1]}`;
      }
      if (ret.has('COUNT')) line += ` COUNT ${ids.length}`;
      if (ret.has('ALL') && ids.length) line += ` ALL ${compressUids(ids)}`;
      if (modseq && ids.length) line += ` MODSEQ ${returnedModseq(sel, res, ret)}`;
      w.line(line);
      return;
    }
    let line = '* SEARCH';
    if (ids.length) {
      const parts: string[] = [];
      for (const id of ids) parts.push(String(id));
      line += ' ' + parts.join(' ');
      if (modseq) line += ` (MODSEQ ${res.highestModseq})`;
    }
    w.line(line);
  },
};
