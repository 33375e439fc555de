/** NOOP (RFC 3501 §6.1.2): the dispatcher delivers pending mailbox updates afterwards. */
import type { CommandSpec } from '../command.ts';
import { ANY } from '../command.ts';

export const noop: CommandSpec = {
  name: 'NOOP',
  states: ANY,
  handle({ args }) {
    args.end();
  },
};
