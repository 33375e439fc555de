/** COMPRESS DEFLATE (RFC 4978). Compression starts right after the tagged OK. */
import type { CommandSpec } from '../command.ts';
import { AUTHED } from '../command.ts';
import { ImapBadError, ImapNoError } from '../errors.ts';

export const compress: CommandSpec = {
  name: 'COMPRESS',
  states: AUTHED,
  handle({ session, w, tag, args }) {
    const mech = args.atom('mechanism').toUpperCase();
    args.end();
    if (!session.config.offerCompress) throw new ImapBadError('Unknown command.');
    if (mech !== 'DEFLATE') throw new ImapBadError('Unsupported compression mechanism.');
    if (session.transport.compressed)
      throw new ImapNoError('COMPRESSIONACTIVE', 'Compression already active.');
    w.line(`${tag} OK DEFLATE active`);
    session.transport.startCompression();
    return { replied: true };
  },
};
