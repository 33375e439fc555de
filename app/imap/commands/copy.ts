/** COPY / UID COPY (RFC 3501 §6.4.7) and MOVE / UID MOVE (RFC 6851), with COPYUID (RFC 4315). */
import type { CommandContext, CommandSpec, Completion } from '../command.ts';
import { SELECTED } from '../command.ts';
import { ImapNoError } from '../errors.ts';
import { compressUids, parseSequenceSet, resolveSequenceSet } from '../sequence.ts';
import { mailboxArg } from './mailbox-arg.ts';

function run(ctx: CommandContext, move: boolean): Completion | void {
  const { session, w, args, uid } = ctx;
  const sel = session.requireSelected();
  const set = parseSequenceSet(args.atom('sequence set'));
  const name = mailboxArg(session, args);
  args.end();
  const target = sel.account.getMailbox(name);
  if (!target) throw new ImapNoError('TRYCREATE', 'Mailbox does not exist');
  if (move && sel.readOnly) throw new ImapNoError('READ-ONLY', 'Mailbox is read-only.');
  const uids = resolveSequenceSet(set, sel.uids, uid, sel.saved);
  if (!uids.length) return { text: `${move ? 'Move' : 'Copy'} completed (no messages).` };
  const res = move
    ? sel.account.move(sel.id, uids, target.id, session)
    : sel.account.copy(sel.id, uids, target.id, session);
  if (!res.pairs.length) {
    throw new ImapNoError('EXPUNGEISSUED', 'Some of the requested messages no longer exist.');
  }
  const code = `COPYUID ${res.uidValidity} ${compressUids(res.pairs.map((p) => p[0]))} ${compressUids(res.pairs.map((p) => p[1]))}`;
  if (move) {
    // RFC 6851: COPYUID goes in an untagged OK before the EXPUNGEs.
    w.line(`* OK [${code}] Moved UIDs.`);
    session.flushUpdates(true);
    return { text: 'Move completed.' };
  }
  return { code, text: 'Copy completed.' };
}

export const copy: CommandSpec = {
  name: 'COPY',
  states: SELECTED,
  uid: true,
  handle: (ctx) => run(ctx, false),
};
export const move: CommandSpec = {
  name: 'MOVE',
  states: SELECTED,
  uid: true,
  handle: (ctx) => run(ctx, true),
};
