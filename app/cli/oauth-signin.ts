/**
 * `lockbridge account add --email E --oauth [PROFILE]` (issue 18): the authorization-code flow
 * with PKCE and a loopback redirect (RFC 8252) from the command line. The URL is printed for the
 * user's browser; the command waits on 127.0.0.1 for the redirect, and on a terminal also takes a
 * pasted redirect URL (a browser on another machine). No token is printed.
 */
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { UsageError, UserError } from '../shared/errors.ts';
import type { OAuthCredential } from '../shared/oauth-credential.ts';
import { createPkce, createState } from '../oauth/core/pkce.ts';
import {
  authorizationUrl,
  findProfile,
  profileForEmail,
  registrationFromEnv,
  type MailHost,
} from '../oauth/core/profiles.ts';
import { startLoopbackRedirect } from '../oauth/loopback.ts';
import { discoverIssuer, exchangeCode } from '../oauth/token-client.ts';
import { println } from './context.ts';

export interface OAuthSignInOptions {
  email: string;
  /** A profile id, 'oidc' (OpenID Connect discovery of `issuer`), or undefined (from the address). */
  profile?: string | undefined;
  issuer?: string | undefined;
  clientId?: string | undefined;
  clientSecretFile?: string | undefined;
  scopes?: string[] | undefined;
  stdout: NodeJS.WritableStream;
  env?: Record<string, string | undefined>;
  /** How long to wait for the browser (default 10 minutes). */
  timeoutMs?: number;
}

export interface OAuthSignIn {
  credential: OAuthCredential;
  /** The profile's mail hosts (absent for 'oidc': give --imap/--smtp). */
  imap?: MailHost;
  smtp?: MailHost;
}

export async function oauthSignIn(o: OAuthSignInOptions): Promise<OAuthSignIn> {
  const env = o.env ?? process.env;
  const named =
    o.profile && o.profile !== 'oidc' ? findProfile(o.profile) : o.profile ? null : profileForEmail(o.email);
  if (o.profile && o.profile !== 'oidc' && !named)
    throw new UsageError(
      `unknown --oauth profile '${o.profile}' (google, microsoft, yahoo, aol, fastmail, oidc)`,
    );
  if (!named && !o.issuer)
    throw new UsageError(
      o.profile === 'oidc'
        ? '--oauth oidc needs --issuer URL (OpenID Connect discovery)'
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
    throw new UsageError('--oauth oidc needs the scopes the mail server wants (--scope S, repeatable)');
  let clientSecret: string | null = null;
  if (o.clientSecretFile !== undefined) {
    try {
      clientSecret = readFileSync(o.clientSecretFile, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    } catch {
      throw new UserError('no-such-file', `cannot read the client secret file ${o.clientSecretFile}`);
    }
  }
  const reg = o.clientId ? { clientId: o.clientId, clientSecret } : registrationFromEnv(profileId, env);
  if (!reg)
    throw new UserError(
      'oauth-no-client',
      `no OAuth client id for ${profileId}: set LOCKBRIDGE_OAUTH_${profileId.toUpperCase()}_CLIENT_ID (and _CLIENT_SECRET if the provider wants one), or bring your own registration with --client-id`,
    );
  const client = { ...endpoints, clientId: reg.clientId, clientSecret: clientSecret ?? reg.clientSecret };

  const pkce = createPkce();
  const state = createState();
  const lb = await startLoopbackRedirect(state);
  let rl: ReturnType<typeof createInterface> | null = null;
  try {
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
    println(o.stdout, `Open this address in your browser to sign in to ${named?.name ?? endpoints.issuer}:`);
    println(o.stdout, url);
    if (process.stdin.isTTY) {
      println(
        o.stdout,
        'Waiting for the browser… (or paste the address the browser ended on, from another machine)',
      );
      rl = createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        if (!line.trim()) return;
        try {
          lb.submit(line);
        } catch (err) {
          println(o.stdout, `Not taken: ${(err as Error).message}`);
        }
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new UserError('oauth-timeout', 'no sign-in arrived from the browser in time')),
        o.timeoutMs ?? 600_000,
      );
    });
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
    rl?.close();
    await lb.close();
  }
}
