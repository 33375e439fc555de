/** STARTTLS (RFC 3501 §6.2.1). The TLS handshake starts after the tagged OK. */
import type { CommandSpec } from '../command.ts';
import { NOT_AUTHED } from '../command.ts';
import { ImapBadError } from '../errors.ts';

export const starttls: CommandSpec = {
  name: 'STARTTLS',
  states: NOT_AUTHED,
  async handle({ session, w, tag, args }) {
    args.end();
    if (session.transport.secure) throw new ImapBadError('TLS is already active.');
    if (!session.config.tlsAvailable) throw new ImapBadError('TLS support is not configured.');
    w.line(`${tag} OK Begin TLS negotiation now.`);
    w.flush();
    await session.transport.startTls();
    return { replied: true };
  },
};
