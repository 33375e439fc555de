/**
 * APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID (RFC 4315), literal8
 * (RFC 3516). All messages of one command are stored atomically.
 */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import type { AppendInput } from '../backend.ts';
import { ImapBadError, ImapNoError, MessageRejectedError } from '../errors.ts';
import { parseFlags } from '../flags.ts';
import { parseDateTime } from '../dates.ts';
import { compressUids } from '../sequence.ts';
import { mailboxArg } from './mailbox-arg.ts';

export const append: CommandSpec = {
  name: 'APPEND',
  states: AUTHED,
  async handle({ session, args }) {
    const name = mailboxArg(session, args);
    const inputs: AppendInput[] = [];
    while (args.remaining) {
      let flags: string[] = [];
      let date: number | null = null;
      const f = args.optionalList();
      if (f) flags = parseFlags(f);
      const t = args.peek();
      if (t && t.type === 'string' && !t.literal) {
        args.next();
        date = parseDateTime(t.value.toString('latin1'));
      }
      const msg = args.next('message literal');
      if (msg.type !== 'string') throw new ImapBadError('Expected message literal');
      if (msg.value.length === 0) throw new MessageRejectedError('Empty message');
      if (msg.value.length > session.config.maxMessageSize)
        throw new MessageRejectedError('Message too big', 'TOOBIG');
      inputs.push({ raw: msg.value, flags, internalDate: date });
    }
    if (!inputs.length) throw new ImapBadError('Missing message literal');
    const account = session.requireAccount();
    const info = account.getMailbox(name);
    if (!info) throw new ImapNoError('TRYCREATE', 'Mailbox does not exist');
    const res = await account.append(info.id, inputs, session);
    return { code: `APPENDUID ${res.uidValidity} ${compressUids(res.uids)}`, text: 'Append completed.' };
  },
};
