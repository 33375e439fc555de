// OAuth 2.0 sign-in core (issue 18): PKCE (RFC 7636 appendix B), the authorization URL, the
// redirect check (a forged state, another port, host or path is refused), the profiles as data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPkce, createState, s256Challenge } from '../../../app/oauth/core/pkce.ts';
import { checkRedirect } from '../../../app/oauth/core/redirect.ts';
import {
  OAUTH_PROFILES,
  authorizationUrl,
  findProfile,
  profileForEmail,
  profileForHost,
  registrationFromEnv,
} from '../../../app/oauth/core/profiles.ts';

test('PKCE S256: the RFC 7636 appendix B vector', () => {
  const octets = Uint8Array.from([
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
    191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
  ]);
  const p = createPkce(octets);
  assert.equal(p.verifier, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  assert.equal(p.challenge, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  assert.equal(p.method, 'S256');
  assert.equal(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), p.challenge);
});

test('PKCE: fresh verifiers are 43 unreserved characters and differ; short or odd ones are refused', () => {
  const a = createPkce();
  const b = createPkce();
  assert.match(a.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.verifier, b.verifier);
  assert.throws(() => s256Challenge('short'), RangeError);
  assert.throws(() => s256Challenge('x'.repeat(42) + ' '), RangeError);
  assert.notEqual(createState(), createState());
  assert.ok(createState().length >= 22);
});

test('the authorization URL carries the PKCE challenge, the state and the loopback redirect', () => {
  const u = new URL(
    authorizationUrl({
      authorizationEndpoint: 'https://as.example/authorize?tenant=x',
      clientId: 'cid',
      redirectUri: 'http://127.0.0.1:5555/oauth/callback',
      scopes: ['a', 'b'],
      state: 'st',
      codeChallenge: 'ch',
      loginHint: 'ann@example.org',
      extra: { access_type: 'offline' },
    }),
  );
  const q = u.searchParams;
  assert.equal(q.get('tenant'), 'x');
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(q.get('code_challenge'), 'ch');
  assert.equal(q.get('state'), 'st');
  assert.equal(q.get('scope'), 'a b');
  assert.equal(q.get('redirect_uri'), 'http://127.0.0.1:5555/oauth/callback');
  assert.equal(q.get('login_hint'), 'ann@example.org');
  assert.equal(q.get('access_type'), 'offline');
});

test('a redirect is taken only to our port and path and with our state', () => {
  const ru = 'http://127.0.0.1:5555/oauth/callback';
  const ok = checkRedirect(`${ru}?code=abc&state=S1`, ru, 'S1');
  assert.equal(ok.code, 'abc');
  const refused = (url: string, re: RegExp) =>
    assert.throws(
      () => checkRedirect(url, ru, 'S1'),
      (e: Error & { code?: string }) => e.code === 'oauth-redirect-refused' && re.test(e.message),
    );
  refused('http://127.0.0.1:5555/oauth/callback?code=abc&state=S2', /state/);
  refused('http://127.0.0.1:5555/oauth/callback?code=abc&state=S', /state/);
  refused('http://127.0.0.1:5555/oauth/callback?code=abc', /state/);
  refused('http://127.0.0.1:5556/oauth/callback?code=abc&state=S1', /127\.0\.0\.1:5556/);
  refused('http://localhost:5555/oauth/callback?code=abc&state=S1', /localhost/);
  refused('https://127.0.0.1:5555/oauth/callback?code=abc&state=S1', /not to/);
  refused('http://127.0.0.1:5555/other?code=abc&state=S1', /path/);
  refused('http://127.0.0.1:5555/oauth/callback?state=S1', /no authorization code/);
  refused('not a url', /not a URL/);
  assert.throws(
    () => checkRedirect(`${ru}?error=access_denied&state=S1`, ru, 'S1'),
    (e: Error & { code?: string }) => e.code === 'oauth-denied' && /access_denied/.test(e.message),
  );
  // an error answer without our state is refused as forged, not shown as the provider's answer
  assert.throws(
    () => checkRedirect(`${ru}?error=access_denied&state=X`, ru, 'S1'),
    (e: Error & { code?: string }) => e.code === 'oauth-redirect-refused',
  );
});

test('profiles are data: endpoints, scopes and hosts, no client ids or secrets', () => {
  assert.deepEqual(
    OAUTH_PROFILES.map((p) => p.id),
    ['google', 'microsoft', 'yahoo', 'aol', 'fastmail'],
  );
  for (const p of OAUTH_PROFILES) {
    assert.match(p.authorizationEndpoint, /^https:\/\//);
    assert.match(p.tokenEndpoint, /^https:\/\//);
    assert.ok(p.scopes.length > 0);
    assert.ok(p.hosts.includes(p.imap.host) && p.hosts.includes(p.smtp.host), p.id);
    assert.doesNotMatch(JSON.stringify(p), /client_?id|secret/i, p.id);
  }
  assert.equal(profileForHost('IMAP.gmail.com.')?.id, 'google');
  assert.equal(profileForHost('smtp.office365.com')?.id, 'microsoft');
  assert.equal(profileForHost('imap.example.org'), null);
  assert.equal(profileForEmail('ann@hotmail.com')?.id, 'microsoft');
  assert.equal(findProfile('Fastmail')?.name, 'Fastmail');
  assert.ok(findProfile('microsoft')?.scopes.includes('offline_access'));
});

test('client registrations come from the environment', () => {
  assert.equal(registrationFromEnv('google', {}), null);
  assert.deepEqual(registrationFromEnv('google', { LOCKBRIDGE_OAUTH_GOOGLE_CLIENT_ID: ' id1 ' }), {
    clientId: 'id1',
    clientSecret: null,
  });
  assert.deepEqual(
    registrationFromEnv('microsoft', {
      LOCKBRIDGE_OAUTH_MICROSOFT_CLIENT_ID: 'id2',
      LOCKBRIDGE_OAUTH_MICROSOFT_CLIENT_SECRET: 's2',
    }),
    { clientId: 'id2', clientSecret: 's2' },
  );
});
