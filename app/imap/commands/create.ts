/** CREATE (RFC 3501 §6.3.3), creating missing parents; USE (RFC 6154 CREATE-SPECIAL-USE) is not offered. */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { MailboxExistsError } from '../errors.ts';
import { validateNewName } from '../mailbox-names.ts';
import { ensureParents, mailboxArg } from './mailbox-arg.ts';

export const create: CommandSpec = {
  name: 'CREATE',
  states: AUTHED,
  handle({ session, args }) {
    const raw = mailboxArg(session, args);
    args.end();
    const name = validateNewName(raw);
    const account = session.requireAccount();
    if (name === 'INBOX' || account.getMailbox(name)) throw new MailboxExistsError();
    ensureParents(session, name);
    account.createMailbox(name);
  },
};
