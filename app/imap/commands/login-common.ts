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
  let account = null;
  if (username && password) account = await session.config.backend.authenticate(username, password);
  if (!account) {
    session.failedLogins++;
    const verdict = throttle.fail(session.failedLogins);
    const remote = session.transport.remoteAddress;
    session.logger.warn(
      { remote, failures: session.failedLogins, delayMs: verdict.delayMs },
      'failed local IMAP login',
    );
    if (verdict.startedThrottling)
      session.logger.warn(
        { recentFailures: verdict.recentFailures, delayMs: verdict.delayMs },
        'many failed local IMAP logins: every failure now waits the longest delay',
      );
    await new Promise((r) => setTimeout(r, verdict.delayMs));
    if (session.failedLogins >= throttle.maxPerConnection)
      session.closeAfterReply = 'Too many failed logins.';
    throw new ImapNoError('AUTHENTICATIONFAILED', 'Authentication failed.');
  }
  session.account = account;
  session.state = 'authenticated';
  session.logger.info({ user: account.username }, 'IMAP login');
  return { code: `CAPABILITY ${session.capabilities()}`, text: 'Logged in' };
}
