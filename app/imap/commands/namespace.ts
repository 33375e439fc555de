/** NAMESPACE (RFC 2342): one personal namespace, delimiter '/'. */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';

export const namespace: CommandSpec = {
  name: 'NAMESPACE',
  states: AUTHED,
  handle({ w, args }) {
    args.end();
    w.line('* NAMESPACE (("" "/")) NIL NIL');
  },
};
