/**
 * Key discovery against REAL HTTPS servers on 127.0.0.1 with a test CA: the discovery code runs
 * unmodified (node:https, certificate verification); only the resolver, the trusted CA, the port
 * and the VKS base URL are injected.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { KeyDiscovery, type DiscoveryOptions } from '../../../app/keys/discovery/discover.ts';
import { httpsGet } from '../../../app/keys/discovery/https-get.ts';
import { wkdAdvancedUrl, wkdDirectUrl, wkdHash } from '../../../app/keys/discovery/wkd-url.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { createTestCa, type TestCa } from '../../helpers/https-ca.ts';
import { startHttpsServer, type TestHttpsServer } from '../../helpers/https-server.ts';
import { makeKey } from '../../unit/keys/pgp-helpers.ts';

const HOSTS = [
  'openpgpkey.example.org',
  'example.org',
  'direct.example',
  'keys.test',
  'slow.example',
  'openpgpkey.slow.example',
];
let ca: TestCa;
let server: TestHttpsServer;

before(async () => {
  ca = await createTestCa();
  server = await startHttpsServer(await ca.issue(HOSTS));
});
after(async () => {
  await server.close();
});

const resolve = async (host: string): Promise<string> => {
  if (HOSTS.includes(host)) return '127.0.0.1';
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

function setup(o: Partial<DiscoveryOptions> = {}) {
  const repo = new InMemoryKeyringRepo();
  let offset = 0;
  const keyring = new Keyring({ repo, now: () => Date.now() + offset });
  const discovery = new KeyDiscovery({
    keyring,
    repo,
    http: { resolve, ca: ca.caPem, port: server.port },
    vksBaseUrl: `https://keys.test:${server.port}`,
    timeoutMs: 3000,
    ...o,
  });
  return { repo, keyring, discovery, advance: (ms: number) => (offset += ms) };
}

function reset() {
  server.routes.clear();
  server.handler = null;
  server.requests.length = 0;
}

const advPath = (email: string) => {
  const u = new URL(wkdAdvancedUrl(email));
  return u.hostname + u.pathname;
};
const dirPath = (email: string) => {
  const u = new URL(wkdDirectUrl(email));
  return u.hostname + u.pathname;
};

test('WKD hash test vector and URLs', () => {
  assert.equal(wkdHash('Joe.Doe'), 'iy9q119eutrkn8s1mk4r39qejnbu3n5q');
  assert.equal(
    wkdAdvancedUrl('Joe.Doe@Example.ORG'),
    'https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe',
  );
  assert.equal(
    wkdDirectUrl('Joe.Doe@Example.ORG'),
    'https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe',
  );
});

test('WKD advanced hit (binary body): key recorded with source wkd, User IDs filtered to the address', async () => {
  reset();
  const k = await makeKey('joe.doe@example.org', { extraUids: ['someone.else@example.org'] });
  server.routes.set(advPath('joe.doe@example.org'), { body: k.publicKey.write() });
  const { discovery, keyring } = setup();
  const r = await discovery.discover('joe.doe@example.org');
  assert.equal(r.source, 'wkd');
  assert.equal(r.key!.getFingerprint(), k.publicKey.getFingerprint());
  assert.deepEqual(r.key!.getUserIDs(), ['<joe.doe@example.org>']);
  assert.deepEqual(r.looked, ['keyring', 'Autocrypt', 'WKD', 'keys.openpgp.org']);
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0]!.host, 'openpgpkey.example.org');
  assert.equal(
    server.requests[0]!.path,
    '/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=joe.doe',
  );
  assert.equal((await keyring.contacts.encryptionKeyFor('joe.doe@example.org'))!.record.source, 'wkd');
  // next time it comes from the keyring, without a request
  const again = await discovery.discover('joe.doe@example.org');
  assert.equal(again.key!.getFingerprint(), k.publicKey.getFingerprint());
  assert.equal(server.requests.length, 1);
});

test('WKD direct fallback when openpgpkey.<domain> does not resolve (armored body)', async () => {
  reset();
  const k = await makeKey('ann@direct.example');
  server.routes.set(dirPath('ann@direct.example'), {
    body: k.armoredPublic,
    contentType: 'application/pgp-keys',
  });
  const { discovery } = setup();
  const r = await discovery.discover('ann@direct.example');
  assert.equal(r.source, 'wkd');
  assert.equal(r.key!.getFingerprint(), k.publicKey.getFingerprint());
  assert.deepEqual(
    server.requests.map((q) => q.host),
    ['direct.example'],
  );
});

test('WKD direct fallback after an advanced 404', async () => {
  reset();
  const k = await makeKey('bea@example.org');
  server.routes.set(dirPath('bea@example.org'), { body: k.publicKey.write() });
  const { discovery } = setup();
  const r = await discovery.discover('bea@example.org');
  assert.equal(r.source, 'wkd');
  assert.deepEqual(
    server.requests.map((q) => q.host),
    ['openpgpkey.example.org', 'example.org'],
  );
});

test('404 everywhere: a miss naming every place looked; the miss is cached briefly', async () => {
  reset();
  const { discovery, advance } = setup();
  const r = await discovery.discover('nobody@example.org');
  assert.equal(r.key, null);
  assert.equal(r.timedOut, false);
  assert.deepEqual(r.looked, ['keyring', 'Autocrypt', 'WKD', 'keys.openpgp.org']);
  assert.ok(r.misses.some((m) => m.startsWith('WKD: advanced: 404')));
  assert.ok(r.misses.some((m) => m.startsWith('keys.openpgp.org: 404')));
  assert.equal(server.requests.length, 3);
  const cached = await discovery.discover('nobody@example.org');
  assert.equal(cached.fromCache, true);
  assert.equal(server.requests.length, 3);
  advance(16 * 60_000);
  await discovery.discover('nobody@example.org');
  assert.equal(server.requests.length, 6);
});

test('a key for another address, garbage, text/html, expired and revoked keys are all refused', async () => {
  reset();
  const other = await makeKey('mallory@example.org');
  const expired = await makeKey('exp@example.org', { createdDaysAgo: 10, lifetimeDays: 1 });
  const revoked = await makeKey('rev@example.org', { revoked: true });
  const valid = await makeKey('html@example.org');
  server.routes.set(advPath('victim@example.org'), { body: other.publicKey.write() });
  server.routes.set(advPath('garbage@example.org'), { body: new Uint8Array([0x99, 1, 2, 3, 4, 5, 6, 7]) });
  server.routes.set(advPath('html@example.org'), {
    body: valid.armoredPublic,
    contentType: 'text/html; charset=utf-8',
  });
  server.routes.set(advPath('exp@example.org'), { body: expired.publicKey.write() });
  server.routes.set(advPath('rev@example.org'), { body: revoked.publicKey.write() });
  const { discovery } = setup({ sources: { vks: false } });
  const expect = async (email: string, reason: RegExp) => {
    const r = await discovery.discover(email);
    assert.equal(r.key, null, email);
    assert.match(r.misses.join(' | '), reason, email);
  };
  await expect('victim@example.org', /advanced: no key for this address/);
  await expect('garbage@example.org', /advanced: not an OpenPGP key/);
  await expect('html@example.org', /advanced: text\/html response/);
  await expect('exp@example.org', /advanced: key is expired/);
  await expect('rev@example.org', /advanced: key is revoked/);
});

test('timeout: a server that never answers is bounded by the per-message deadline', async () => {
  reset();
  server.handler = (req) => (req.headers.host?.includes('slow.example') ? { hang: true } : undefined);
  const { discovery } = setup();
  const t0 = Date.now();
  const all = await discovery.discoverAll(['a@slow.example', 'b@slow.example', 'c@slow.example'], {
    timeoutMs: 400,
  });
  const took = Date.now() - t0;
  assert.ok(took >= 350, `took ${took} ms`);
  for (const r of all.values()) {
    assert.equal(r.key, null);
    assert.equal(r.timedOut, true);
  }
});

test('VKS by e-mail: hit when WKD has nothing; 404 is a miss', async () => {
  reset();
  const k = await makeKey('vera@example.org');
  server.routes.set('keys.test/vks/v1/by-email/vera%40example.org', {
    body: k.armoredPublic,
    contentType: 'application/pgp-keys',
  });
  const { discovery } = setup();
  const r = await discovery.discover('vera@example.org');
  assert.equal(r.source, 'vks');
  assert.equal(r.key!.getFingerprint(), k.publicKey.getFingerprint());
  assert.ok(
    server.requests.some((q) => q.host === 'keys.test' && q.path === '/vks/v1/by-email/vera%40example.org'),
  );
  const miss = await setup({ sources: { wkd: false } }).discovery.discover('nope@example.org');
  assert.equal(miss.key, null);
  assert.deepEqual(miss.misses, ['keys.openpgp.org: 404 not found']);
});

test('HKP is off by default and used when enabled', async () => {
  reset();
  const k = await makeKey('hank@example.org');
  server.handler = (_req, url) =>
    url.pathname === '/pks/lookup' &&
    url.searchParams.get('op') === 'get' &&
    url.searchParams.get('search') === 'hank@example.org'
      ? { body: k.armoredPublic, contentType: 'application/pgp-keys' }
      : undefined;
  const off = await setup({ hkpBaseUrl: `https://keys.test:${server.port}` }).discovery.discover(
    'hank@example.org',
  );
  assert.equal(off.key, null);
  assert.ok(!off.looked.includes('HKP'));
  const on = await setup({
    hkpBaseUrl: `https://keys.test:${server.port}`,
    sources: { hkp: true },
  }).discovery.discover('hank@example.org');
  assert.equal(on.source, 'hkp');
});

test('Autocrypt peer state is used before any network lookup', async () => {
  reset();
  const { discovery, repo } = setup();
  const k = await makeKey('peer@example.org');
  repo.putPeer({
    email: 'peer@example.org',
    lastSeen: Date.now(),
    autocryptTimestamp: Date.now(),
    publicKey: k.publicKey.write(),
    preferEncrypt: 'mutual',
    gossipTimestamp: null,
    gossipKey: null,
  });
  const r = await discovery.discover('peer@example.org');
  assert.equal(r.source, 'autocrypt');
  assert.equal(server.requests.length, 0);
});

test('background refresh after the TTL picks up a revocation', async () => {
  reset();
  const k = await makeKey('ref@example.org');
  server.routes.set(advPath('ref@example.org'), { body: k.publicKey.write() });
  const { discovery, advance } = setup();
  assert.ok((await discovery.discover('ref@example.org')).key);
  const rev = await openpgp.revokeKey({ key: k.privateKey, format: 'object' });
  server.routes.set(advPath('ref@example.org'), { body: rev.publicKey.write() });
  advance(25 * 3600_000);
  const stale = await discovery.discover('ref@example.org');
  assert.ok(stale.key, 'the cached key answers at once');
  await discovery.idle();
  const after = await discovery.discover('ref@example.org');
  assert.equal(after.key, null, 'the revoked key is never used');
});

test('TLS: a server certificate from an untrusted CA is refused', async () => {
  reset();
  const other = await createTestCa('Other CA');
  await assert.rejects(
    httpsGet(
      `https://example.org/`,
      { resolve, ca: other.caPem, port: server.port },
      AbortSignal.timeout(3000),
    ),
    (err: Error & { kind?: string }) => err.kind === 'tls',
  );
  const ok = await httpsGet(
    `https://example.org/x`,
    { resolve, ca: ca.caPem, port: server.port },
    AbortSignal.timeout(3000),
  );
  assert.equal(ok.status, 404);
});

test('redirects: followed over HTTPS, refused to plain HTTP; oversized bodies refused; freemail domains skip WKD', async () => {
  reset();
  const k = await makeKey('red@example.org');
  server.routes.set(advPath('red@example.org'), {
    status: 302,
    headers: { location: `https://example.org:${server.port}/moved/red` },
  });
  server.routes.set('example.org/moved/red', { body: k.publicKey.write() });
  server.routes.set(advPath('plain@example.org'), {
    status: 301,
    headers: { location: 'http://example.org/plain' },
  });
  server.routes.set(advPath('big@example.org'), { body: new Uint8Array(2 * 1024 * 1024) });
  const { discovery } = setup({ sources: { vks: false } });
  const r = await discovery.discover('red@example.org');
  assert.equal(r.key!.getFingerprint(), k.publicKey.getFingerprint());
  const p = await discovery.discover('plain@example.org');
  assert.equal(p.key, null);
  assert.match(p.misses.join(' '), /refusing non-HTTPS URL/);
  assert.ok(!server.requests.some((q) => q.path === '/plain'));
  const b = await discovery.discover('big@example.org');
  assert.equal(b.key, null);
  assert.match(b.misses.join(' '), /larger than/);
  const before = server.requests.length;
  const g = await setup({ wkdSkipDomains: ['example.org'], sources: { vks: false } }).discovery.discover(
    'x@example.org',
  );
  assert.deepEqual(g.looked, ['keyring', 'Autocrypt']);
  assert.equal(server.requests.length, before);
});
