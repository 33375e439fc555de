/** ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162), UTF8=ACCEPT (RFC 6855). */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { ImapBadError } from '../errors.ts';

const SUPPORTED = new Set(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT']);

export const enable: CommandSpec = {
  name: 'ENABLE',
  states: AUTHED,
  handle({ session, w, args }) {
    if (args.remaining === 0) throw new ImapBadError('Missing capability');
    const now: string[] = [];
    while (args.remaining) {
      const cap = args.atom('capability').toUpperCase();
      if (SUPPORTED.has(cap) && !session.enabled.has(cap)) {
        // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
        if (cap === 'CONDSTORE' || cap === 'QRESYNC') session.enableCondstore();
        session.enabled.add(cap);
        now.push(cap);
      }
    }
    w.line(`* ENABLED${now.map((c) => ' ' + c).join('')}`);
  },
};
