// Issue 18, point 3: `account add --oauth` for an address on a domain of one's own (a Google
// Workspace or Microsoft 365 domain) picks the OAuth profile the provider's discovery names — as the
// add-account page does — instead of refusing with "no OAuth profile". The real CLI runs against a
// local DNS server (no SRV records) and a local autoconfig server; the test reads the sign-in
// address it prints and stops it there (the sign-in itself is oauth-e2e.test.ts's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI, tempHome } from '../../helpers/cli.ts';
import { startDnsServer, type DnsServer } from '../../helpers/dns-server.ts';

const home = tempHome('lb-oauth-discovery-');
let dns: DnsServer;
let http: Server;
let base = '';

const autoconfig = (imapHost: string, smtpHost: string, auth: string) =>
  `<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="own.test">
  <incomingServer type="imap"><hostname>${imapHost}</hostname><port>993</port><socketType>SSL</socketType>
    <username>%EMAILADDRESS%</username>${auth}</incomingServer>
  <outgoingServer type="smtp"><hostname>${smtpHost}</hostname><port>465</port><socketType>SSL</socketType>
    <username>%EMAILADDRESS%</username>${auth}</outgoingServer></emailProvider></clientConfig>`;

before(async () => {
  dns = await startDnsServer({});
  http = createServer((req, res) => {
    const domain = (req.url ?? '').split('/')[1] ?? '';
    const body =
      domain === 'workspace.test'
        ? autoconfig(
            'imap.gmail.com',
            'smtp.gmail.com',
            '<authentication>OAuth2</authentication><authentication>password-cleartext</authentication>',
          )
        : domain === 'plain.test'
          ? autoconfig(
              'imap.plain.test',
              'smtp.plain.test',
              '<authentication>password-cleartext</authentication>',
            )
          : null;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => http.close(() => r()));
  await dns.close();
  home.cleanup();
});

/** Runs `account add --oauth auto` until it prints a sign-in address (then stops it) or exits. */
function addOAuth(
  email: string,
): Promise<{ url: string | null; stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, '--home', home.dir, 'account', 'add', '--email', email, '--oauth', 'auto'],
      {
        env: {
          ...process.env,
          LOCKBRIDGE_PASSPHRASE: undefined,
          LOCKBRIDGE_DNS_SERVERS: dns.address,
          LOCKBRIDGE_AUTOCONFIG_URLS: `${base}/{domain}/config.xml`,
          LOCKBRIDGE_OAUTH_GOOGLE_CLIENT_ID: 'lockbridge-test-client',
        } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let url: string | null = null;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^(https:\/\/\S+)$/m.exec(stdout);
      if (m && !url) {
        url = m[1]!;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ url, stdout, stderr, status }));
  });
}

test('account add --oauth auto on a Google Workspace domain signs in with Google, found by discovery', async () => {
  const r = await addOAuth('me@workspace.test');
  assert.ok(r.url, `a sign-in address is printed\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const u = new URL(r.url);
  assert.equal(u.host, 'accounts.google.com', 'Google’s authorization page');
  assert.equal(u.searchParams.get('client_id'), 'lockbridge-test-client');
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.match(u.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(r.stdout, /workspace\.test signs in with Google/);
});

test('account add --oauth auto where discovery offers no OAuth still says what to do', async () => {
  const r = await addOAuth('me@plain.test');
  assert.equal(r.url, null, 'no sign-in address');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /no OAuth profile for me@plain\.test/);
});
