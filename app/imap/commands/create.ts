/**
 * CREATE (RFC 3501 §6.3.3), creating missing parents, answered with the new mailbox's MAILBOXID
 * (RFC 8474 §4.1); USE (RFC 6154 CREATE-SPECIAL-USE) is not offered.
 */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { MailboxExistsError } from '../errors.ts';
import { validateNewName } from '../mailbox-names.ts';
import { ensureParents, mailboxArgAsSent, oldNameItem } from './mailbox-arg.ts';
import { listOne } from './list.ts';

export const create: CommandSpec = {
  name: 'CREATE',
  states: AUTHED,
  handle({ session, w, args }) {
    const arg = mailboxArgAsSent(session, args);
    args.end();
    const name = validateNewName(arg.name);
    const account = session.requireAccount();
    if (name === 'INBOX' || account.getMailbox(name)) throw new MailboxExistsError();
    ensureParents(session, name);
    const info = account.createMailbox(name);
    const oldName = oldNameItem(session, arg);
    if (oldName) w.line(listOne(session, info, oldName));
    return { code: `MAILBOXID (${info.objectId})` };
  },
};
