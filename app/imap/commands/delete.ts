/** DELETE (RFC 3501 §6.3.4). INBOX cannot be deleted; a mailbox with children neither. */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { InvalidMailboxNameError } from '../errors.ts';
import { findMailbox, mailboxArg } from './mailbox-arg.ts';

export const del: CommandSpec = {
  name: 'DELETE',
  states: AUTHED,
  handle({ session, args }) {
    const name = mailboxArg(session, args);
    args.end();
    if (name === 'INBOX') throw new InvalidMailboxNameError("INBOX can't be deleted.");
    const info = findMailbox(session, name);
    session.requireAccount().deleteMailbox(info.id);
  },
};
