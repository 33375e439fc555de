/** STATUS (RFC 3501 §6.3.10). */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { findMailbox, mailboxArg } from './mailbox-arg.ts';
import { parseStatusItems, statusLine } from './status-items.ts';

export const status: CommandSpec = {
  name: 'STATUS',
  states: AUTHED,
  handle({ session, w, args }) {
    const name = mailboxArg(session, args);
    const items = parseStatusItems(args.list('status items'));
    args.end();
    const info = findMailbox(session, name);
    w.line(statusLine(session.requireAccount(), info, items, session.utf8, session.config.recent));
  },
};
