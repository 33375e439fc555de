/** CLOSE (RFC 3501 §6.4.2): silently expunge \Deleted messages (unless read-only), then deselect. */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';

export const close: CommandSpec = {
  name: 'CLOSE',
  states: SELECTED,
  handle({ session, args }) {
    args.end();
    const sel = session.requireSelected();
    if (!sel.readOnly) sel.account.expunge(sel.id, undefined, session);
    session.deselect();
  },
};
