/** LOGIN (RFC 3501 §6.2.3): refused before STARTTLS unless plaintext login is allowed. */
import type { CommandSpec } from '../command.ts';
import { NOT_AUTHED } from '../command.ts';
import { ImapNoError } from '../errors.ts';
import { completeLogin } from './login-common.ts';

export const login: CommandSpec = {
  name: 'LOGIN',
  states: NOT_AUTHED,
  async handle({ session, args }) {
    const user = args.astring('user name');
    const pass = args.astring('password');
    args.end();
    if (!session.loginAllowed) {
      throw new ImapNoError(
        'PRIVACYREQUIRED',
        'Plaintext authentication disallowed on non-secure connections.',
      );
    }
    return completeLogin(session, user, pass);
  },
};
