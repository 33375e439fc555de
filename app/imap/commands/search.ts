/**
 * SEARCH / UID SEARCH (RFC 3501 §6.4.4) with CHARSET, MODSEQ (RFC 7162 §3.1.5) and ESEARCH
 * `RETURN (MIN MAX COUNT ALL)` (RFC 4731); always ESEARCH in IMAP4rev2 sessions (RFC 9051 §6.4.4);
 * CONTEXT=SEARCH `RETURN (PARTIAL lo:hi UPDATE CONTEXT)` (RFC 5267 §4).
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import { parseKeys, skipCharset, usesModseq } from '../search/parse.ts';
import { runSearch } from '../search/evaluate.ts';
import { keepUpdated, noteUnsearchable, parseReturn, writeReturn } from '../search/results.ts';

export const search: CommandSpec = {
  name: 'SEARCH',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  async handle({ session, w, args, uid, tag }) {
    const sel = session.requireSelected();
    const tokens = args.rest();
    const parsed = parseReturn(tokens);
    // RFC 9051 §6.4.4: in IMAP4rev2 SEARCH answers ESEARCH, as if RETURN (ALL) was given.
    const ret = parsed?.ret ?? (session.rev2 ? { opts: new Set(['ALL']), partial: null } : null);
    const key = parseKeys(tokens.slice(skipCharset(tokens, parsed?.next ?? 0)));
    const update = ret?.opts.has('UPDATE') ?? false;
    if (update) sel.contexts.checkTag(tag);
    // RFC 5182 §2.1: a SEARCH ... RETURN (SAVE) that fails leaves `$` empty (one that cannot be
    // parsed changes nothing, like Dovecot).
    if (ret?.opts.has('SAVE')) sel.saved = [];
    const res = await runSearch(sel, key, {}, () => session.state !== 'logout');
    const modseq = usesModseq(key);
    if (modseq) session.enableCondstore();
    const name = `${uid ? 'UID ' : ''}Search`;
    if (ret) {
      writeReturn(w, sel, tag, uid, res.uids, ret, modseq, res.highestModseq);
      if (update)
        return noteUnsearchable(
          name,
          res.unsearchable,
          keepUpdated(
            w,
            sel,
            tag,
            uid,
            key,
            null,
            res.uids.map((u) => ({ uid: u, v: [] })),
          ),
        );
      return noteUnsearchable(name, res.unsearchable);
    }
    const ids = uid ? res.uids : res.uids.map((u) => sel.seqOf(u));
    let line = '* SEARCH';
    if (ids.length) {
      const parts: string[] = [];
      for (const id of ids) parts.push(String(id));
      line += ' ' + parts.join(' ');
      if (modseq) line += ` (MODSEQ ${res.highestModseq})`;
    }
    w.line(line);
    return noteUnsearchable(name, res.unsearchable);
  },
};
