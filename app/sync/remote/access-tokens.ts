/** What sync needs of the OAuth token broker (app/oauth/tokens.ts): a usable token per account. */
export interface AccessTokens {
  /** `rejected`: the token a server just refused (refreshed unless already replaced). */
  accessToken(accountId: number, opts?: { rejected?: string }): Promise<string>;
}
