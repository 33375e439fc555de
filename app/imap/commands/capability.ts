/** CAPABILITY (RFC 3501 §6.1.1). */
import type { CommandSpec } from '../command.ts';
import { ANY } from '../command.ts';

export const capability: CommandSpec = {
  name: 'CAPABILITY',
  states: ANY,
  handle({ session, w, args }) {
    args.end();
    w.line(`* CAPABILITY ${session.capabilities()}`);
  },
};
