/** CANCELUPDATE "tag" ... (RFC 5267 §4.3.5): stop the updates of those CONTEXT=SEARCH/SORT results. */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import { ImapBadError } from '../errors.ts';

export const cancelupdate: CommandSpec = {
  name: 'CANCELUPDATE',
  states: SELECTED,
  handle({ session, args }) {
    const sel = session.requireSelected();
    if (!args.remaining) throw new ImapBadError('Missing tag');
    const tags: string[] = [];
    while (args.remaining) {
      const t = args.next('tag');
      if (t.type !== 'string') throw new ImapBadError('Expected a quoted tag');
      tags.push(t.value.toString('utf8'));
    }
    for (const tag of tags) sel.contexts.cancel(tag);
  },
};
