// OAuth 2.0 sign-in end to end (issue 18), every component real and on loopback: oidc-provider as
// the authorization server (PKCE, refresh tokens, introspection, revocation), Dovecot validating the
// bearer tokens through its oauth2 passdb at the introspection endpoint and offering XOAUTH2 and
// OAUTHBEARER, Postfix authenticating SMTP through Dovecot's SASL. `lockbridge account add --oauth`
// prints the authorization URL; the test follows it like a browser (log in, consent) and the CLI's
// loopback listener takes the redirect. Then: sync, send, an expired access token refreshed with no
// interruption, a rejected one refreshed once, a revoked grant shown as "sign in again" — and no
// token in any file of the data directory but the encrypted store, nor in the logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { startOidcServer, type OidcServer } from '../../helpers/oidc-server.ts';
import { CLI, cli, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';
import { startDnsServer, type DnsServer } from '../../helpers/dns-server.ts';
import { tmuxRun } from '../../helpers/tmux.ts';
import { assertNoSecrets } from '../../helpers/no-secrets.ts';

const USER = 'ann@example.test';
/** Access-token lifetime at the test's authorization server: short, so one expires within a test. */
const TTL_S = 10;
const home = tempHome('lb-oauth-');
const env = { LOCKBRIDGE_PASSPHRASE: 'oauth e2e passphrase', LOCKBRIDGE_LOCAL_PASSWORD: 'oauth-local-pw' };
let as: OidcServer;
let dns: DnsServer;
let provider: Provider;
let bridge: ServeHandle | null = null;
let caFile = '';
let localCa = '';

before(async () => {
  as = await startOidcServer({ accessTokenTtl: TTL_S });
  // the bridge checks recipient domains in DNS: example.test exists here
  dns = await startDnsServer({}, { 'example.test': ['127.0.0.1'] });
  provider = await startProvider({ oauth2: { introspectionUrl: as.introspectionUrl } });
  await provider.addUser(USER, 'a password nobody uses here');
  caFile = join(home.dir, '..', `oauth-provider-ca-${process.pid}.pem`);
  writeFileSync(caFile, provider.caPem);
});
after(async () => {
  await bridge?.stop('SIGKILL');
  await provider?.close();
  await as?.close();
  await dns?.close();
  home.cleanup();
});

/** The bridge's log lines about the provider and OAuth (not the test's own local logins). */
function serveTail(): string {
  return (bridge?.stderr() ?? '')
    .split('\n')
    .filter((l) => !/"IMAP login"|"module":"imap"/.test(l))
    .slice(-40)
    .join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n--- serve ---\n${serveTail()}`);
    await sleep(200);
  }
}

function status(): { connection: string; lastError: string | null } {
  const r = cli(['--home', home.dir, 'status', '--json'], {});
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as {
    accounts: Array<{ email: string; connection: string; lastError: string | null }>;
  };
  const a = s.accounts.find((x) => x.email === USER);
  assert.ok(a);
  return a;
}

async function localClient(): Promise<ImapFlow> {
  assert.ok(bridge);
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: bridge.ready.imap,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: [localCa], servername: 'localhost' },
    auth: { user: USER, pass: env.LOCKBRIDGE_LOCAL_PASSWORD },
    logger: false,
  });
  await c.connect();
  return c;
}

async function localSubjects(): Promise<string[]> {
  const c = await localClient();
  try {
    await c.mailboxOpen('INBOX');
    const out: string[] = [];
    for await (const m of c.fetch('1:*', { envelope: true })) out.push(m.envelope?.subject ?? '');
    return out;
  } catch {
    return [];
  } finally {
    await c.logout().catch(() => c.close());
  }
}

async function deliver(subject: string): Promise<void> {
  await provider.deliver(
    `From: bob@example.test\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n${subject}\r\n`,
    { to: [USER] },
  );
}

/**
 * The provider restarted: every provider connection of the bridge must be made (and signed in)
 * again. Postfix restarts with Dovecot: its smtpd processes keep their SASL connection to Dovecot's
 * auth service across sessions, and the first AUTH after a Dovecot restart fails on the dead one.
 */
async function restartDovecot(): Promise<void> {
  await provider.stopPostfix();
  await provider.stopDovecot();
  await provider.startDovecot();
  await provider.startPostfix();
}

test('account add --oauth: the printed URL, the browser sign-in, the loopback redirect; verified at IMAP (and SMTP)', async () => {
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  localCa = JSON.parse(cli(['--home', home.dir, 'credentials', '--json'], env).stdout).caPem;
  const args = [
    '--home',
    home.dir,
    'account',
    'add',
    '--email',
    USER,
    '--oauth',
    'oidc',
    '--issuer',
    as.issuer,
    '--client-id',
    as.clientId,
    '--scope',
    'openid',
    '--scope',
    'offline_access',
    '--scope',
    'mail',
    '--imap',
    `127.0.0.1:${provider.imapPort}`,
    '--smtp',
    `127.0.0.1:${provider.smtpPort}`,
    '--security',
    'starttls',
    '--ca',
    caFile,
  ];
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) =>
      reject(new Error(`account add exited ${code} before printing a URL: ${err}`)),
    );
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const q = new URL(url).searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
  // a forged redirect to the listener is refused and does not end the wait
  const forged = new URL(q.get('redirect_uri') as string);
  forged.search = '?code=forged&state=forged';
  assert.equal((await fetch(forged)).status, 400);

  const done = await as.signInWithBrowser(url, USER);
  assert.equal(new URL(done.location).origin, new URL(q.get('redirect_uri') as string).origin);
  const landing = await fetch(done.location);
  assert.equal(landing.status, 200);
  assert.match(await landing.text(), /You can close this tab/);
  const code = await exited;
  console.log(`account add: ${out}\n${err}`);
  assert.equal(code, 0, `${out}\n${err}`);
  assert.match(out, /signed in with OAuth/);
  assert.deepEqual(as.grants, ['authorization_code']);
  const list = JSON.parse(cli(['--home', home.dir, 'account', 'list', '--json'], env).stdout);
  assert.equal(list[0].auth, 'oauth');
  assert.equal(list[0].oauthProfile, 'oidc');
});

test('sync and send with the token (XOAUTH2/OAUTHBEARER at Dovecot, XOAUTH2 at Postfix through Dovecot SASL)', async () => {
  await deliver('before serve');
  bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--json'], {
    ...env,
    LOCKBRIDGE_DNS_SERVERS: dns.address,
    LOCKBRIDGE_LOG_LEVEL: 'debug',
  });
  await until('the message synced', async () => (await localSubjects()).includes('before serve'));
  assert.equal(status().connection, 'online');
  // send through the bridge: relayed to the provider's SMTP with the token, delivered to the INBOX
  const t = nodemailer.createTransport({
    host: '127.0.0.1',
    port: bridge.ready.smtp,
    secure: false,
    requireTLS: true,
    tls: { ca: localCa, servername: 'localhost' },
    auth: { user: USER, pass: env.LOCKBRIDGE_LOCAL_PASSWORD },
  });
  await t.sendMail({ from: USER, to: USER, subject: 'sent with a token', text: 'hello' });
  t.close();
  await until('the sent message came back through the provider', async () =>
    (await localSubjects()).includes('sent with a token'),
  );
  const dovecotLog = readFileSync(join(provider.dir, 'dovecot.log'), 'utf8');
  assert.match(dovecotLog, /method=(OAUTHBEARER|XOAUTH2)/i);
});

test('an expired access token is refreshed with no interruption', async () => {
  // the newest access token expires (TTL_S after it was issued), then every connection signs in again
  const refreshes = as.grants.filter((g) => g === 'refresh_token').length;
  const expiry = as.latestAccessTokenExpiry(USER);
  assert.ok(expiry, 'an access token was issued');
  await until('the newest access token expired', async () => Date.now() > expiry);
  await restartDovecot();
  await deliver('after expiry');
  await until('the message after expiry synced', async () =>
    (await localSubjects()).includes('after expiry'),
  );
  assert.ok(
    as.grants.filter((g) => g === 'refresh_token').length > refreshes,
    `refreshed after the expiry; grants: ${as.grants.join(',')}`,
  );
  assert.equal(status().connection, 'online');
  assert.doesNotMatch(bridge?.stderr() ?? '', /auth-failed|sign in again/);
});

test('a token the server rejects is refreshed once and the connection made again', async () => {
  const refreshes = as.grants.filter((g) => g === 'refresh_token').length;
  // whichever token the bridge signs in with next is refused once: dropping the newest token
  // beforehand raced the bridge's own refresh of a token near its expiry (then nothing was refused)
  as.rejectNextIntrospection();
  await restartDovecot();
  await deliver('after a rejected token');
  await until('the message after the rejection synced', async () =>
    (await localSubjects()).includes('after a rejected token'),
  );
  assert.ok(as.grants.filter((g) => g === 'refresh_token').length > refreshes);
  assert.match(bridge?.stderr() ?? '', /rejected the access token; refreshing it once/);
  assert.equal(status().connection, 'online');
});

test('a revoked grant shows "sign in again" in status; local mail is kept', async () => {
  await as.revokeGrant(USER);
  await restartDovecot();
  const st = await until('auth-failed', async () => {
    const s = status();
    return s.connection === 'auth-failed' ? s : null;
  });
  assert.match(st.lastError ?? '', /^sign in again/);
  assert.doesNotMatch(st.lastError ?? '', /password/);
  const text = cli(['--home', home.dir, 'status'], {}).stdout;
  assert.match(text, /auth-failed/);
  assert.match(text, /sign in again/);
  const subjects = await localSubjects();
  for (const s of ['before serve', 'sent with a token', 'after expiry', 'after a rejected token'])
    assert.ok(subjects.includes(s), `${s} kept`);
});

test('account signin: signed in again through the running bridge, sync goes on, local mail kept', async () => {
  const child = spawn(process.execPath, [CLI, '--home', home.dir, 'account', 'signin', USER], {
    env: { ...process.env, LOCKBRIDGE_PASSPHRASE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(out);
      if (m) resolve(m[1] as string);
    });
    void exited.then((code) =>
      reject(new Error(`account signin exited ${code} before printing a URL: ${err}`)),
    );
  });
  // the account's own issuer, client and scopes were used
  assert.equal(new URL(url).searchParams.get('client_id'), as.clientId);
  assert.equal(new URL(url).searchParams.get('scope'), 'openid offline_access mail');
  const done = await as.signInWithBrowser(url, USER);
  assert.equal((await fetch(done.location)).status, 200);
  assert.equal(await exited, 0, `${out}\n${err}`);
  assert.match(out, /Signed in again as ann@example\.test/);
  await until('online again', async () => status().connection === 'online');
  await deliver('after signing in again');
  await until('the message after signing in again synced', async () =>
    (await localSubjects()).includes('after signing in again'),
  );
  const subjects = await localSubjects();
  for (const s of ['before serve', 'sent with a token', 'after expiry', 'after a rejected token'])
    assert.ok(subjects.includes(s), `${s} kept`);
});

test('account signin on a terminal: the address the browser ended on, pasted (a browser on another machine)', async () => {
  // The browser runs elsewhere, so its redirect to 127.0.0.1 reaches nothing here: the user copies
  // the address it ended on into the terminal instead. A wrong paste is refused and the wait goes on.
  const pane = tmuxRun([process.execPath, CLI, '--home', home.dir, 'account', 'signin', USER], {
    LOCKBRIDGE_PASSPHRASE: '',
  });
  try {
    const screen = await pane.waitFor(/paste the address the browser ended on/);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)/.exec(screen)?.[1];
    assert.ok(url, `the sign-in address on the terminal:\n${screen}`);
    const done = await as.signInWithBrowser(url, USER); // the redirect is not followed
    const wrong = new URL(done.location);
    wrong.searchParams.set('state', 'forged');
    pane.keys('-l', wrong.toString());
    pane.keys('Enter');
    await pane.waitFor(/Not taken: /);
    pane.keys('-l', done.location);
    pane.keys('Enter');
    const end = await pane.waitFor(/\[exit \d+\]/);
    assert.match(end, /Signed in again as ann@example\.test/);
    assert.match(end, /\[exit 0\]/);
  } finally {
    pane.close();
  }
  await until('online after the pasted sign-in', async () => status().connection === 'online');
});

test('no token in any file of the data directory or in the logs', async () => {
  const stderr = bridge?.stderr() ?? '';
  assert.equal(await bridge?.stop('SIGTERM'), 0);
  bridge = null;
  const tokens = as.issuedTokens();
  assert.ok(tokens.length >= 4, `${tokens.length} tokens issued`);
  const files = assertNoSecrets({
    dirs: [home.dir],
    outputs: [stderr],
    secrets: tokens.map((value) => ({ what: 'a token', value })),
  });
  assert.ok(files.some((f) => f.endsWith('store.db')));
  assert.ok(files.some((f) => f.includes('logs')));
});
