/**
 * One OAuth 2.0 sign-in: the authorization-code flow with PKCE and a loopback redirect
 * (RFC 8252). `startSignIn` resolves the profile (a built-in one, or OpenID Connect discovery of an
 * issuer) and the client registration, opens the loopback listener and returns the authorization
 * URL for the user's browser; `finish` waits for the redirect and exchanges the code. The CLI
 * prints the URL; the bridge hands it to the UI, which opens it. The tokens never leave this
 * module but in the returned credential (stored only in the encrypted store by the caller).
 */
import { UsageError, UserError } from '../shared/errors.ts';
import type { OAuthCredential } from '../shared/oauth-credential.ts';
import { createPkce, createState } from './core/pkce.ts';
import {
  authorizationUrl,
  findProfile,
  profileForEmail,
  registrationFromEnv,
  type MailHost,
} from './core/profiles.ts';
import { startLoopbackRedirect } from './loopback.ts';
import { discoverIssuer, exchangeCode } from './token-client.ts';

export interface SignInRequest {
  email: string;
  /** A profile id, 'oidc' (OpenID Connect discovery of `issuer`), or undefined (from the address). */
  profile?: string | undefined;
  issuer?: string | undefined;
  clientId?: string | undefined;
  /** With `clientId`: the secret of the user's own registration (null or absent: none). */
  clientSecret?: string | null | undefined;
  scopes?: string[] | undefined;
  env?: Record<string, string | undefined>;
}

export interface SignInResult {
  credential: OAuthCredential;
  /** The profile's mail hosts (absent for 'oidc': the user gives them). */
  imap?: MailHost;
  smtp?: MailHost;
}

export interface SignInFlow {
  /** The address to open in the user's browser. */
  readonly url: string;
  /** What the user signs in to ('Google', or the issuer's URL). */
  readonly providerName: string;
  /** A redirect URL pasted by the user (a browser on another machine); throws when it is refused. */
  submit(redirectUrl: string): void;
  /** Waits for the browser's redirect (at most `timeoutMs`, default 10 minutes), then gets the tokens. */
  finish(timeoutMs?: number): Promise<SignInResult>;
  /** Stops waiting (the listener closes; a pending `finish` rejects). */
  close(): Promise<void>;
}

export async function startSignIn(o: SignInRequest): Promise<SignInFlow> {
  const env = o.env ?? process.env;
  const named =
    o.profile && o.profile !== 'oidc' ? findProfile(o.profile) : o.profile ? null : profileForEmail(o.email);
  if (o.profile && o.profile !== 'oidc' && !named)
    throw new UsageError(
      `unknown OAuth profile '${o.profile}' (google, microsoft, yahoo, aol, fastmail, oidc)`,
    );
  if (!named && !o.issuer)
    throw new UsageError(
      o.profile === 'oidc'
        ? 'OpenID Connect sign-in needs the issuer URL (--issuer URL)'
        : `no OAuth profile for ${o.email}: name one (--oauth google|microsoft|yahoo|aol|fastmail) or use --oauth oidc --issuer URL`,
    );
  const profileId = named?.id ?? 'oidc';
  const endpoints = named
    ? {
        issuer: named.issuer,
        authorizationEndpoint: named.authorizationEndpoint,
        tokenEndpoint: named.tokenEndpoint,
      }
    : await discoverIssuer(o.issuer as string);
  const scopes = o.scopes?.length ? o.scopes : (named?.scopes ?? null);
  if (!scopes)
    throw new UsageError(
      'OpenID Connect sign-in needs the scopes the mail server wants (--scope S, repeatable)',
    );
  const reg = o.clientId
    ? { clientId: o.clientId, clientSecret: o.clientSecret ?? null }
    : registrationFromEnv(profileId, env);
  if (!reg)
    throw new UserError(
      'oauth-no-client',
      `no OAuth client id for ${profileId}: set LOCKBRIDGE_OAUTH_${profileId.toUpperCase()}_CLIENT_ID (and _CLIENT_SECRET if the provider wants one), or bring your own registration with --client-id`,
    );
  const client = { ...endpoints, clientId: reg.clientId, clientSecret: reg.clientSecret };

  const pkce = createPkce();
  const state = createState();
  const lb = await startLoopbackRedirect(state);
  const url = authorizationUrl({
    authorizationEndpoint: client.authorizationEndpoint,
    clientId: client.clientId,
    redirectUri: lb.redirectUri,
    scopes,
    state,
    codeChallenge: pkce.challenge,
    loginHint: o.email,
    ...(named?.authorizationParams ? { extra: named.authorizationParams } : {}),
  });
  return {
    url,
    providerName: named?.name ?? endpoints.issuer,
    submit(redirectUrl) {
      lb.submit(redirectUrl);
    },
    async finish(timeoutMs = 600_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new UserError('oauth-timeout', 'no sign-in arrived from the browser in time')),
          timeoutMs,
        );
      });
      try {
        const redirect = await Promise.race([lb.result, timeout]).finally(() => clearTimeout(timer));
        const t = await exchangeCode(client, redirect, lb.redirectUri, state, pkce.verifier);
        return {
          credential: {
            profile: profileId,
            issuer: client.issuer,
            authorizationEndpoint: client.authorizationEndpoint,
            tokenEndpoint: client.tokenEndpoint,
            clientId: client.clientId,
            clientSecret: client.clientSecret,
            // what was asked for (a provider may answer with fewer, e.g. without offline_access); a
            // new sign-in asks for the same again
            scopes,
            refreshToken: t.refreshToken,
            accessToken: t.accessToken,
            expiresAt: t.expiresAt,
            issuedAt: t.issuedAt,
          },
          ...(named ? { imap: named.imap, smtp: named.smtp } : {}),
        };
      } finally {
        await lb.close();
      }
    },
    close: () => lb.close(),
  };
}
