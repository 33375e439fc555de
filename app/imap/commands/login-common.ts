/** Shared by LOGIN and AUTHENTICATE: throttled credential check and the switch to authenticated. */
import type { Session } from '../session.ts';
import type { Completion } from '../command.ts';
import { ImapNoError } from '../errors.ts';

export async function completeLogin(
  session: Session,
  username: string,
  password: string,
): Promise<Completion> {
  const throttle = session.config.throttle;
  if (throttle.locked) {
    throw new ImapNoError('UNAVAILABLE', 'Too many failed logins, try again later.');
  }
  let account = null;
  if (username && password) account = await session.config.backend.authenticate(username, password);
  if (!account) {
    session.failedLogins++;
    const delay = throttle.fail(session.failedLogins);
    await new Promise((r) => setTimeout(r, delay));
    if (session.failedLogins >= throttle.maxPerConnection)
      session.closeAfterReply = 'Too many failed logins.';
    throw new ImapNoError('AUTHENTICATIONFAILED', 'Authentication failed.');
  }
  session.account = account;
  session.state = 'authenticated';
  session.logger.info({ user: account.username }, 'IMAP login');
  return { code: `CAPABILITY ${session.capabilities()}`, text: 'Logged in' };
}
