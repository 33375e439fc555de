/** Provider IMAP connection settings, as stored with an account. */
import type { Account } from '../../store/repos/accounts.ts';

export type Security = 'starttls' | 'tls' | 'none';

export interface ProviderEndpoint {
  host: string;
  port: number;
  security: Security;
  username: string;
  password: string;
  /**
   * OAuth 2.0: the account signs in with a bearer token (XOAUTH2 / OAUTHBEARER, as the
   * server advertises) — `accessToken` once the connection is about to be made.
   */
  oauth?: boolean;
  accessToken?: string;
  /** PEM of a private CA (trusted in addition to the system roots). */
  caPem?: string | null;
}

export function endpointOf(account: Account): ProviderEndpoint {
  return {
    host: account.imap.host,
    port: account.imap.port,
    security: account.security,
    username: account.username,
    password: account.providerPassword,
    oauth: account.oauth !== null,
    caPem: account.caPem,
  };
}
