/**
 * A real OAuth 2.0 / OpenID Connect authorization server on loopback for the OAuth tests (issue
 * 18): `oidc-provider` (the certified OpenID provider library) with discovery, PKCE, refresh tokens,
 * introspection (what Dovecot's oauth2 passdb asks) and revocation. The sign-in pages are the
 * library's development interactions: `signInWithBrowser` follows the authorization URL with
 * fetch the way a browser would — log in as the address, consent — and returns the final
 * redirect (to the app's loopback listener).
 *
 *   const as = await startOidcServer({ accessTokenTtl: 20 });
 *   as.introspectionUrl          // for startProvider({ oauth2: { introspectionUrl } })
 *   await as.signInWithBrowser(printedUrl, 'ann@example.test');
 */
import { createServer, type Server } from 'node:http';
import Provider, { type SavedToken } from 'oidc-provider';

export interface OidcServer {
  readonly issuer: string;
  /** With the introspecting client's credentials (Dovecot's) in the userinfo. */
  readonly introspectionUrl: string;
  readonly clientId: string;
  /** Grant types the token endpoint served, in order (e.g. authorization_code, refresh_token). */
  readonly grants: string[];
  /** Logs in as `login` and consents; follows redirects until one leaves the server. Returns it. */
  signInWithBrowser(authorizationUrl: string, login: string): Promise<{ location: string; status: number }>;
  /** Every access / refresh token value issued so far (to grep files and logs for them). */
  issuedTokens(): string[];
  /** When the newest access token issued to an account expires (ms since the epoch). */
  latestAccessTokenExpiry(accountId: string): number | null;
  /** Revokes a token at the revocation endpoint: oidc-provider then revokes every token of its grant. */
  revoke(token: string): Promise<void>;
  /**
   * The next introspection answers "not active", whatever the token (as a provider does that
   * invalidates an access token early); the grant, its refresh token and the tokens refreshed
   * later are left alone.
   */
  rejectNextIntrospection(): void;
  /** Revokes the account's newest refresh token, and with it the grant. */
  revokeGrant(accountId: string): Promise<void>;
  close(): Promise<void>;
}

export interface OidcServerOptions {
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
}

export async function startOidcServer(o: OidcServerOptions = {}): Promise<OidcServer> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'lockbridge-test';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // RFC 8252 7.3: for a native client's loopback redirect the port is not compared
        redirect_uris: ['http://127.0.0.1/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: 'dovecot',
        client_secret: 'dovecot-introspection-secret',
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
    ],
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    scopes: ['openid', 'offline_access', 'mail'],
    pkce: { required: () => true },
    ttl: {
      AccessToken: o.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Session: 24 * 3600,
      Interaction: 600,
      IdToken: 3600,
    },
    // a refresh token for every code exchange (the app always wants to stay signed in)
    issueRefreshToken: async () => true,
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: sub }),
    }),
    cookies: { keys: ['lockbridge-test-cookie-key'] },
  });
  const grants: string[] = [];
  const tokens: string[] = [];
  const accessExpiry = new Map<string, number>();
  const latestRefresh = new Map<string, string>();
  provider.on('grant.success', ((ctx: { oidc: { params?: { grant_type?: string } } }) => {
    grants.push(ctx.oidc.params?.grant_type ?? '?');
  }) as never);
  provider.on('access_token.saved', ((t: SavedToken) => {
    tokens.push(t.jti);
    // saved with exp = now + expiration (seconds) unless the model has one: now here is no earlier
    if (t.accountId)
      accessExpiry.set(t.accountId, (t.exp ?? Math.floor(Date.now() / 1000) + t.expiration) * 1000);
  }) as never);
  provider.on('refresh_token.saved', ((t: SavedToken) => {
    tokens.push(t.jti);
    if (t.accountId) latestRefresh.set(t.accountId, t.jti);
  }) as never);
  let rejectIntrospection = false;
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (rejectIntrospection && req.method === 'POST' && req.url?.startsWith('/token/introspection')) {
      rejectIntrospection = false;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"active":false}');
      return;
    }
    void handle(req, res);
  });

  async function revoke(token: string): Promise<void> {
    const r = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: clientId }),
    });
    if (r.status !== 200) throw new Error(`revocation answered ${r.status}: ${await r.text()}`);
  }

  return {
    issuer,
    introspectionUrl: `http://dovecot:dovecot-introspection-secret@127.0.0.1:${port}/token/introspection`,
    clientId,
    grants,
    issuedTokens: () => [...tokens],
    latestAccessTokenExpiry: (a) => accessExpiry.get(a) ?? null,
    revoke,
    rejectNextIntrospection() {
      rejectIntrospection = true;
    },
    async revokeGrant(accountId) {
      const rt = latestRefresh.get(accountId);
      if (!rt) throw new Error(`no refresh token issued to ${accountId}`);
      await revoke(rt);
    },
    async signInWithBrowser(authorizationUrl, login) {
      const jar = new Map<string, string>();
      let url = authorizationUrl;
      let method = 'GET';
      let body: string | undefined;
      for (let hop = 0; hop < 20; hop++) {
        const r = await fetch(url, {
          method,
          redirect: 'manual',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(body ? { body } : {}),
        });
        for (const c of r.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = (pair ?? '').indexOf('=');
          const name = (pair ?? '').slice(0, eq).trim();
          const value = (pair ?? '').slice(eq + 1).trim();
          if (!value || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
          else jar.set(name, value);
        }
        const location = r.headers.get('location');
        if (r.status >= 300 && r.status < 400 && location) {
          const next = new URL(location, url);
          if (next.origin !== issuer) return { location: next.toString(), status: r.status };
          url = next.toString();
          method = 'GET';
          body = undefined;
          continue;
        }
        const html = await r.text();
        if (r.status !== 200)
          throw new Error(`the authorization server answered ${r.status}: ${html.slice(0, 500)}`);
        // a dev interaction page: the login form or the consent form, posted back to itself
        const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
        if (!prompt) throw new Error(`unexpected page at ${url}: ${html.slice(0, 300)}`);
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? new URL(url).pathname;
        url = new URL(action, url).toString();
        method = 'POST';
        body = new URLSearchParams(
          prompt === 'login' ? { prompt, login, password: 'any' } : { prompt },
        ).toString();
      }
      throw new Error('too many redirects');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
