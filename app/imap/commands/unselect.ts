/** UNSELECT (RFC 3691): leave the mailbox without expunging. */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';

export const unselect: CommandSpec = {
  name: 'UNSELECT',
  states: SELECTED,
  handle({ session, args }) {
    args.end();
    session.deselect();
  },
};
