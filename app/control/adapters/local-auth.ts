/**
 * The one local login of mail clients, for IMAP and SMTP alike: the account's email address as
 * the user name and the local password that `lockbridge credentials` shows.
 */
import type { Store } from '../../store/store.ts';
import type { Account } from '../../store/repos/accounts.ts';

/** The account `username` names when `password` is the local password, else null. */
export function localLogin(store: Store, username: string, password: string): Account | null {
  const account = store.accounts.getByEmail(username.trim());
  // verified even for an unknown user name, so the answer takes as long either way
  const ok = store.credentials.verify(password);
  return account && ok ? account : null;
}
