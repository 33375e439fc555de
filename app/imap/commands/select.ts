/** SELECT and EXAMINE (RFC 3501 §6.3.1-2), with the CONDSTORE parameter (RFC 7162 §3.1.8). */
import type { CommandContext, CommandSpec, Completion } from '../command.ts';
import { AUTHED } from '../command.ts';
import { ImapBadError } from '../errors.ts';
import { SelectedMailbox, writeFlagsResponses } from '../tracker.ts';
import { findMailbox, mailboxArg } from './mailbox-arg.ts';

function open(ctx: CommandContext, readOnly: boolean): Completion {
  const { session, w, args } = ctx;
  const name = mailboxArg(session, args);
  const params = args.optionalList();
  args.end();
  if (params) {
    for (const p of params) {
      if (p.type === 'atom' && p.value.toUpperCase() === 'CONDSTORE') session.enabled.add('CONDSTORE');
      else throw new ImapBadError('Unknown SELECT parameter');
    }
  }
  session.deselect();
  const info = findMailbox(session, name);
  const sel = new SelectedMailbox(
    session.requireAccount(),
    info.id,
    readOnly,
    session,
    session.config.recent,
  );
  session.selected = sel;
  session.state = 'selected';
  writeFlagsResponses(w, [], readOnly);
  w.line(`* ${sel.exists} EXISTS`);
  w.line(`* ${sel.recent.size} RECENT`);
  if (sel.firstUnseenUid !== null) {
    const seq = sel.seqOf(sel.firstUnseenUid);
    if (seq) w.line(`* OK [UNSEEN ${seq}] First unseen.`);
  }
  w.line(`* OK [UIDVALIDITY ${sel.uidValidity}] UIDs valid`);
  w.line(`* OK [UIDNEXT ${sel.uidNext}] Predicted next UID`);
  w.line(`* OK [HIGHESTMODSEQ ${sel.highestModseq}] Highest`);
  return {
    code: readOnly ? 'READ-ONLY' : 'READ-WRITE',
    text: `${readOnly ? 'Examine' : 'Select'} completed.`,
  };
}

export const select: CommandSpec = { name: 'SELECT', states: AUTHED, handle: (ctx) => open(ctx, false) };
export const examine: CommandSpec = { name: 'EXAMINE', states: AUTHED, handle: (ctx) => open(ctx, true) };
