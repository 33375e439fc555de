/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1-2), with the CONDSTORE parameter (RFC 7162 §3.1.8) and
 * QRESYNC (RFC 7162 §3.2.5).
 */
import type { CommandContext, CommandSpec, Completion } from '../command.ts';
import { AUTHED } from '../command.ts';
import { ImapBadError } from '../errors.ts';
import type { ImapToken } from '../wire/types.ts';
import { parseNumber } from '../args.ts';
import { compressUids, inUidSet, parseSequenceSet, resolveSequenceSet } from '../sequence.ts';
import type { SeqRange } from '../sequence.ts';
import { flagList } from '../format.ts';
import { SelectedMailbox, writeFlagsResponses } from '../tracker.ts';
import { findMailbox, mailboxArgAsSent, oldNameItem } from './mailbox-arg.ts';
import { listOne } from './list.ts';
import { REV2_KEYWORDS } from '../flags.ts';

interface Qresync {
  uidValidity: number;
  modseq: number;
  known: SeqRange[] | null;
}

/** `(uidvalidity mod-sequence [known-uids [seq-match-data]])`; seq-match-data is accepted and not needed. */
function parseQresync(items: ImapToken[]): Qresync {
  const num = (t: ImapToken | undefined, what: string): number => {
    if (!t || t.type !== 'atom') throw new ImapBadError(`Invalid QRESYNC ${what}`);
    return parseNumber(t.value, what);
  };
  const uidValidity = num(items[0], 'uidvalidity');
  const modseq = num(items[1], 'mod-sequence');
  let known: SeqRange[] | null = null;
  const k = items[2];
  if (k && k.type === 'atom') known = parseSequenceSet(k.value);
  else if (k && k.type !== 'list') throw new ImapBadError('Invalid QRESYNC known UIDs');
  if (items.length > (k && k.type === 'atom' ? 4 : 3)) throw new ImapBadError('Invalid QRESYNC parameter');
  return { uidValidity, modseq, known };
}

/**
 * RFC 7162 §3.2.5: what changed since the client's mod-sequence — `* VANISHED (EARLIER)` for the
 * known UIDs expunged since, then FETCH (UID FLAGS MODSEQ) for messages changed since.
 */
function resync(ctx: CommandContext, sel: SelectedMailbox, q: Qresync): void {
  const { w } = ctx;
  const max = Math.max(sel.uidNext - 1, 1);
  const gone = sel.account
    .expungedSince(sel.id, q.modseq)
    .filter((u) => q.known === null || inUidSet(q.known, u, max));
  if (gone.length) w.line(`* VANISHED (EARLIER) ${compressUids(gone)}`);
  const uids = q.known === null ? sel.uids : resolveSequenceSet(q.known, sel.uids, true);
  for (let i = 0; i < uids.length; i += 1024) {
    const batch = Array.prototype.slice.call(uids, i, i + 1024) as number[];
    for (const r of sel.account.fetch(sel.id, batch, {})) {
      if (r.modseq <= q.modseq) continue;
      sel.announceKeywords(w, r.flags);
      const flags = sel.shown(r.uid, r.flags);
      w.line(`* ${sel.seqOf(r.uid)} FETCH (UID ${r.uid} FLAGS ${flagList(flags)} MODSEQ (${r.modseq}))`);
    }
  }
}

function open(ctx: CommandContext, readOnly: boolean): Completion {
  const { session, w, args } = ctx;
  const arg = mailboxArgAsSent(session, args);
  const params = args.optionalList();
  args.end();
  let qresync: Qresync | null = null;
  if (params) {
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const v = p.type === 'atom' ? p.value.toUpperCase() : '';
      if (v === 'CONDSTORE') session.enabled.add('CONDSTORE');
      else if (v === 'QRESYNC') {
        if (!session.enabled.has('QRESYNC')) throw new ImapBadError('QRESYNC is not enabled');
        const q = params[++i];
        if (!q || q.type !== 'list') throw new ImapBadError('Invalid QRESYNC parameter');
        qresync = parseQresync(q.items);
      } else throw new ImapBadError('Unknown SELECT parameter');
    }
  }
  // RFC 7162 §3.2.11 and RFC 9051 §6.3.2: with QRESYNC enabled, or IMAP4rev2, an implicit close
  // is announced.
  const rev2 = session.rev2;
  if (session.selected && (rev2 || session.enabled.has('QRESYNC')))
    w.line('* OK [CLOSED] Previous mailbox closed.');
  session.deselect();
  const info = findMailbox(session, arg.name);
  const keywords = rev2 ? REV2_KEYWORDS : [];
  const recent = rev2 ? null : session.config.recent;
  const sel = new SelectedMailbox(session.requireAccount(), info.id, readOnly, session, recent, keywords);
  session.selected = sel;
  session.state = 'selected';
  writeFlagsResponses(w, keywords, readOnly);
  w.line(`* ${sel.exists} EXISTS`);
  // IMAP4rev2 (RFC 9051 §6.3.2): no RECENT and no [UNSEEN], a LIST response instead.
  if (rev2) w.line(listOne(session, info, oldNameItem(session, arg) ?? ''));
  else w.line(`* ${sel.recent.size} RECENT`);
  if (!rev2 && sel.firstUnseenUid !== null) {
    const seq = sel.seqOf(sel.firstUnseenUid);
    if (seq) w.line(`* OK [UNSEEN ${seq}] First unseen.`);
  }
  w.line(`* OK [UIDVALIDITY ${sel.uidValidity}] UIDs valid`);
  w.line(`* OK [UIDNEXT ${sel.uidNext}] Predicted next UID`);
  w.line(`* OK [HIGHESTMODSEQ ${sel.highestModseq}] Highest`);
  w.line(`* OK [MAILBOXID (${sel.info.objectId})] Ok`);
  if (qresync && qresync.uidValidity === sel.uidValidity) resync(ctx, sel, qresync);
  return {
    code: readOnly ? 'READ-ONLY' : 'READ-WRITE',
    text: `${readOnly ? 'Examine' : 'Select'} completed.`,
  };
}

export const select: CommandSpec = { name: 'SELECT', states: AUTHED, handle: (ctx) => open(ctx, false) };
export const examine: CommandSpec = { name: 'EXAMINE', states: AUTHED, handle: (ctx) => open(ctx, true) };
