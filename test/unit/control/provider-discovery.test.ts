// Provider settings discovery: RFC 6186 SRV answers (injected resolver) and autoconfig files served
// by a real HTTP server on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  discoverProviderSettings,
  discoveryDepsFromEnv,
  parseAutoconfig,
  type SrvRecord,
} from '../../../app/control/provider-discovery.ts';

const AUTOCONFIG = `<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.test">
 <incomingServer type="pop3"><hostname>pop.example.test</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
 <incomingServer type="imap"><hostname>imap.example.test</hostname><port>993</port><socketType>SSL</socketType>
  <username>%EMAILLOCALPART%</username></incomingServer>
 <outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>`;

let server: Server;
let base = '';
const hits: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url?.startsWith('/good/')) {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(AUTOCONFIG);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function httpFetch(url: string, signal: AbortSignal): Promise<string | null> {
  const res = await fetch(url, { signal });
  return res.ok ? res.text() : null;
}

test('SRV records win, preferring implicit TLS (_imaps, _submissions) and lowest priority', async () => {
  const answers: Record<string, SrvRecord[]> = {
    '_imaps._tcp.example.test': [
      { name: 'imap2.example.test', port: 993, priority: 20, weight: 0 },
      { name: 'imap1.example.test.', port: 993, priority: 10, weight: 0 },
    ],
    '_imap._tcp.example.test': [{ name: 'imap.example.test', port: 143, priority: 0, weight: 0 }],
    '_submission._tcp.example.test': [{ name: 'smtp.example.test', port: 587, priority: 0, weight: 0 }],
  };
  const got = await discoverProviderSettings('me@example.test', {
    resolveSrv: async (n) => {
      const a = answers[n];
      if (!a) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return a;
    },
    fetchText: async () => assert.fail('autoconfig must not be fetched when SRV answers'),
  });
  assert.deepEqual(got, {
    source: 'srv',
    imap: { host: 'imap1.example.test', port: 993 },
    smtp: { host: 'smtp.example.test', port: 587 },
    security: 'tls',
  });
});

test('"." targets mean "not offered" and fall through to autoconfig over HTTP from loopback', async () => {
  hits.length = 0;
  const got = await discoverProviderSettings('joe@example.test', {
    resolveSrv: async () => [{ name: '.', port: 0, priority: 0, weight: 0 }],
    fetchText: httpFetch,
    autoconfigUrls: [`${base}/missing/{domain}?e={email}`, `${base}/good/{domain}?e={email}`],
  });
  assert.equal(got?.source, 'autoconfig');
  assert.deepEqual(got?.imap, { host: 'imap.example.test', port: 993 });
  assert.deepEqual(got?.smtp, { host: 'smtp.example.test', port: 465 });
  assert.equal(got?.security, 'tls');
  assert.equal(got?.username, 'joe');
  assert.deepEqual(hits, [
    '/missing/example.test?e=joe%40example.test',
    '/good/example.test?e=joe%40example.test',
  ]);
});

test('an autoconfig file offering OAuth2 for a known host names the OAuth profile (issue 18)', () => {
  const xml = (auth: string, host: string) => `<clientConfig version="1.1"><emailProvider id="gmail.com">
    <incomingServer type="imap"><hostname>${host}</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>${auth}</incomingServer>
    <outgoingServer type="smtp"><hostname>smtp.gmail.com</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>${auth}</outgoingServer></emailProvider></clientConfig>`;
  const both = '<authentication>OAuth2</authentication><authentication>password-cleartext</authentication>';
  assert.equal(parseAutoconfig(xml(both, 'imap.gmail.com'), 'ann@gmail.com')?.oauth, 'google');
  assert.equal(parseAutoconfig(xml(both, 'outlook.office365.com'), 'ann@outlook.com')?.oauth, 'microsoft');
  assert.equal(
    parseAutoconfig(xml(both, 'imap.gmail.com'), 'ann@gmail.com')?.oauthName,
    'Google',
    'the name for the button',
  );
  // password only, or OAuth2 for a host no built-in profile knows: no profile
  const pw = '<authentication>password-cleartext</authentication>';
  assert.equal(parseAutoconfig(xml(pw, 'imap.gmail.com'), 'ann@gmail.com')?.oauth, undefined);
  assert.equal(parseAutoconfig(xml(both, 'imap.example.org'), 'ann@example.org')?.oauth, undefined);
});

test('nothing found → null; garbage autoconfig is ignored', async () => {
  assert.equal(parseAutoconfig('<html>not xml</html>', 'a@b.test'), null);
  const asked: string[] = [];
  const got = await discoverProviderSettings('a@nowhere.test', {
    resolveSrv: async () => [],
    fetchText: async () => '<clientConfig><garbage/></clientConfig>',
    hostExists: async (n) => {
      asked.push(n);
      return n === 'imap.nowhere.test'; // an IMAP host alone is not enough for a guess
    },
  });
  assert.equal(got, null);
  assert.deepEqual(asked.sort(), ['imap.nowhere.test', 'mail.nowhere.test', 'smtp.nowhere.test']);
});

test("the default sources: the domain, its well-known path, then Thunderbird's ISPDB, all over https", async () => {
  const urls: string[] = [];
  await discoverProviderSettings('a@isp.test', {
    resolveSrv: async () => [],
    hostExists: async () => false,
    fetchText: async (u) => {
      urls.push(u);
      return null;
    },
  });
  assert.deepEqual(urls, [
    'https://autoconfig.isp.test/mail/config-v1.1.xml?emailaddress=a%40isp.test',
    'https://isp.test/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40isp.test',
    'https://autoconfig.thunderbird.net/v1.1/isp.test',
  ]);
});

test('from the environment: no SRV, no autoconfig → a guess from host names that resolve (loopback DNS)', async () => {
  const { startDnsServer } = await import('../../helpers/dns-server.ts');
  const dns = await startDnsServer(
    {},
    {
      'imap.guess.test': ['192.0.2.10'],
      'mail.guess.test': ['192.0.2.11'],
      'mail.half.test': ['192.0.2.12'],
    },
  );
  try {
    const deps = { ...discoveryDepsFromEnv({ LOCKBRIDGE_DNS_SERVERS: dns.address }), autoconfigUrls: [] };
    assert.deepEqual(await discoverProviderSettings('me@guess.test', deps), {
      source: 'guess',
      imap: { host: 'imap.guess.test', port: 993 },
      smtp: { host: 'mail.guess.test', port: 465 },
      security: 'tls',
    });
    // mail.DOMAIN serves both when it is the only name
    const half = await discoverProviderSettings('me@half.test', deps);
    assert.equal(half?.imap.host, 'mail.half.test');
    assert.equal(half?.smtp.host, 'mail.half.test');
    assert.equal(await discoverProviderSettings('me@none.test', deps), null);
    assert.ok(dns.queries.includes('smtp.guess.test'));
  } finally {
    await dns.close();
  }
});

test('from the environment: SRV through a real resolver asking a loopback DNS server', async () => {
  const { startDnsServer } = await import('../../helpers/dns-server.ts');
  const dns = await startDnsServer({
    '_imaps._tcp.srv.example.test': [
      { target: 'backup-imap.srv.example.test', port: 993, priority: 20 },
      { target: 'imap.srv.example.test', port: 993, priority: 10 },
    ],
    '_submission._tcp.srv.example.test': [{ target: 'smtp.srv.example.test.', port: 587 }],
  });
  try {
    const deps = discoveryDepsFromEnv({ LOCKBRIDGE_DNS_SERVERS: dns.address });
    const found = await discoverProviderSettings('me@srv.example.test', { ...deps, autoconfigUrls: [] });
    assert.deepEqual(found, {
      source: 'srv',
      imap: { host: 'imap.srv.example.test', port: 993 },
      smtp: { host: 'smtp.srv.example.test', port: 587 },
      security: 'tls',
    });
    assert.ok(dns.queries.includes('_imaps._tcp.srv.example.test'));
  } finally {
    await dns.close();
  }
});

test('from the environment: autoconfig URLs over plain http only from loopback', async () => {
  const none = { LOCKBRIDGE_DNS_SERVERS: '127.0.0.1:9' }; // nothing answers there: no SRV
  const deps = discoveryDepsFromEnv({
    ...none,
    LOCKBRIDGE_AUTOCONFIG_URLS: `${base}/missing/{domain}  ${base}/good/{domain}?e={email}`,
  });
  const found = await discoverProviderSettings('joe@example.test', { ...deps, timeoutMs: 8000 });
  assert.equal(found?.source, 'autoconfig');
  assert.equal(found?.imap.host, 'imap.example.test');
  assert.equal(found?.username, 'joe');
  assert.ok(hits.some((h) => h.startsWith('/good/example.test?e=joe%40example.test')));
  // plain http to anything but loopback is never fetched
  const remote = discoveryDepsFromEnv({ ...none, LOCKBRIDGE_AUTOCONFIG_URLS: 'http://192.0.2.1/{domain}' });
  assert.equal(await discoverProviderSettings('joe@example.test', { ...remote, timeoutMs: 8000 }), null);
});
