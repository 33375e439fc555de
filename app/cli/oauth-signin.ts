/**
 * `lockbridge account add --email E --oauth [PROFILE]`: the authorization-code flow
 * with PKCE and a loopback redirect (RFC 8252) from the command line. The URL is printed for the
 * user's browser; the command waits on 127.0.0.1 for the redirect, and on a terminal also takes a
 * pasted redirect URL (a browser on another machine). No token is printed.
 */
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { UserError } from '../shared/errors.ts';
import { startSignIn, type SignInResult } from '../oauth/flow.ts';
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

export async function oauthSignIn(o: OAuthSignInOptions): Promise<SignInResult> {
  let clientSecret: string | null = null;
  if (o.clientSecretFile !== undefined) {
    try {
      clientSecret = readFileSync(o.clientSecretFile, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    } catch {
      throw new UserError('no-such-file', `cannot read the client secret file ${o.clientSecretFile}`);
    }
  }
  const flow = await startSignIn({
    email: o.email,
    profile: o.profile,
    issuer: o.issuer,
    clientId: o.clientId,
    clientSecret,
    scopes: o.scopes,
    ...(o.env ? { env: o.env } : {}),
  });
  let rl: ReturnType<typeof createInterface> | null = null;
  try {
    println(o.stdout, `Open this address in your browser to sign in to ${flow.providerName}:`);
    println(o.stdout, flow.url);
    if (process.stdin.isTTY) {
      println(
        o.stdout,
        'Waiting for the browser… (or paste the address the browser ended on, from another machine)',
      );
      rl = createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        if (!line.trim()) return;
        try {
          flow.submit(line);
        } catch (err) {
          println(o.stdout, `Not taken: ${(err as Error).message}`);
        }
      });
    }
    return await flow.finish(o.timeoutMs);
  } finally {
    rl?.close();
    await flow.close();
  }
}
