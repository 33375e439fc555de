// The access-token broker (issue 18) against a token endpoint on loopback (through oauth4webapi):
// refreshed before expiry and once when a server rejected the token, one refresh per account at a
// time, a dead grant becomes "sign in again" — and no token reaches a log line or any file of the
// data directory but the encrypted store (grep the directory and the logs for them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OAuthTokens } from '../../../app/oauth/tokens.ts';
import { OAuthSignInRequired } from '../../../app/oauth/token-client.ts';
import { createLogging } from '../../../app/config/logging.ts';
import type { OAuthCredential } from '../../../app/shared/oauth-credential.ts';
import { newStore, tempDir } from '../store/helpers.ts';

interface Endpoint {
  url: string;
  server: Server;
  grants: string[];
  /** refresh tokens the endpoint still honours */
  valid: Set<string>;
  seq: number;
}

async function tokenEndpoint(): Promise<Endpoint> {
  const ep: Endpoint = { url: '', server: createServer(), grants: [], valid: new Set(), seq: 0 };
  ep.server.on('request', (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const q = new URLSearchParams(body);
      ep.grants.push(q.get('grant_type') ?? '');
      res.setHeader('content-type', 'application/json');
      const rt = q.get('refresh_token') ?? '';
      if (q.get('grant_type') !== 'refresh_token' || !ep.valid.has(rt)) {
        res
          .writeHead(400)
          .end(JSON.stringify({ error: 'invalid_grant', error_description: 'grant revoked' }));
        return;
      }
      ep.seq++;
      ep.valid.delete(rt);
      const next = `RT-rotated-${ep.seq}-Zq8w`;
      ep.valid.add(next);
      // answer a little later, so concurrent callers overlap
      setTimeout(
        () =>
          res.end(
            JSON.stringify({
              access_token: `AT-fresh-${ep.seq}-Xy7v`,
              token_type: 'Bearer',
              expires_in: 600,
              refresh_token: next,
            }),
          ),
        30,
      );
    });
  });
  await new Promise<void>((r) => ep.server.listen(0, '127.0.0.1', () => r()));
  const a = ep.server.address();
  ep.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/token`;
  return ep;
}

function credential(url: string, now: number): OAuthCredential {
  return {
    profile: 'custom',
    issuer: new URL(url).origin,
    authorizationEndpoint: new URL('/auth', url).toString(),
    tokenEndpoint: url,
    clientId: 'lockbridge-test',
    clientSecret: 'CS-client-secret-Qw3e',
    scopes: ['mail'],
    refreshToken: 'RT-initial-Ab12',
    accessToken: 'AT-initial-Cd34',
    expiresAt: now + 10 * 60_000,
  };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

test('refreshes before expiry, after a rejection, once at a time; a dead grant means sign in again; no token leaks', async () => {
  const { dir, cleanup } = tempDir('lb-oauth-');
  const ep = await tokenEndpoint();
  const logging = createLogging({ file: join(dir, 'logs', 'lockbridge.log'), level: 'debug' });
  const store = await newStore(dir);
  try {
    let now = Date.now();
    const acct = store.accounts.create({
      email: 'ann@example.test',
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: 2 },
      security: 'starttls',
      providerPassword: '',
      oauth: credential(ep.url, now),
    });
    ep.valid.add('RT-initial-Ab12');
    const tokens = new OAuthTokens({
      seam: {
        read: (id) => store.accounts.get(id)?.oauth ?? null,
        write: (id, c) => void store.accounts.update(id, { oauth: c }),
      },
      logger: logging.logger.child({ module: 'oauth' }),
      now: () => now,
    });
    // valid for 10 minutes: no request
    assert.equal(await tokens.accessToken(acct.id), 'AT-initial-Cd34');
    assert.deepEqual(ep.grants, []);
    // within a minute of expiry: refreshed, concurrent callers share the one refresh
    now += 9.5 * 60_000;
    const got = await Promise.all([
      tokens.accessToken(acct.id),
      tokens.accessToken(acct.id),
      tokens.accessToken(acct.id),
    ]);
    assert.deepEqual(got, ['AT-fresh-1-Xy7v', 'AT-fresh-1-Xy7v', 'AT-fresh-1-Xy7v']);
    assert.deepEqual(ep.grants, ['refresh_token']);
    const stored = store.accounts.get(acct.id)!.oauth!;
    assert.equal(stored.refreshToken, 'RT-rotated-1-Zq8w', 'the rotated refresh token is kept');
    assert.equal(stored.expiresAt, now + 600_000);
    // a server rejected the current token: refreshed although not expired
    assert.equal(await tokens.accessToken(acct.id, { rejected: 'AT-fresh-1-Xy7v' }), 'AT-fresh-2-Xy7v');
    // a rejection of a token already replaced does not refresh again
    assert.equal(await tokens.accessToken(acct.id, { rejected: 'AT-fresh-1-Xy7v' }), 'AT-fresh-2-Xy7v');
    assert.equal(ep.grants.length, 2);
    // the grant is revoked at the provider: sign in again (not a password problem)
    ep.valid.clear();
    await assert.rejects(tokens.accessToken(acct.id, { rejected: 'AT-fresh-2-Xy7v' }), (e: Error) => {
      assert.ok(e instanceof OAuthSignInRequired);
      assert.match(e.message, /^sign in again: .*invalid_grant/);
      assert.doesNotMatch(e.message, /password/);
      return true;
    });
    // the log says what happened, without any token
    const ring = logging.ring
      .recent(500)
      .map((l) => JSON.stringify(l))
      .join('\n');
    assert.match(ring, /access token refreshed/);
  } finally {
    store.close();
    logging.close();
    await new Promise<void>((r) => ep.server.close(() => r()));
  }
  const secrets = [
    'RT-initial-Ab12',
    'AT-initial-Cd34',
    'AT-fresh-1-Xy7v',
    'RT-rotated-1-Zq8w',
    'AT-fresh-2-Xy7v',
    'RT-rotated-2-Zq8w',
    'CS-client-secret-Qw3e',
  ];
  const files = filesUnder(dir);
  assert.ok(files.some((f) => f.endsWith('lockbridge.log')));
  assert.ok(files.some((f) => f.endsWith('store.db')));
  for (const f of files) {
    const bytes = readFileSync(f).toString('latin1');
    for (const s of secrets) assert.ok(!bytes.includes(s), `${s} found in ${f}`);
  }
  assert.match(readFileSync(join(dir, 'logs', 'lockbridge.log'), 'utf8'), /access token refreshed/);
  cleanup();
});
