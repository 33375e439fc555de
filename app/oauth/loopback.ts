/**
 * The loopback redirect of RFC 8252 (section 7.3): an HTTP listener on 127.0.0.1 with a port the
 * system picks, for one authorization response. A request to another path is answered 404 and
 * one without our `state` 400 — both are ignored and the listener keeps waiting for the real
 * redirect (anything on the machine can connect to it). A redirect URL pasted by the user (a
 * browser on another machine) goes through the same check (`submit`).
 */
import { createServer, type Server } from 'node:http';
import { UserError } from '../shared/errors.ts';
import { checkRedirect, type RedirectResult } from './core/redirect.ts';

export const REDIRECT_PATH = '/oauth/callback';

export interface LoopbackRedirect {
  /** http://127.0.0.1:PORT/oauth/callback */
  readonly redirectUri: string;
  /** The first redirect that passes the checks (rejects only on close). */
  readonly result: Promise<RedirectResult>;
  /** A redirect URL pasted by the user; throws RedirectRefused / UserError like the listener refuses. */
  submit(url: string): RedirectResult;
  close(): Promise<void>;
}

const PAGE = (title: string, text: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body></html>`;

export async function startLoopbackRedirect(state: string): Promise<LoopbackRedirect> {
  let resolve!: (r: RedirectResult) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<RedirectResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => {}); // a listener closed before anyone waited must not be unhandled
  let done = false;
  let redirectUri = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    const url = new URL(req.url ?? '/', redirectUri);
    if (req.method !== 'GET' || url.pathname !== REDIRECT_PATH) {
      res.writeHead(404).end(PAGE('Not found', 'This address only takes the sign-in redirect.'));
      return;
    }
    if (done) {
      res.writeHead(409).end(PAGE('Already signed in', 'This sign-in has already finished.'));
      return;
    }
    try {
      const r = checkRedirect(url, redirectUri, state);
      done = true;
      res.writeHead(200).end(PAGE('Signed in', 'Lockbridge has your sign-in. You can close this tab.'));
      resolve(r);
    } catch (err) {
      const denied = (err as { code?: string }).code === 'oauth-denied';
      res
        .writeHead(denied ? 200 : 400)
        .end(PAGE(denied ? 'Sign-in refused' : 'Refused', (err as Error).message.replace(/[<>&"]/g, '')));
      if (denied) {
        done = true;
        reject(err as Error);
      }
    }
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  redirectUri = `http://127.0.0.1:${port}${REDIRECT_PATH}`;
  return {
    redirectUri,
    result,
    submit(pasted: string): RedirectResult {
      const r = checkRedirect(pasted, redirectUri, state);
      if (!done) {
        done = true;
        resolve(r);
      }
      return r;
    },
    async close(): Promise<void> {
      if (!done) reject(new UserError('oauth-cancelled', 'the sign-in was cancelled'));
      done = true;
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
