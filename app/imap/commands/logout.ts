/** LOGOUT (RFC 3501 §6.1.3). */
import type { CommandSpec } from '../command.ts';
import { ANY } from '../command.ts';

export const logout: CommandSpec = {
  name: 'LOGOUT',
  states: ANY,
  handle({ session, w, tag, args }) {
    args.end();
    w.line('* BYE Logging out');
    w.line(`${tag} OK Logout completed.`);
    session.close();
  },
};
