// OAuth 2.0 sign-in from the web UI (issue 18), every component real and on loopback: `lockbridge
// serve --ui`, oidc-provider as the authorization server, Dovecot validating the bearer tokens
// through its oauth2 passdb, Postfix through Dovecot SASL, Chromium through playwright-core.
// The add-account page signs in on the provider's page (a popup the test fills in like a user:
// log in, consent), the bridge takes the loopback redirect and adds the account; the account card
// says how it is signed in; a revoked grant shows "Sign in again", which goes through the
// provider's page again and sync resumes with local mail kept. No token reaches the UI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { AccountInfo, BridgeStatus } from '../../app/control/contract.ts';
import { startProvider, type Provider } from '../helpers/provider.ts';
import { startOidcServer, type OidcServer } from '../helpers/oidc-server.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { cli, tempHome } from '../helpers/cli.ts';
import {
  assertAccessible,
  control,
  openUi,
  screenshot,
  serveUi,
  type ServeLines,
  type UiBrowser,
} from './ui-harness.ts';

const USER = 'ann@example.test';
const home = tempHome('lb-ui-oauth-');
const env = { LOCKBRIDGE_PASSPHRASE: 'ui oauth passphrase', LOCKBRIDGE_LOG_LEVEL: 'info' };
let as: OidcServer;
let dns: DnsServer;
let provider: Provider;
let serve: ServeLines | null = null;
let ui: UiBrowser;
let page: Page;
let controlPort = 0;
let token = '';
let caFile = '';

before(async () => {
  as = await startOidcServer();
  dns = await startDnsServer({}, { 'example.test': ['127.0.0.1'] });
  provider = await startProvider({ oauth2: { introspectionUrl: as.introspectionUrl } });
  await provider.addUser(USER, 'a password nobody uses here');
  caFile = join(home.dir, '..', `ui-oauth-provider-ca-${process.pid}.pem`);
  writeFileSync(caFile, provider.caPem);
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  ui = await openUi({ width: 900, height: 800 }, false);
  page = ui.page;
});

after(async () => {
  await serve?.stop('SIGKILL');
  await ui?.close();
  await provider?.close();
  await as?.close();
  await dns?.close();
  home.cleanup();
});

