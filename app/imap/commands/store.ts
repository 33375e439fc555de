/**
 * STORE / UID STORE (RFC 3501 §6.4.6) with .SILENT and UNCHANGEDSINCE (RFC 7162 §3.1.3: failed
 * messages are listed in `[MODIFIED set]`).
 */
import type { CommandSpec } from '../command.ts';
import { SELECTED } from '../command.ts';
import type { FlagOperation } from '../backend.ts';
import { ImapBadError } from '../errors.ts';
import { parseFlags } from '../flags.ts';
import { parseNumber } from '../args.ts';
import { compressUids, parseSequenceSet, resolveSequenceSet } from '../sequence.ts';
import { flagList } from '../format.ts';

export const store: CommandSpec = {
  name: 'STORE',
  states: SELECTED,
  uid: true,
  allowsExpunge: (uid) => uid,
  handle({ session, w, args, uid }) {
    const sel = session.requireSelected();
    const set = parseSequenceSet(args.atom('sequence set'));
    let unchangedSince: number | undefined;
    const mods = args.optionalList();
    if (mods) {
      for (let i = 0; i < mods.length; i++) {
        const m = mods[i]!;
        const n = mods[i + 1];
        if (m.type === 'atom' && m.value.toUpperCase() === 'UNCHANGEDSINCE' && n && n.type === 'atom') {
          unchangedSince = parseNumber(n.value, 'mod-sequence');
          i++;
        } else throw new ImapBadError('Invalid STORE modifier');
      }
      session.enableCondstore();
    }
    const item = args.atom('data item').toUpperCase();
    const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
    if (!m) throw new ImapBadError('Invalid STORE data item');
    const op: FlagOperation = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
    const silent = Boolean(m[2]);
    const rest = args.rest();
    const flagTokens = rest.length === 1 && rest[0]!.type === 'list' ? rest[0]!.items : rest;
    const flags = parseFlags(flagTokens);
    // Like Dovecot: STORE in a read-only (EXAMINEd) mailbox succeeds without changing anything.
    if (sel.readOnly) return;
    const uids = resolveSequenceSet(set, sel.uids, uid, sel.saved);
    if (!uids.length) return;
    const res = sel.account.storeFlags(sel.id, uids, op, flags, unchangedSince, session);
    const condstore = session.condstore;
    for (const r of res.rows) {
      sel.announceKeywords(w, r.flags);
      sel.told(r.uid, r.flags, r.modseq, silent);
      if (silent && unchangedSince === undefined) continue;
      const seq = sel.seqOf(r.uid);
      if (!seq) continue;
      // With UNCHANGEDSINCE, RFC 7162 asks for the MODSEQ even when .SILENT.
      const parts: string[] = [];
      if (uid) parts.push(`UID ${r.uid}`);
      if (!silent) parts.push(`FLAGS ${flagList(sel.shown(r.uid, r.flags))}`);
      if (condstore) parts.push(`MODSEQ (${r.modseq})`);
      if (parts.length === (uid ? 1 : 0)) continue;
      w.line(`* ${seq} FETCH (${parts.join(' ')})`);
    }
    if (res.modified.length) {
      const ids = uid ? res.modified : res.modified.map((u) => sel.seqOf(u)).filter((s) => s > 0);
      return {
        code: `MODIFIED ${compressUids(ids.sort((a, b) => a - b))}`,
        text: 'Conditional store failed.',
      };
    }
  },
};
