/** Resolving a mailbox argument to the port's MailboxInfo. */
import type { Args } from '../args.ts';
import type { MailboxInfo } from '../backend.ts';
import type { Session } from '../session.ts';
import { MailboxNotFoundError } from '../errors.ts';
import { fromWire } from '../mailbox-names.ts';

/** Reads a mailbox argument and returns its port name (UTF-8, INBOX normalised). */
export function mailboxArg(session: Session, args: Args): string {
  return fromWire(args.astring('mailbox name'), session.utf8);
}

export function findMailbox(session: Session, name: string): MailboxInfo {
  const info = session.requireAccount().getMailbox(name);
  if (!info) throw new MailboxNotFoundError(name);
  return info;
}

/** Create the missing parents of `name` (RFC 3501 §6.3.3: the server creates the hierarchy). */
export function ensureParents(session: Session, name: string): void {
  const account = session.requireAccount();
  const parts = name.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    if (!account.getMailbox(parent)) account.createMailbox(parent);
  }
}
