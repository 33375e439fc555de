/** Resolving a mailbox argument to the port's MailboxInfo. */
import type { Args } from '../args.ts';
import type { MailboxInfo } from '../backend.ts';
import type { Session } from '../session.ts';
import { MailboxNotFoundError } from '../errors.ts';
import { fromWire, normalizeInbox } from '../mailbox-names.ts';
import { mailboxName } from '../format.ts';

/** Reads a mailbox argument and returns its port name (UTF-8, INBOX normalised). */
export function mailboxArg(session: Session, args: Args): string {
  return fromWire(args.astring('mailbox name'), session.utf8);
}

/** A mailbox argument as the port name it names and as the client spelled it. */
export interface NamedArg {
  name: string;
  sent: string;
}

export function mailboxArgAsSent(session: Session, args: Args): NamedArg {
  const sent = args.astring('mailbox name');
  return { name: fromWire(sent, session.utf8), sent };
}

/**
 * RFC 9051 §5.1 / §6.3.2, §6.3.4, §6.3.6: an IMAP4rev2 session that named a mailbox in another
 * form than the UTF-8 one (modified UTF-7, still accepted for IMAP4rev1 clients) is told the name
 * with `* LIST` carrying the spelling it used as OLDNAME. Null when nothing needs saying.
 */
export function oldNameItem(session: Session, arg: NamedArg): string | null {
  if (!session.rev2 || normalizeInbox(arg.sent) === arg.name) return null;
  return ` ("OLDNAME" (${mailboxName(arg.sent)}))`;
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
