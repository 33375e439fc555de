/** THREAD / UID THREAD (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES. */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import { ImapBadError } from '../errors.ts';
import { parseKeys, skipCharset } from '../search/parse.ts';
import { runSearch } from '../search/evaluate.ts';
import { noteUnsearchable } from '../search/results.ts';
import { orderedSubject, references } from '../thread.ts';
import type { ThreadMsg } from '../thread.ts';

export const thread: CommandSpec = {
  name: 'THREAD',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  async handle({ session, w, args, uid }) {
    const sel = session.requireSelected();
    const alg = args.atom('threading algorithm').toUpperCase();
    if (alg !== 'ORDEREDSUBJECT' && alg !== 'REFERENCES')
      throw new ImapBadError('Unknown threading algorithm');
    const tokens = args.rest();
    if (!tokens.length) throw new ImapBadError('Missing charset');
    const i = skipCharset([{ type: 'atom', value: 'CHARSET' }, ...tokens], 0) - 1;
    const res = await runSearch(
      sel,
      parseKeys(tokens.slice(i)),
      { headers: true },
      () => session.state !== 'logout',
    );
    const msgs: ThreadMsg[] = [];
    for (const u of res.uids) {
      const row = res.rows?.get(u);
      if (row) msgs.push({ id: uid ? u : sel.seqOf(u), row });
    }
    const out = alg === 'ORDEREDSUBJECT' ? orderedSubject(msgs) : references(msgs);
    w.line(`* THREAD${out ? ' ' + out : ''}`);
    return noteUnsearchable(`${uid ? 'UID ' : ''}Thread`, res.unsearchable);
  },
};
