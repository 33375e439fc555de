/** AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616), with SASL-IR (RFC 4959) or a continuation. */
import type { CommandSpec } from '../command.ts';
import { NOT_AUTHED } from '../command.ts';
import { ImapBadError, ImapNoError } from '../errors.ts';
import { tokenString } from '../args.ts';
import { completeLogin } from './login-common.ts';

function decodePlain(b64: string): { user: string; pass: string } {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new ImapBadError('Invalid base64 data in continued response');
  }
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) throw new ImapNoError('AUTHENTICATIONFAILED', 'Authentication failed.');
  const [authz, user, pass] = parts as [string, string, string];
  if (authz && authz !== user)
    throw new ImapNoError('AUTHORIZATIONFAILED', 'Authorization identity not allowed.');
  return { user, pass };
}

export const authenticate: CommandSpec = {
  name: 'AUTHENTICATE',
  states: NOT_AUTHED,
  async handle({ session, w, args }) {
    const mech = args.atom('mechanism').toUpperCase();
    const ir = args.remaining ? tokenString(args.next()) : null;
    args.end();
    if (mech !== 'PLAIN') throw new ImapNoError(null, 'Unsupported authentication mechanism.');
    if (!session.loginAllowed) {
      throw new ImapNoError(
        'PRIVACYREQUIRED',
        'Plaintext authentication disallowed on non-secure connections.',
      );
    }
    let response: string;
    if (ir !== null) response = ir === '=' ? '' : ir;
    else {
      w.line('+ ');
      await w.drain();
      const line = await session.transport.readRawLine();
      if (line === null) throw new ImapBadError('Connection closed');
      if (line.trim() === '*') throw new ImapBadError('Authentication aborted by client.');
      response = line.trim();
    }
    const { user, pass } = decodePlain(response);
    return completeLogin(session, user, pass);
  },
};
