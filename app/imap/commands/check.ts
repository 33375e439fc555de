/** CHECK (RFC 3501 §6.4.1): nothing to checkpoint (every change is committed); delivers updates. */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';

export const check: CommandSpec = {
  name: 'CHECK',
  states: SELECTED,
  handle({ args }) {
    args.end();
  },
};
