/** ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162), UTF8=ACCEPT (RFC 6855), IMAP4rev2 (RFC 9051). */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { ImapBadError } from '../errors.ts';

/** Upper case → the spelling ENABLED answers with. */
const SUPPORTED = new Map(
  ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4rev2'].map((c) => [c.toUpperCase(), c]),
);

export const enable: CommandSpec = {
  name: 'ENABLE',
  states: AUTHED,
  handle({ session, w, args }) {
    if (args.remaining === 0) throw new ImapBadError('Missing capability');
    const now: string[] = [];
    while (args.remaining) {
      const cap = SUPPORTED.get(args.atom('capability').toUpperCase());
      if (cap && !session.enabled.has(cap)) {
        // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
        if (cap === 'CONDSTORE' || cap === 'QRESYNC') session.enableCondstore();
        session.enabled.add(cap);
        // A rev2 session has no \Recent (RFC 9051 Appendix E), also in a mailbox already selected.
        if (cap === 'IMAP4rev2') session.selected?.stopRecent();
        now.push(cap);
      }
    }
    w.line(`* ENABLED${now.map((c) => ' ' + c).join('')}`);
  },
};
