/**
 * RENAME (RFC 3501 §6.3.5): children move along; missing parents of the target are created;
 * renaming INBOX moves its messages to the new mailbox and leaves INBOX empty.
 */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { InvalidMailboxNameError, MailboxExistsError } from '../errors.ts';
import { validateNewName } from '../mailbox-names.ts';
import { ensureParents, findMailbox, mailboxArg, mailboxArgAsSent, oldNameItem } from './mailbox-arg.ts';
import { listOne } from './list.ts';

export const rename: CommandSpec = {
  name: 'RENAME',
  states: AUTHED,
  handle({ session, w, args }) {
    const from = mailboxArg(session, args);
    const toArg = mailboxArgAsSent(session, args);
    const to = validateNewName(toArg.name);
    args.end();
    const account = session.requireAccount();
    const src = findMailbox(session, from);
    if (to === 'INBOX' || account.getMailbox(to)) throw new MailboxExistsError();
    if (to.startsWith(from + '/')) throw new InvalidMailboxNameError("Can't rename mailbox under itself.");
    ensureParents(session, to);
    if (from === 'INBOX') {
      const dst = account.createMailbox(to);
      const snap = account.openMailbox(src.id);
      if (snap.uids.length) account.move(src.id, snap.uids, dst.id, session);
    } else {
      account.renameMailbox(src.id, to);
      if (session.selected?.id === src.id) session.selected.info = { ...session.selected.info, name: to };
    }
    const oldName = oldNameItem(session, toArg);
    const info = oldName ? account.getMailbox(to) : null;
    if (oldName && info) w.line(listOne(session, info, oldName));
  },
};