async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${serve?.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The authorization URL the page shows as a link while it waits (the one it opened). */
async function shownUrl(): Promise<URL> {
  const link = page.getByTestId('oauth-waiting').getByRole('link', { name: 'open the sign-in page' });
  await link.waitFor();
  return new URL((await link.getAttribute('href')) ?? '');
}

/** The provider's sign-in page opened by the UI: the user logs in and consents there. */
async function signInOnProviderPage(popup: Page): Promise<void> {
  await popup.waitForLoadState();
  assert.ok(popup.url().startsWith(as.issuer), `the provider's page opened: ${popup.url()}`);
  // log in (unless the provider's session cookie is still there), consent, and the redirect to
  // the bridge's loopback listener
  const done = popup.getByText('You can close this tab');
  const login = popup.locator('input[name="login"]');
  const submit = popup.locator('button[type="submit"]').first();
  for (let step = 0; step < 4; step++) {
    await done.or(login).or(submit).first().waitFor();
    if (await done.isVisible()) break;
    const at = popup.url();
    if (await login.isVisible()) {
      await login.fill(USER);
      await popup.locator('input[name="password"]').fill('any');
    }
    await submit.click();
    await popup.waitForURL((u) => u.toString() !== at);
  }
  await popup.getByText('You can close this tab').waitFor();
  assert.match(popup.url(), /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback\?/);
}

test('add account with OAuth in the UI: the provider page in a new window, the loopback redirect, the account saved and syncing', async () => {
  await provider.deliver(
    `From: bob@example.test\r\nTo: ${USER}\r\nSubject: before sign-in\r\nMessage-ID: <before@example.test>\r\n\r\nhi\r\n`,
    { to: [USER] },
  );
  ({ serve, token, controlPort } = await serveUi(
    page,
    home.dir,
    ['--ui', '--imap-port', '0', '--smtp-port', '0', '--control-port', '0'],
    env,
    'ready',
  ));
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await page.getByRole('button', { name: 'Add account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add a mail account' }).waitFor();

  await page.getByLabel('Your e-mail address').fill(USER);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Provider settings' }).waitFor();
  await page.getByLabel('IMAP server').fill('127.0.0.1');
  await page.getByLabel('IMAP port').fill(String(provider.imapPort));
  await page.getByLabel('SMTP server').fill('127.0.0.1');
  await page.getByLabel('SMTP port').fill(String(provider.smtpPort));
  await page.getByLabel('Connection security').selectOption('starttls');
  await page.getByLabel('Provider CA certificate (optional)').setInputFiles(caFile);
  await page.getByLabel('Sign in on the provider’s page (OAuth 2.0)').check();
  assert.equal(await page.getByLabel('Password at the provider').isVisible(), false, 'no password asked');
  await page.getByLabel('Sign-in service (OpenID Connect issuer)').fill(as.issuer);
  await page.getByLabel('Client ID (optional)').fill(as.clientId);
  await page.getByLabel('Scopes (optional)').fill('openid offline_access mail');
  await assertAccessible(page, 'add account with OAuth');
  await screenshot(page, 'add-account-oauth');

  const popupP = ui.context.waitForEvent('page');
  await page.getByRole('button', { name: 'Sign in and add account' }).click();
  const popup = await popupP;
  // while the browser is away the page says where to sign in, with the link and a Cancel button
  const url = await shownUrl();
  assert.equal(url.origin, as.issuer);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.match(url.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
  assert.ok(url.searchParams.get('state'), 'a state');
  await page.getByTestId('oauth-waiting').getByRole('button', { name: 'Cancel sign-in' }).waitFor();
  await signInOnProviderPage(popup);
  await popup.close();

  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  const card = page.locator(`[data-account="${USER}"]`);
  await card.getByTestId('oauth-state').filter({ hasText: 'signed in with OAuth' }).waitFor();
  const accounts = await control<AccountInfo[]>(controlPort, token, 'listAccounts');
  assert.equal(accounts[0]?.auth, 'oauth');
  assert.equal(accounts[0]?.oauthProfile, 'oidc');
  assert.deepEqual(as.grants, ['authorization_code']);
  await until('online', async () => {
    const s = await control<BridgeStatus>(controlPort, token, 'status');
    return s.accounts[0]?.connection === 'online' && s.accounts[0].sync.messagesSynced >= 1;
  });
  await screenshot(page, 'accounts-oauth');
  ui.assertClean();
});

test('a revoked grant: "Sign in again" on the account card goes through the provider page; sync resumes', async () => {
  await as.revokeGrant(USER);
  // every provider connection must sign in again (Dovecot caches nothing across a restart)
  await provider.stopPostfix();
  await provider.stopDovecot();
  await provider.startDovecot();
  await provider.startPostfix();
  const card = page.locator(`[data-account="${USER}"]`);
  const again = card.getByRole('button', { name: 'Sign in again' });
  await again.waitFor({ timeout: 60_000 });
  const popupP = ui.context.waitForEvent('page');
  await again.click();
  const popup = await popupP;
  // the account's own issuer, client and scopes
  const q = (await shownUrl()).searchParams;
  assert.equal(q.get('client_id'), as.clientId);
  assert.equal(q.get('scope'), 'openid offline_access mail');
  await signInOnProviderPage(popup);
  await popup.close();
  await until('online again', async () => {
    const s = await control<BridgeStatus>(controlPort, token, 'status');
    return s.accounts[0]?.connection === 'online';
  });
  await provider.deliver(
    `From: bob@example.test\r\nTo: ${USER}\r\nSubject: after signing in again\r\nMessage-ID: <again@example.test>\r\n\r\nhi\r\n`,
    { to: [USER] },
  );
  await until('the new message synced', async () => {
    const s = await control<BridgeStatus>(controlPort, token, 'status');
    return (s.accounts[0]?.sync.messagesSynced ?? 0) >= 2;
  });
  await again.waitFor({ state: 'detached' });
  ui.assertClean();
});

test('a sign-in the user cancels ends the wait with a clear message; nothing is saved', async () => {
  const start = await control<{ id: string; url: string }>(controlPort, token, 'beginOAuthSignIn', {
    email: 'other@example.test',
    profile: 'oidc',
    issuer: as.issuer,
    clientId: as.clientId,
    scopes: ['openid'],
  });
  const waiting = control(controlPort, token, 'finishOAuthSignIn', start.id).then(
    () => null,
    (e: Error & { code?: string }) => e,
  );
  await control(controlPort, token, 'cancelOAuthSignIn', start.id);
  const err = await waiting;
  assert.equal(err?.code, 'oauth-cancelled', String(err));
  assert.equal((await control<AccountInfo[]>(controlPort, token, 'listAccounts')).length, 1);
  // the listener is gone: the redirect address answers nothing
  const redirect = new URL(new URL(start.url).searchParams.get('redirect_uri') as string);
  await assert.rejects(fetch(redirect));
});

test('no token reached the page', async () => {
  const html = await page.content();
  for (const t of as.issuedTokens()) assert.ok(!html.includes(t), 'a token in the page');
  const stderr = serve?.stderr() ?? '';
  for (const t of as.issuedTokens()) assert.ok(!stderr.includes(t), 'a token in the log');
});
