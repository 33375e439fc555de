/** EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import { ImapNoError } from '../errors.ts';
import { parseSequenceSet, resolveSequenceSet } from '../sequence.ts';

export const expunge: CommandSpec = {
  name: 'EXPUNGE',
  states: SELECTED,
  uid: true,
  handle({ session, args, uid }) {
    const sel = session.requireSelected();
    let limit: number[] | undefined;
    if (uid)
      limit = resolveSequenceSet(parseSequenceSet(args.atom('sequence set')), sel.uids, true, sel.saved);
    args.end();
    if (sel.readOnly) throw new ImapNoError('READ-ONLY', 'Mailbox is read-only.');
    if (limit && !limit.length) return;
    sel.account.expunge(sel.id, limit, session);
    // The expunge event is queued on our tracker; the dispatcher tells it now (allowed here).
  },
};
