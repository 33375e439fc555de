// The web UI end to end, against the real engine (`lockbridge serve --ui`, not offline) and a real
// Dovecot provider, driven by Chromium through playwright-core:
//   first run in the browser (serve starts locked → "create your store" → ready line), add the
//   Dovecot account (TLS failure without the provider's private CA, unreachable host, wrong
//   password: each shown with the engine's own message; then the right one), watch sync reach 100 % for pre-filled folders,
//   read the local credentials (same password as `lockbridge credentials --json`, CA and
//   Thunderbird downloads), generate/export/back up keys, WKD .zip, a contact's real key change
//   (key imported by hand, then an Autocrypt header with another key delivered to Dovecot and
//   synced) shown live and accepted, "mark verified", settings saved and persisted across a
//   restart, the unlock page after the restart, logs, outbox, a focus-trapped dialog, keyboard
//   focus order with visible focus rings; axe-core on every page; screenshots of every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as openpgp from 'openpgp';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import type { BridgeStatus, KeySummary, Settings } from '../../app/control/contract.ts';
import { startProvider, type Provider } from '../helpers/provider.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { createTestCa } from '../helpers/https-ca.ts';
import { cli, ROOT, tempHome } from '../helpers/cli.ts';
import {
  assertAccessible,
  control,
  download as save,
  focused,
  openUi,
  screenshot,
  serveUi,
  type PageGlobals,
  type ServeLines,
  type UiBrowser,
} from './ui-harness.ts';

const EMAIL = 'ui@example.test';
const PROVIDER_PW = 'provider-secret-1';
const PASSPHRASE = 'browser first run';
const BOB = 'bob@outside.test';
const INBOX_COUNT = 12;
const ARCHIVE_COUNT = 5;
/** The big folder of the Stop-export and repair-progress test. */
const BULK_COUNT = 5000;

const home = tempHome('lb-ui-');
const scratch = mkdtempSync(join(tmpdir(), 'lb-ui-files-'));
let provider: Provider;
let serve: ServeLines | null = null;
let ui: UiBrowser;
let page: Page;
let controlPort = 0;
let token = '';

function message(i: number, box: string): Buffer {
  return Buffer.from(
    `From: Sender ${i} <sender${i}@outside.test>\r\nTo: ${EMAIL}\r\nSubject: ${box} message ${i}\r\n` +
      `Date: Mon, 2 Mar 2026 10:${String(i).padStart(2, '0')}:00 +0000\r\nMessage-ID: <${box}-${i}@outside.test>\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\nbody ${i}\r\n`,
  );
}

function bulkMessage(i: number): Buffer {
  return Buffer.from(
    `From: Sender <bulk@outside.test>\r\nTo: ${EMAIL}\r\nSubject: bulk message ${i}\r\n` +
      `Date: Tue, 3 Mar 2026 10:00:00 +0000\r\nMessage-ID: <bulk-${i}@outside.test>\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\nbody ${i}\r\n`,
  );
}

const serveArgs = ['--ui', '--imap-port', '0', '--smtp-port', '0', '--control-port', '0'];
const serveEnv: Record<string, string | undefined> = {
  LOCKBRIDGE_PASSPHRASE: undefined,
  LOCKBRIDGE_LOG_LEVEL: 'info',
};
let dns: DnsServer | null = null;
let autoconfig: HttpServer | null = null;
const autoconfigHits: string[] = [];

const download = (click: () => Promise<void>) => save(page, scratch, click);

async function go(route: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: route, exact: true })
    .click();
  await page.getByRole('heading', { level: 1 }).waitFor();
}

before(async () => {
  provider = await startProvider();
  await provider.addUser(EMAIL, PROVIDER_PW);
  // RFC 6186 records for the account's domain, served from loopback: the UI's discovery step
  // fills in the provider settings from them
  const domain = EMAIL.split('@')[1]!;
  dns = await startDnsServer(
    {
      [`_imap._tcp.${domain}`]: [{ target: '127.0.0.1', port: provider.imapPort }],
      [`_submission._tcp.${domain}`]: [{ target: '127.0.0.1', port: provider.smtpPort }],
    },
    // a domain with neither SRV records nor an autoconfig file, but the usual host names
    // (and outside.test exists, for the recipient-domain check of mail sent to Bob)
    {
      'imap.guessed.test': ['192.0.2.20'],
      'smtp.guessed.test': ['192.0.2.21'],
      'outside.test': ['192.0.2.30'],
      // the provider's own domain, for the recipient-domain check of mail to its users
      'example.test': ['192.0.2.31'],
    },
  );
  serveEnv.LOCKBRIDGE_DNS_SERVERS = dns.address;
  // the provider's autoconfig file (Thunderbird's clientConfig) for auto.test, from loopback
  autoconfig = createHttpServer((req, res) => {
    autoconfigHits.push(req.url ?? '');
    if (!req.url?.startsWith('/auto.test/')) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/xml' })
      .end(
        `<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="auto.test">` +
          `<incomingServer type="imap"><hostname>mail.auto.test</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILLOCALPART%</username></incomingServer>` +
          `<outgoingServer type="smtp"><hostname>out.auto.test</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>` +
          `</emailProvider></clientConfig>`,
      );
  });
  await new Promise<void>((r) => autoconfig!.listen(0, '127.0.0.1', r));
  serveEnv.LOCKBRIDGE_AUTOCONFIG_URLS = `http://127.0.0.1:${(autoconfig.address() as AddressInfo).port}/{domain}/config.xml?e={email}`;
  await provider.bulkLoad(
    EMAIL,
    'INBOX',
    Array.from({ length: INBOX_COUNT }, (_, i) => message(i, 'inbox')),
  );
  await provider.bulkLoad(
    EMAIL,
    'Archive',
    Array.from({ length: ARCHIVE_COUNT }, (_, i) => message(i, 'archive')),
  );
  writeFileSync(join(scratch, 'provider-ca.pem'), provider.caPem);
  ui = await openUi({ width: 800, height: 600 });
  page = ui.page;
});

after(async () => {
  await serve?.stop('SIGKILL');
  await ui?.close();
  await provider?.close();
  await dns?.close();
  await new Promise((r) => (autoconfig ? autoconfig.close(r) : r(undefined)));
  home.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

test('first run in the browser: serve starts locked, the UI creates the store, the bridge starts', async () => {
  ({ serve, token, controlPort } = await serveUi(page, home.dir, serveArgs, serveEnv, 'locked'));

  const h1 = page.getByRole('heading', { level: 1 });
  await assert.doesNotReject(h1.filter({ hasText: 'Create your encrypted store' }).waitFor());
  assert.ok(!page.url().includes('token'), `token removed from the address bar: ${page.url()}`);
  assert.equal(await page.evaluate("sessionStorage.getItem('lockbridge.controlToken')"), token);
  assert.equal(await page.locator('[data-state]').getAttribute('data-state'), 'locked');
  await assertAccessible(page, 'create store');
  await screenshot(page, 'create-store');

  await page.getByLabel('Passphrase', { exact: true }).fill('short');
  await page.getByLabel('Repeat the passphrase').fill('short');
  await page.getByRole('button', { name: 'Create store' }).click();
  await page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor();

  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Repeat the passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create store' }).click();
  await h1.filter({ hasText: 'Add a mail account' }).waitFor();
  const ready = await serve.next();
  assert.equal(ready.event, 'ready');
  assert.ok(Number(ready.imap) > 0 && Number(ready.smtp) > 0);
  assert.equal(Number(ready.control), controlPort, 'same control listener, same token');
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 1, 'navigation once unlocked');
  // no accounts: the header says so (not "Up to date"), and the Accounts tab is the current one
  await page.locator('[data-state="no-accounts"]').getByText('No accounts yet').waitFor();
  assert.equal(
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Accounts', exact: true })
      .getAttribute('aria-current'),
    'page',
  );
  await screenshot(page, 'no-accounts');
});

test('add the Dovecot account: settings found through SRV records; TLS failure, unreachable host, wrong password shown as the engine says; then added', async () => {
  // record every state the overall bar of the new account shows, from its very first render:
  // 'counting' while folder sizes are unknown, else the percentage
  await page.evaluate(() => {
    const seen: Array<number | string> = [];
    const g = globalThis as unknown as PageGlobals;
    g.__seen = seen;
    const record = () => {
      const bar = g.document.querySelector('[role="progressbar"][aria-label^="Sync of"]');
      if (!bar) return;
      const now = bar.getAttribute('aria-valuenow');
      const v = now === null ? 'counting' : Number(now);
      if (seen[seen.length - 1] !== v) seen.push(v);
    };
    new g.MutationObserver(record).observe(g.document.body, {
      subtree: true,
      attributes: true,
      childList: true,
    });
  });
  await page.getByLabel('Your e-mail address').fill(EMAIL);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Provider settings' }).waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('discovery-source').innerText(), /DNS service records/);
  assert.equal(await page.getByLabel('IMAP server').inputValue(), '127.0.0.1');
  assert.equal(await page.getByLabel('IMAP port').inputValue(), String(provider.imapPort));
  assert.equal(await page.getByLabel('SMTP port').inputValue(), String(provider.smtpPort));
  assert.equal(await page.getByLabel('Connection security').inputValue(), 'starttls');
  await assertAccessible(page, 'add account (details)');
  await screenshot(page, 'add-account');

  await page.getByLabel('IMAP server').fill('127.0.0.1');
  await page.getByLabel('IMAP port').fill(String(provider.imapPort));
  await page.getByLabel('SMTP server').fill('127.0.0.1');
  await page.getByLabel('SMTP port').fill(String(provider.smtpPort));
  await page.getByLabel('Connection security').selectOption('starttls');
  const addButton = page.getByRole('button', { name: 'Check login and add account' });
  let previous = '';
  const failure = async (): Promise<string> => {
    await addButton.click();
    // wait for a new message (each attempt first clears the old one)
    await page.waitForFunction(
      (prev) => {
        const el = (globalThis as unknown as PageGlobals).document.querySelector('[role="alert"]');
        return el !== null && el.textContent !== prev;
      },
      previous,
      { timeout: 30_000 },
    );
    previous = await page.getByRole('alert').innerText();
    return previous;
  };

  // the provider's certificate is signed by a private CA: without it, a TLS failure
  await page.getByLabel('Password at the provider').fill(PROVIDER_PW);
  const tls = await failure();
  assert.match(tls, /certificate|TLS/i, `TLS failure explained: ${tls}`);

  // an unreachable host
  await page.getByLabel('Provider CA certificate (optional)').setInputFiles(join(scratch, 'provider-ca.pem'));
  await page.getByText('Using provider-ca.pem.').waitFor();
  await page.getByLabel('IMAP port').fill('1');
  const unreachable = await failure();
  assert.match(unreachable, /reach|refused|connect/i, `unreachable host explained: ${unreachable}`);

  // a wrong password
  await page.getByLabel('IMAP port').fill(String(provider.imapPort));
  await page.getByLabel('Password at the provider').fill('not-the-password');
  const wrong = await failure();
  assert.match(wrong, /password|authenticat|login/i, `wrong password explained: ${wrong}`);
  await screenshot(page, 'add-account-error');
  assert.deepEqual(await control(controlPort, token, 'listAccounts'), [], 'nothing saved after failures');

  await page.getByLabel('Password at the provider').fill(PROVIDER_PW);
  await addButton.click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor({ timeout: 30_000 });
  await page.locator(`article[data-account="${EMAIL}"]`).waitFor();
  const accounts = await control<{ email: string; username: string }[]>(controlPort, token, 'listAccounts');
  assert.deepEqual(
    accounts.map((a) => a.email),
    [EMAIL],
  );
});

test('sync progress: counting until folder sizes are known, then forward only to 100 %', async () => {
  const card = page.locator(`article[data-account="${EMAIL}"]`);
  const total = INBOX_COUNT + ARCHIVE_COUNT;
  const overall = card.getByRole('progressbar', { name: `Sync of ${EMAIL}` });
  await page.waitForFunction(
    ({ email, total }) => {
      const bar = (globalThis as unknown as PageGlobals).document.querySelector(
        `[role="progressbar"][aria-label="Sync of ${email}"]`,
      );
      return (
        bar?.getAttribute('aria-valuenow') === '100' &&
        bar.getAttribute('aria-valuetext')?.includes(`${total} of ${total}`)
      );
    },
    { email: EMAIL, total },
    { timeout: 45_000 },
  );
  assert.equal(await overall.getAttribute('aria-valuenow'), '100');
  const inbox = card.getByRole('progressbar', { name: 'Folder INBOX' });
  await page.waitForFunction(
    (n) =>
      (globalThis as unknown as PageGlobals).document
        .querySelector('[role="progressbar"][aria-label="Folder INBOX"]')
        ?.getAttribute('aria-valuetext')
        ?.includes(`${n} of ${n}`),
    INBOX_COUNT,
  );
  assert.equal(await inbox.getAttribute('aria-valuenow'), '100');
  assert.match(
    (await inbox.getAttribute('aria-valuetext')) ?? '',
    new RegExp(`${INBOX_COUNT} of ${INBOX_COUNT}`),
  );
  const archive = card.getByRole('progressbar', { name: 'Folder Archive' });
  assert.match(
    (await archive.getAttribute('aria-valuetext')) ?? '',
    new RegExp(`${ARCHIVE_COUNT} of ${ARCHIVE_COUNT}`),
  );
  const seen = await page.evaluate(() => (globalThis as unknown as PageGlobals).__seen ?? []);
  const numbers = seen.filter((v): v is number => typeof v === 'number');
  assert.deepEqual(
    [...numbers].sort((a, b) => a - b),
    numbers,
    `progress never goes back: ${seen.join(' → ')}`,
  );
  assert.ok(
    seen.indexOf('counting') <= 0 && seen.lastIndexOf('counting') <= 0,
    `counting only before the first percentage: ${seen.join(' → ')}`,
  );
  await card.getByText('Online').waitFor({ timeout: 20_000 });
  await page.waitForFunction(
    () =>
      (globalThis as unknown as PageGlobals).document
        .querySelector('[data-state]')
        ?.getAttribute('data-state') === 'ok',
  );
  await assertAccessible(page, 'accounts');
  await screenshot(page, 'accounts');
  // the counting state as a new account shows it before the provider has listed its folders:
  // the status answers are rewritten to that state and live events held back (the UI polls)
  await page.route('**/api/events**', (route) => route.fulfill({ status: 204 }));
  await page.route('**/api/status', async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as { result: { accounts: { sync: Record<string, unknown> }[] } };
    for (const a of body.result.accounts)
      a.sync = { ...a.sync, phase: 'initial', sizesKnown: false, messagesSynced: 0, folders: [] };
    await route.fulfill({ response: res, json: body });
  });
  await page.reload();
  const counting = card.getByRole('progressbar', { name: `Sync of ${EMAIL}` });
  await card.getByText('Counting messages…').waitFor();
  assert.equal(await counting.getAttribute('aria-valuenow'), null, 'indeterminate: no value');
  assert.equal(await counting.getAttribute('aria-busy'), 'true');
  assert.doesNotMatch(await card.innerText(), /%/, 'no percentage while counting');
  await assertAccessible(page, 'accounts (counting)');
  await screenshot(page, 'accounts-counting');
  await page.unrouteAll();
  await page.reload();
  await card.getByText(`${total} of ${total} messages · 100 %`).waitFor();
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, 'accounts-1280');
  await page.setViewportSize({ width: 800, height: 600 });

  // pause / resume through the UI reaches the engine
  await card.getByRole('button', { name: 'Pause sync' }).click();
  await card.getByRole('button', { name: 'Resume sync' }).waitFor();
  const paused = await control<{ accounts: { paused: boolean }[] }>(controlPort, token, 'status');
  assert.equal(paused.accounts[0]?.paused, true);
  await card.getByRole('button', { name: 'Resume sync' }).click();
  await card.getByRole('button', { name: 'Pause sync' }).waitFor();
});

test('add account: settings from an autoconfig file, or guessed from host names, each labelled as such', async () => {
  await go('Accounts');
  await page.getByRole('button', { name: 'Add account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add a mail account' }).waitFor();
  const details = page.getByRole('heading', { name: 'Provider settings' });

  // no SRV records for auto.test: its autoconfig file answers
  await page.getByLabel('Your e-mail address').fill('someone@auto.test');
  await page.getByRole('button', { name: 'Continue' }).click();
  await details.waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('discovery-source').innerText(), /autoconfiguration file/);
  assert.equal(await page.getByLabel('IMAP server').inputValue(), 'mail.auto.test');
  assert.equal(await page.getByLabel('IMAP port').inputValue(), '993');
  assert.equal(await page.getByLabel('SMTP server').inputValue(), 'out.auto.test');
  assert.equal(await page.getByLabel('SMTP port').inputValue(), '465');
  assert.equal(await page.getByLabel('Connection security').inputValue(), 'tls');
  assert.equal(await page.getByLabel('Username at the provider').inputValue(), 'someone');
  assert.ok(autoconfigHits.includes('/auto.test/config.xml?e=someone%40auto.test'), autoconfigHits.join());
  await assertAccessible(page, 'add account (autoconfig)');
  await screenshot(page, 'add-account-autoconfig');

  // neither SRV nor autoconfig: a guess from imap./smtp. names that exist, flagged to be checked
  await page.getByRole('button', { name: 'Change', exact: true }).click();
  // the address is editable again, focused, and nothing was looked up by that click
  await page.getByRole('button', { name: 'Continue' }).waitFor();
  // focus moves once React has rendered the field editable (a timer after the click): wait for it
  await page.getByLabel('Your e-mail address').and(page.locator(':focus')).waitFor({ timeout: 5_000 });
  assert.equal((await focused(page)).name, 'Your e-mail address');
  await page.getByLabel('Your e-mail address').fill('someone@guessed.test');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByTestId('discovery-source').filter({ hasText: 'Guessed' }).waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('discovery-source').innerText(), /please check them/);
  assert.equal(await page.getByLabel('IMAP server').inputValue(), 'imap.guessed.test');
  assert.equal(await page.getByLabel('SMTP server').inputValue(), 'smtp.guessed.test');
  assert.equal(await page.getByLabel('Connection security').inputValue(), 'tls');

  // nothing at all: entered by hand
  await page.getByRole('button', { name: 'Change', exact: true }).click();
  await page.getByLabel('Your e-mail address').fill('someone@unknown.test');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page
    .getByTestId('discovery-source')
    .filter({ hasText: 'Enter them by hand' })
    .waitFor({ timeout: 20_000 });
  assert.equal(await page.getByLabel('IMAP server').inputValue(), '');
  assert.equal(
    (await control<{ email: string }[]>(controlPort, token, 'listAccounts')).length,
    1,
    'looking up settings saves nothing',
  );
  await go('Accounts');
});

test('connect your mail client: the local password is the one `lockbridge credentials` prints', async () => {
  await go('Connect your mail client');
  const creds = cli(['--home', home.dir, 'credentials', '--json'], { LOCKBRIDGE_PASSPHRASE: undefined });
  assert.equal(creds.status, 0, creds.stderr);
  const expected = JSON.parse(creds.stdout) as { password: string; caPem: string; imap: { port: number } };
  const secret = page.getByTestId('local-password');
  assert.ok(!(await secret.innerText()).includes(expected.password), 'hidden until asked');
  await page.getByRole('button', { name: 'Show password' }).click();
  assert.equal(await secret.innerText(), expected.password);
  assert.equal(
    await page.getByRole('button', { name: 'Hide password' }).getAttribute('aria-pressed'),
    'true',
  );
  assert.equal(await page.getByTestId('cred-imap-port').innerText(), String(expected.imap.port));
  await screenshot(page, 'connect');
  await page.getByRole('button', { name: 'Hide password' }).click();
  await assertAccessible(page, 'connect');

  const ca = await download(() => page.getByRole('button', { name: /Download local certificate/ }).click());
  assert.equal(ca.name, 'lockbridge-ca.pem');
  assert.equal(ca.text, expected.caPem);
  const tb = await download(() =>
    page.getByRole('button', { name: `Thunderbird account file for ${EMAIL}` }).click(),
  );
  assert.match(tb.text, /<clientConfig/);
  assert.ok(tb.text.includes(EMAIL) && tb.text.includes(String(expected.imap.port)));

  // the copy button reaches the clipboard (or its fallback) and says so
  await ui.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy local password' }).click();
  await page.getByRole('status').getByText('local password copied.').waitFor();
  assert.equal(await page.evaluate('navigator.clipboard.readText()'), expected.password);
});

test('keys: own key listed; generate (error shown, then a new address), export, back up, Setup Message, WKD', async () => {
  await go('Keys');
  const own = page.locator('li.key-row').filter({ has: page.getByRole('heading', { name: EMAIL }) });
  await own.first().waitFor();
  await own.getByText('Needs backup').waitFor();

  const gen = page.getByLabel('Generate a new key for');
  await gen.fill(EMAIL);
  await page.getByRole('button', { name: 'Generate key' }).click();
  await page.getByRole('alert').filter({ hasText: 'already has a key' }).waitFor();
  await gen.fill('alias@example.test');
  await page.getByRole('button', { name: 'Generate key' }).click();
  const alias = page
    .locator('li.key-row')
    .filter({ has: page.getByRole('heading', { name: 'alias@example.test' }) });
  await alias.waitFor();
  const aliasFpr = await alias.locator('[data-fpr]').getAttribute('data-fpr');
  assert.match(aliasFpr ?? '', /^[0-9A-F]{40,64}$/);

  const pub = await download(() => alias.getByRole('button', { name: /Export public key/ }).click());
  const pubKey = await openpgp.readKey({ armoredKey: pub.text });
  assert.ok(!pubKey.isPrivate());
  assert.equal(pubKey.getFingerprint().toUpperCase(), aliasFpr);

  await own.getByRole('button', { name: /Back up secret key/ }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Back up your secret key' });
  await dialog.waitFor();
  await dialog.getByText('Anyone who gets this file').waitFor();
  await assertAccessible(page, 'backup dialog');
  const sec = await download(() => dialog.getByRole('button', { name: /Download secret key/ }).click());
  assert.match(sec.text, /BEGIN PGP PRIVATE KEY BLOCK/);
  await dialog.waitFor({ state: 'hidden' });
  await own.getByText('Needs backup').waitFor({ state: 'detached' });

  await own.getByRole('button', { name: /Send Autocrypt Setup Message/ }).click();
  const setup = page.getByRole('dialog', { name: 'Autocrypt Setup Message' });
  await setup.getByRole('button', { name: 'Create Setup Message' }).click();
  const code = await setup.getByTestId('setup-code').innerText();
  assert.match(code.trim(), /^\d{4}(-\d{4}){8}$/, `setup code shown: ${code}`);
  await screenshot(page, 'keys-setup-code');
  await setup.getByRole('button', { name: 'I wrote it down' }).click();

  await page.getByRole('textbox', { name: 'Domain' }).fill('example.test');
  const zip = await download(() => page.getByRole('button', { name: 'Download WKD folder (.zip)' }).click());
  assert.equal(zip.name, 'wkd-example.test.zip');
  const t = spawnSync('unzip', ['-Z1', zip.path], { encoding: 'utf8' });
  assert.equal(spawnSync('unzip', ['-t', zip.path]).status, 0, 'zip passes unzip -t');
  assert.match(t.stdout, /^\.well-known\/openpgpkey\/hu\/[a-z0-9]{32}$/m);
  assert.match(t.stdout, /^\.well-known\/openpgpkey\/policy$/m);
});

test('Setup Message import: one made by another program arrives by mail; one from another address and a wrong code are refused, the right one imports the key', async () => {
  // the Autocrypt specification's example Setup Message: from alice@autocrypt.example, so never
  // an own key of this account, even with its right code
  const asm = readFileSync(join(ROOT, 'test', 'fixtures', 'keys', 'example-setup-message.eml'));
  const SPEC_CODE = '1742-0185-6197-1303-7016-8412-3581-4441-0597';
  const SPEC_FPR = 'EB85BB5FA33A75E15E944E63F231550C4F47E38E';
  await provider.deliver(asm, { to: [EMAIL], via: 'lmtp' });
  // one GnuPG made for this account: a key for EMAIL, `gpg --symmetric` to a setup code, in the
  // Level 1 MIME layout, from and to EMAIL
  const gpgHome = mkdtempSync(join(scratch, 'gpg-'));
  const gpg = (args: string[], input?: string) => {
    const r = spawnSync(
      'gpg',
      [
        '--homedir',
        gpgHome,
        '--batch',
        '--no-tty',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        ...args,
      ],
      { input, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  gpg(['--quick-gen-key', EMAIL, 'ed25519', 'cert,sign', 'never']);
  const gpgFpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(['--with-colons', '--list-secret-keys', EMAIL]))![1]!;
  gpg(['--quick-add-key', gpgFpr, 'cv25519', 'encr', 'never']);
  const GPG_CODE = '9876-5432-1098-7654-3210-9876-5432-1098-7654';
  const secret = gpg(['--armor', '--export-secret-keys', gpgFpr]);
  const enc = spawnSync(
    'gpg',
    [
      '--homedir',
      gpgHome,
      '--batch',
      '--no-tty',
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      GPG_CODE,
      '--symmetric',
      '--armor',
      '--cipher-algo',
      'AES256',
      '--s2k-mode',
      '3',
    ],
    { input: secret, encoding: 'utf8' },
  );
  assert.equal(enc.status, 0, enc.stderr);
  const own = [
    `From: <${EMAIL}>`,
    `To: <${EMAIL}>`,
    'Subject: Autocrypt Setup Message',
    `Date: ${new Date().toUTCString()}`,
    'Message-ID: <gpg-asm@example.test>',
    'Autocrypt-Setup-Message: v1',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="Y6fyGi9SoGeH8WwRaEdC6bbBcYOedDzrQ"',
    '',
    '--Y6fyGi9SoGeH8WwRaEdC6bbBcYOedDzrQ',
    'Content-Type: text/plain',
    '',
    'This message contains all information to transfer your Autocrypt settings.',
    '--Y6fyGi9SoGeH8WwRaEdC6bbBcYOedDzrQ',
    'Content-Type: application/autocrypt-setup',
    'Content-Disposition: attachment; filename="autocrypt-setup-message.html"',
    '',
    '<html><body><pre>',
    enc.stdout.trim(),
    '</pre></body></html>',
    '--Y6fyGi9SoGeH8WwRaEdC6bbBcYOedDzrQ--',
    '',
  ].join('\r\n');
  await provider.deliver(Buffer.from(own), { to: [EMAIL], via: 'lmtp' });

  // wait until sync brought both into the local Inbox (asked over the bridge's own IMAP server)
  const creds = JSON.parse(
    cli(['--home', home.dir, 'credentials', '--json'], { LOCKBRIDGE_PASSPHRASE: undefined }).stdout,
  ) as { username?: string; password: string; caPem: string; imap: { port: number } };
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: creds.imap.port,
    secure: false,
    auth: { user: creds.username ?? EMAIL, pass: creds.password },
    tls: { ca: [creds.caPem], servername: 'localhost' },
    logger: false,
  });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const spec = await client.search({ from: 'alice@autocrypt.example' }, { uid: true });
      const mine = await client.search({ header: { 'message-id': 'gpg-asm@example.test' } }, { uid: true });
      if (spec && spec.length > 0 && mine && mine.length > 0) break;
      assert.ok(Date.now() < deadline, 'the Setup Messages reached the local Inbox');
      await new Promise((r) => setTimeout(r, 250));
      await client.noop();
    }
  } finally {
    await client.logout();
  }

  const form = page.getByRole('region', { name: 'Import from an Autocrypt Setup Message' });
  await form.getByLabel('Account').selectOption(EMAIL);
  for (const wrong of [SPEC_CODE, '1111-2222-3333-4444-5555-6666-7777-8888-9999']) {
    await form.getByLabel('Setup code').fill(wrong);
    await form.getByRole('button', { name: 'Import key from Setup Message' }).click();
    await form.getByRole('alert').filter({ hasText: 'setup code does not open' }).waitFor();
    const keys = await control<KeySummary[]>(controlPort, token, 'listKeys');
    assert.ok(!keys.some((k) => k.fingerprint === SPEC_FPR || k.fingerprint === gpgFpr), 'nothing imported');
    await form.getByLabel('Setup code').fill('');
  }

  await form.getByLabel('Setup code').fill(GPG_CODE);
  await form.getByRole('button', { name: 'Import key from Setup Message' }).click();
  await page
    .getByRole('status')
    .getByText(/Imported your key .* from the Setup Message/)
    .waitFor();
  await page.locator(`li.key-row [data-fpr="${gpgFpr}"]`).waitFor();
  const keys = await control<KeySummary[]>(controlPort, token, 'listKeys');
  assert.ok(keys.some((k) => k.own && k.fingerprint === gpgFpr && k.email === EMAIL));
  assert.equal(await form.getByLabel('Setup code').inputValue(), '', 'the code is cleared after use');
});

test('a passphrase-protected secret key (as Thunderbird exports it): the passphrase is asked, a wrong one refused', async () => {
  const PASS = 'thunderbird export 4%q';
  const tb = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Thea', email: 'thea@example.test' }],
    passphrase: PASS,
    format: 'object',
    config: {
      v6Keys: false,
      aeadProtect: false,
      s2kType: openpgp.enums.s2k.iterated,
      preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
    },
  });
  const fpr = tb.privateKey.getFingerprint().toUpperCase();
  await page.getByLabel('Armored key').fill(tb.privateKey.armor());
  await page.getByRole('button', { name: 'Import key', exact: true }).click();
  const pass = page.getByLabel('Passphrase of the secret key');
  await pass.waitFor();
  assert.equal(
    (await focused(page)).name,
    'Passphrase of the secret key',
    'the passphrase field takes the focus',
  );
  await assertAccessible(page, 'keys: passphrase of a protected key');
  await pass.fill('not the passphrase');
  await page.getByRole('button', { name: 'Import key', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong passphrase' }).waitFor();
  assert.ok(
    !(await control<KeySummary[]>(controlPort, token, 'listKeys')).some((k) => k.fingerprint === fpr),
  );
  await pass.fill(PASS);
  await page.getByRole('button', { name: 'Import key', exact: true }).click();
  await page
    .getByRole('status')
    .getByText(/Imported thea@example\.test \(your key\)/)
    .waitFor();
  await pass.waitFor({ state: 'detached' });
  const keys = await control<KeySummary[]>(controlPort, token, 'listKeys');
  assert.ok(keys.some((k) => k.own && k.fingerprint === fpr && k.email === 'thea@example.test'));
});

test("a contact's key change arrives by mail, is shown live, and is accepted as verified", async () => {
  const keyA = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: BOB }],
    format: 'object',
  });
  const keyB = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: BOB }],
    format: 'object',
  });
  const fprA = keyA.publicKey.getFingerprint().toUpperCase();
  const fprB = keyB.publicKey.getFingerprint().toUpperCase();

  // Bob's first key, imported by hand (paste), then marked verified
  await page.getByLabel('Armored key').fill(keyA.publicKey.armor());
  await page.getByRole('button', { name: 'Import key', exact: true }).click();
  const bob = page.locator(`li[data-contact="${BOB}"][data-key="${fprA}"]`);
  await bob.waitFor();
  await bob.getByText('Unverified').waitFor();
  await bob.getByRole('button', { name: /Mark verified/ }).click();
  await bob.getByText('Verified', { exact: true }).waitFor();
  let keys = await control<KeySummary[]>(controlPort, token, 'listKeys');
  assert.equal(keys.find((k) => k.fingerprint === fprA)?.trust, 'verified');

  // Bob writes with a different key in his Autocrypt header; the mail reaches Dovecot and is synced
  const keydata = Buffer.from(keyB.publicKey.write()).toString('base64');
  const raw =
    `From: Bob <${BOB}>\r\nTo: ${EMAIL}\r\nSubject: my new key\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Message-ID: <newkey@outside.test>\r\nAutocrypt: addr=${BOB}; keydata=${keydata}\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n\r\nI have a new key.\r\n`;
  await provider.deliver(raw, { to: [EMAIL], via: 'lmtp' });

  const warning = page.locator(`li[data-warning="${BOB}"]`);
  await warning.waitFor({ timeout: 30_000 }); // shown live (key-change event), no reload
  await page.getByRole('heading', { name: 'Key changes need your attention' }).waitFor();
  assert.equal(await warning.locator('[data-fpr]').nth(0).getAttribute('data-fpr'), fprA, 'old key first');
  assert.equal(await warning.locator('[data-fpr]').nth(1).getAttribute('data-fpr'), fprB, 'then the new key');
  await warning.getByText('Old key', { exact: true }).waitFor();
  await warning.getByText('New key', { exact: true }).waitFor();
  // in the contacts' list the new key is marked as waiting, not as an ordinary unverified key
  const bobNew = page.locator(`li[data-contact="${BOB}"][data-key="${fprB}"]`);
  await bobNew.getByText('New key, not used until you accept it').waitFor();
  assert.equal(await bobNew.getByRole('button', { name: /Mark verified/ }).count(), 0);
  keys = await control<KeySummary[]>(controlPort, token, 'listKeys');
  assert.equal(keys.find((k) => k.fingerprint === fprB)?.use, 'pending');
  assert.equal(keys.find((k) => k.fingerprint === fprA)?.use, 'active');
  await page.getByRole('link', { name: /^Keys.*1 key change warning$/ }).waitFor();
  await assertAccessible(page, 'keys with a key-change warning');
  await screenshot(page, 'keys');
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, 'keys-1280');
  await page.setViewportSize({ width: 800, height: 600 });

  await warning.getByRole('button', { name: 'Accept new key and mark verified' }).click();
  await warning.waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Keys', exact: true }).waitFor(); // the count is gone
  await page
    .locator(`li[data-contact="${BOB}"][data-key="${fprB}"]`)
    .getByText('Verified', { exact: true })
    .waitFor();
  assert.deepEqual(await control(controlPort, token, 'keyWarnings'), []);
  keys = await control<KeySummary[]>(controlPort, token, 'listKeys');
  assert.equal(keys.find((k) => k.fingerprint === fprB)?.trust, 'verified');
  assert.equal(keys.find((k) => k.fingerprint === fprB)?.use, 'active');
  assert.equal(keys.find((k) => k.fingerprint === fprA)?.use, 'superseded');
  await page.locator(`li[data-contact="${BOB}"][data-key="${fprA}"]`).getByText('Replaced').waitFor();
  const exported = await control<string>(controlPort, token, 'exportKey', BOB, false);
  assert.equal(
    (await openpgp.readKey({ armoredKey: exported })).getFingerprint().toUpperCase(),
    fprB,
    'new key now used',
  );
});

test('settings: the ports in use, a restart notice only for a pending change, changes saved through updateSettings', async () => {
  await go('Settings');
  const running = await control<{ ports: { imap: number; smtp: number } }>(controlPort, token, 'status');
  await page
    .getByTestId('ports-in-use')
    .getByText(`In use now: IMAP on port ${running.ports.imap}, SMTP on port ${running.ports.smtp}`)
    .waitFor();
  // the bridge runs on free ports (serve --imap-port 0): the saved 1143 is pending, TLS is not
  const notes = async () => page.locator('.restart-note').allInnerTexts();
  assert.deepEqual(await notes(), [
    'IMAP port 1143 applies after a restart of the bridge.',
    'SMTP port 1025 applies after a restart of the bridge.',
  ]);
  await page.getByLabel('IMAP port').fill(String(running.ports.imap));
  await page.getByLabel('SMTP port').fill(String(running.ports.smtp));
  assert.deepEqual(await notes(), [], 'the values in use: no notice');
  await page.getByLabel('TLS for mail programs').selectOption('tls');
  assert.deepEqual(await notes(), ['Applies after a restart of the bridge.']);
  await assertAccessible(page, 'settings (pending)');
  await screenshot(page, 'settings-pending');
  await page.getByRole('button', { name: 'Undo changes' }).click();
  await assertAccessible(page, 'settings');
  await screenshot(page, 'settings');
  await page.getByLabel('Encryption', { exact: true }).selectOption('always');
  await page.getByLabel('Sign outgoing mail').uncheck();
  await page.getByLabel('Key lookup timeout (milliseconds)').fill('7000');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').getByText('Settings saved.').waitFor();
  const s = await control<Settings>(controlPort, token, 'getSettings');
  assert.equal(s.encryptPolicy, 'always');
  assert.equal(s.sign, false);
  assert.equal(s.keyLookupTimeoutMs, 7000);
  assert.equal(s.attachKey, false, 'untouched fields unchanged');
});

test('settings: the S/MIME directory saved with its bind password, which is never shown again; a bad address said; removed', async () => {
  await go('Settings');
  const secret = 'ui-directory-bind-secret';
  const password = page.getByLabel('Bind password', { exact: true });
  await page.getByLabel('Directory address', { exact: true }).fill('http://ldap.example.test');
  await page.getByLabel('Search base (base DN)', { exact: true }).fill('ou=people,dc=example,dc=test');
  await page.getByRole('button', { name: 'Save directory' }).click();
  await page.getByText('The directory address must look like ldap://host or ldaps://host:636.').waitFor();
  assert.equal((await control<Settings>(controlPort, token, 'getSettings')).smimeDirectory, null);

  await page.getByLabel('Directory address', { exact: true }).fill('ldaps://ldap.example.test');
  await page.getByLabel('Bind DN (empty: anonymous)', { exact: true }).fill('cn=reader,dc=example,dc=test');
  await password.fill(secret);
  // the directory's own CA (ldaps:// with an internal CA): not a PEM certificate is said
  const caField = page.getByLabel("Directory CA certificate (PEM; empty: the system's CAs)", { exact: true });
  await caField.fill('not a certificate');
  await page.getByRole('button', { name: 'Save directory' }).click();
  await page.getByText('The directory CA must be a PEM certificate (-----BEGIN CERTIFICATE-----).').waitFor();
  const dirCa = (await createTestCa('Directory UI CA')).caPem;
  await caField.fill(dirCa);
  await page.getByRole('button', { name: 'Save directory' }).click();
  await page.getByRole('status').getByText('Directory saved.').waitFor();
  const s = await control<Settings>(controlPort, token, 'getSettings');
  assert.deepEqual(s.smimeDirectory, {
    url: 'ldaps://ldap.example.test',
    baseDn: 'ou=people,dc=example,dc=test',
    bindDn: 'cn=reader,dc=example,dc=test',
    timeoutMs: 3000,
    caPem: dirCa,
  });
  assert.doesNotMatch(JSON.stringify(s), new RegExp(secret));
  const status = await control<BridgeStatus>(controlPort, token, 'status');
  assert.equal(status.certificateDirectory?.passwordSet, true);
  assert.equal(await password.inputValue(), '', 'the password is not shown again');
  await page.locator('input[placeholder="kept (type to replace)"]').waitFor();
  await assertAccessible(page, 'settings (directory)');

  await page.getByRole('button', { name: 'Remove directory' }).click();
  await page.getByRole('status').getByText('Directory removed.').waitFor();
  assert.equal((await control<Settings>(controlPort, token, 'getSettings')).smimeDirectory, null);
  assert.equal((await control<BridgeStatus>(controlPort, token, 'status')).certificateDirectory, null);
});

test('keyboard: nav links then the page controls in order, each with a visible focus ring', async () => {
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await page.getByLabel('Encryption', { exact: true }).waitFor();
  assert.equal(
    await page.evaluate('document.activeElement && document.activeElement.tagName'),
    'H1',
    'the new page heading has focus',
  );
  const walk = async (key: string, n: number) => {
    const out: { name: string; tag: string; ring: boolean }[] = [];
    for (let i = 0; i < n; i++) {
      await page.keyboard.press(key);
      out.push(await focused(page));
    }
    return out;
  };
  // forward from the heading: the page's controls in reading order
  const forward = await walk('Tab', 8);
  assert.deepEqual(
    forward.map((f) => f.name),
    [
      'Encryption',
      'Standard when both are possible',
      'Sign outgoing mail',
      'Attach my public key to outgoing mail',
      'File copies of sent mail in the Sent folder',
      'Key lookup timeout (milliseconds)',
      'Upload mail encrypted to myself',
      'Encrypt incoming plain mail at the provider (encrypt at rest)',
    ],
  );
  // backwards from the heading: the navigation (in reverse), then the skip link
  await page.getByRole('heading', { level: 1, name: 'Settings' }).focus();
  const backward = await walk('Shift+Tab', 8);
  assert.deepEqual(backward.map((f) => f.name).reverse(), [
    'Skip to content',
    'Accounts',
    'Connect your mail client',
    'Keys',
    'Certificates',
    'Outbox',
    'Settings',
    'Logs',
  ]);
  const noRing = [...forward, ...backward].filter((f) => !f.ring).map((f) => f.name);
  assert.deepEqual(noRing, [], 'every focused control shows a focus ring');

  // the skip link moves focus into main
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'main');
  // Enter on a nav link navigates and focuses the new page's heading
  await page.getByRole('heading', { level: 1, name: 'Settings' }).focus();
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).name, 'Logs');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Logs' }).waitFor();
  assert.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Logs');
});

test('logs: recent lines then live ones with their fields, level and account filters, export', async () => {
  const lines = page.locator('li.log-line');
  await lines.first().waitFor();
  const all = await lines.allInnerTexts();
  assert.ok(
    all.some((l) => l.includes(`account added · ${EMAIL}`)),
    `the account-added line names its account:\n${all.join('\n')}`,
  );
  assert.ok(
    all.some((l) => /IMAP listening .*port=\d+/.test(l)),
    'fields are kept and shown (key=value)',
  );
  assert.equal(
    all.filter((l) => /store schema (created|migrated)/.test(l)).length,
    1,
    'one line per upgrade',
  );
  assert.ok(!all.join('\n').includes(PROVIDER_PW), 'no provider password in logs');
  await assertAccessible(page, 'logs');
  await screenshot(page, 'logs');
  // only the account's lines
  await page.getByLabel('Account', { exact: true }).selectOption(EMAIL);
  const mine = await lines.allInnerTexts();
  assert.ok(mine.length > 0 && mine.every((l) => l.includes(` · ${EMAIL}`)), mine.join('\n'));
  const exported = await download(() => page.getByRole('button', { name: 'Export shown lines' }).click());
  assert.match(exported.name, /^lockbridge-logs-.*\.txt$/);
  const exportedLines = exported.text.trim().split('\n');
  assert.equal(exportedLines.length, mine.length);
  assert.ok(exportedLines.every((l) => l.includes(`account=${EMAIL}`)));
  await screenshot(page, 'logs-account');
  await page.getByLabel('Account', { exact: true }).selectOption('');
  const before = await lines.count();
  // a settings change logs a line: it arrives live
  await control(controlPort, token, 'updateSettings', { attachKey: true });
  await page.waitForFunction(
    (n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('li.log-line').length > n,
    before,
  );
  await page.getByLabel('Show from level').selectOption('error');
  const errorsOnly = await lines.allInnerTexts();
  assert.ok(
    errorsOnly.every((l) => / ERROR /.test(l)),
    'only error lines remain',
  );
  await page.getByLabel('Show from level').selectOption('info');
});

test('logs: Create bug report downloads a redacted bundle; the opt-in keeps addresses, never secrets', async () => {
  const box = page.getByRole('group', { name: 'Bug report' });
  await box.waitFor();
  const personal = page.getByLabel('Include personal data');
  assert.equal(await personal.isChecked(), false, 'redacted by default');
  const help = await page.locator(`#${await personal.getAttribute('aria-describedby')}`).innerText();
  assert.match(help, /placeholders/);
  const plain = await download(() => box.getByRole('button', { name: 'Create bug report' }).click());
  assert.match(plain.name, /^lockbridge-report-\d{8}-\d{6}\.json$/);
  const bundle = JSON.parse(plain.text) as {
    redacted: boolean;
    accounts: { email: string }[];
    logs: unknown[];
    store: { integrity: string[] };
  };
  assert.equal(bundle.redacted, true);
  assert.match(bundle.accounts[0]!.email, /^<addr-\d+>$/);
  assert.deepEqual(bundle.store.integrity, ['ok']);
  assert.ok(bundle.logs.length > 0);
  for (const m of [EMAIL, PROVIDER_PW, PASSPHRASE, token])
    assert.ok(!plain.text.includes(m), `no '${m}' in the bundle`);
  await box.getByText(/Saved lockbridge-report-.*Read it before you send it\./).waitFor();
  await assertAccessible(page, 'logs-report');
  await screenshot(page, 'logs-report');
  await personal.check();
  const withPersonal = await download(() => box.getByRole('button', { name: 'Create bug report' }).click());
  assert.ok(withPersonal.text.includes(EMAIL), 'the opt-in keeps addresses');
  for (const m of [PROVIDER_PW, PASSPHRASE, token])
    assert.ok(!withPersonal.text.includes(m), `no '${m}' even with the opt-in`);
  await box.getByText(/with your addresses, subjects and folder names/).waitFor();
  await screenshot(page, 'logs-report-personal');
  await personal.uncheck();
});

test('outbox: the reason in plain words, the next attempt, retry now, cancel with confirmation', async () => {
  // a message submitted through the bridge's SMTP while the provider's SMTP (Postfix) is down
  await provider.stopPostfix();
  try {
    await outboxActions();
  } finally {
    await provider.startPostfix();
  }
});

async function outboxActions(): Promise<void> {
  const creds = await control<{ password: string; caPem: string }>(controlPort, token, 'credentials');
  const st = await control<{ ports: { smtp: number } }>(controlPort, token, 'status');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: st.ports.smtp,
    secure: false,
    requireTLS: true,
    tls: { ca: [creds.caPem], servername: 'localhost' },
    auth: { user: EMAIL, pass: creds.password },
  });
  await transport.sendMail({ from: EMAIL, to: BOB, subject: 'waiting for the provider', text: 'hello' });
  transport.close();
  // the first attempt has failed (the event that gives the item its reason)
  for (let i = 0; ; i++) {
    const items = await control<{ attempts: number }[]>(controlPort, token, 'outbox');
    if (items[0] && items[0].attempts > 0) break;
    assert.ok(i < 600, 'the first attempt happened');
    await new Promise((r) => setTimeout(r, 100));
  }
  await go('Outbox');
  const card = page.locator('li[data-outbox]').filter({ hasText: 'waiting for the provider' });
  await card
    .getByTestId('outbox-reason')
    .getByText("The provider's mail server refused the connection")
    .waitFor();
  assert.match(await card.getByTestId('outbox-detail').innerText(), /The server said: .*ECONNREFUSED/);
  assert.match(
    await card.getByTestId('outbox-next').innerText(),
    /^Next attempt \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/,
  );
  await assertAccessible(page, 'outbox (waiting)');
  await screenshot(page, 'outbox-waiting');
  // retry now: a new attempt is made at once (attempts grows)
  const before = (await control<{ attempts: number }[]>(controlPort, token, 'outbox'))[0]!.attempts;
  await card.getByRole('button', { name: 'Retry now' }).click();
  for (let i = 0; ; i++) {
    const items = await control<{ attempts: number }[]>(controlPort, token, 'outbox');
    if (items[0]!.attempts > before) break;
    assert.ok(i < 600, 'retry now made an attempt');
    await new Promise((r) => setTimeout(r, 100));
  }
  // cancel: asks first; "Keep it" keeps it, confirming removes it
  await card.getByRole('button', { name: 'Cancel…' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Cancel sending?' });
  await dialog.waitFor();
  await assertAccessible(page, 'outbox cancel dialog');
  await screenshot(page, 'outbox-cancel-dialog');
  await dialog.getByRole('button', { name: 'Keep it' }).click();
  assert.equal((await control<unknown[]>(controlPort, token, 'outbox')).length, 1);
  await card.getByRole('button', { name: 'Cancel…' }).click();
  await dialog.getByRole('button', { name: 'Remove from the outbox' }).click();
  await page.getByText('The outbox is empty').waitFor();
  assert.deepEqual(await control<unknown[]>(controlPort, token, 'outbox'), []);
}

test('outbox: a message refused for want of a key offers "send without encryption" only while the policy allows it', async () => {
  const PLAIN = 'plain@example.test';
  await provider.addUser(PLAIN, 'pw-plain');
  const prev = await control<Settings>(controlPort, token, 'getSettings');
  try {
    await unencryptedFromOutbox(PLAIN);
  } finally {
    await control(controlPort, token, 'updateSettings', {
      encryptPolicy: prev.encryptPolicy,
      sign: prev.sign,
    });
    // the item (sent, or kept after a failure) leaves the list for the next test
    for (const o of await control<{ id: string }[]>(controlPort, token, 'outbox'))
      await control(controlPort, token, 'cancelOutbox', o.id);
  }
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByText('The outbox is empty').waitFor();
});

async function unencryptedFromOutbox(PLAIN: string): Promise<void> {
  // signing on: what goes without encryption is still signed
  await control(controlPort, token, 'updateSettings', { encryptPolicy: 'always', sign: true });
  const creds = await control<{ password: string; caPem: string }>(controlPort, token, 'credentials');
  const st = await control<{ ports: { smtp: number } }>(controlPort, token, 'status');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: st.ports.smtp,
    secure: false,
    requireTLS: true,
    tls: { ca: [creds.caPem], servername: 'localhost' },
    auth: { user: EMAIL, pass: creds.password },
  });
  await assert.rejects(
    transport.sendMail({
      from: EMAIL,
      to: PLAIN,
      subject: 'no key for this one',
      text: 'readable on the way\n',
      messageId: '<unencrypted-e2e@example.test>',
    }),
    (err: Error & { responseCode?: number }) => err.responseCode === 550,
  );
  transport.close();
  type Item = { id: string; state: string; unencrypted: { allowed: boolean } | null };
  const [kept] = await control<Item[]>(controlPort, token, 'outbox');
  assert.deepEqual([kept?.state, kept?.unencrypted?.allowed], ['failed', false]);
  await go('Outbox');
  const card = page.locator('li[data-outbox]').filter({ hasText: 'no key for this one' });
  await card
    .getByTestId('outbox-reason')
    .getByText('Not sent: it could not be encrypted to every recipient, and your policy requires encryption.')
    .waitFor();
  assert.match(
    await card.getByTestId('outbox-unencrypted-why').innerText(),
    /^Your encryption policy requires encryption to plain@example\.test, so it cannot be sent without encryption\./,
  );
  assert.equal(await card.getByRole('button', { name: 'Send without encryption…' }).count(), 0);
  await assertAccessible(page, 'outbox (refused, policy requires encryption)');
  await screenshot(page, 'outbox-unencrypted-refused');
  // the engine refuses too, with a clear error
  await assert.rejects(
    control(controlPort, token, 'sendOutboxUnencrypted', kept!.id),
    (err: Error & { code?: string }) =>
      err.code === 'encryption-required' && /requires encryption to plain@example\.test/.test(err.message),
  );
  // the policy now allows it: the action is offered, asks first, then sends once
  await control(controlPort, token, 'updateSettings', { encryptPolicy: 'when-possible' });
  await page.getByRole('button', { name: 'Refresh' }).click();
  const sendPlain = card.getByRole('button', { name: 'Send without encryption…' });
  await sendPlain.waitFor();
  assert.equal(await card.getByTestId('outbox-unencrypted-why').count(), 0);
  await sendPlain.click();
  const dialog = page.getByRole('alertdialog', { name: 'Send without encryption?' });
  await dialog.waitFor();
  assert.equal((await focused(page)).name, 'Keep it in the outbox', 'focus starts on the safe choice');
  await assertAccessible(page, 'send without encryption dialog');
  await screenshot(page, 'outbox-unencrypted-dialog');
  await dialog.getByRole('button', { name: 'Keep it in the outbox' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(
    (await control<Item[]>(controlPort, token, 'outbox')).map((o) => o.id),
    [kept!.id],
    'kept, nothing sent',
  );
  await sendPlain.click();
  await dialog.getByRole('button', { name: 'Send without encryption' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByText('"no key for this one" is being sent without encryption.').waitFor();
  for (let i = 0; ; i++) {
    const items = await control<Item[]>(controlPort, token, 'outbox');
    if (items.length === 1 && items[0]!.state === 'sent') break;
    assert.ok(i < 600, `sent: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page
    .locator('li[data-outbox]')
    .filter({ hasText: 'no key for this one' })
    .getByText('sent')
    .first()
    .waitFor();
  await assertAccessible(page, 'outbox (sent without encryption)');
  await screenshot(page, 'outbox-unencrypted-sent');
  // at the provider: exactly one copy, signed, not encrypted
  const c = await provider.imapClient(PLAIN);
  const got: string[] = [];
  try {
    for (let i = 0; got.length === 0; i++) {
      assert.ok(i < 300, 'delivered at the provider');
      const lock = await c.getMailboxLock('INBOX');
      try {
        const status = await c.status('INBOX', { messages: true });
        if (status && status.messages)
          for await (const m of c.fetch('1:*', { source: true })) got.push(String(m.source));
      } finally {
        lock.release();
      }
      if (!got.length) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await c.logout().catch(() => {});
  }
  assert.equal(got.length, 1, 'exactly one copy');
  assert.doesNotMatch(got[0]!, /BEGIN PGP MESSAGE/);
  assert.match(got[0]!, /Content-Type: multipart\/signed;/);
  assert.match(got[0]!, /readable on the way/);
}

test('outbox page and the remove-account dialog (focus trap, Escape, focus returns)', async () => {
  await go('Outbox');
  await page.getByText('The outbox is empty').waitFor();
  await assertAccessible(page, 'outbox');
  await screenshot(page, 'outbox');

  await go('Accounts');
  const remove = page.getByRole('button', { name: 'Remove…' });
  await remove.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('alertdialog', { name: 'Remove account?' });
  await dialog.waitFor();
  assert.equal((await focused(page)).name, 'Keep account', 'focus starts on the safe choice');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Sign out, keep local mail');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Remove and delete local mail');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Keep account', 'Tab wraps inside the dialog');
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).name, 'Remove and delete local mail', 'Shift+Tab wraps too');
  await assertAccessible(page, 'remove-account dialog');
  await screenshot(page, 'remove-account-dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await focused(page)).name, 'Remove…', 'focus back on the button that opened it');
  assert.equal((await control<unknown[]>(controlPort, token, 'listAccounts')).length, 1, 'nothing removed');
});

test('sign out keeping the local mail from the remove dialog, then sign in again on the card', async () => {
  await go('Accounts');
  const card = page.locator(`article[data-account="${EMAIL}"]`);
  await card.getByRole('button', { name: 'Remove…' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Remove account?' });
  await dialog.getByRole('button', { name: 'Sign out, keep local mail' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const note = card.getByTestId('signed-out');
  await note.waitFor();
  assert.match(await note.innerText(), /^Signed out: the mail of this account stays on this computer/);
  const status = () => control<BridgeStatus>(controlPort, token, 'status');
  assert.equal((await status()).accounts[0]!.connection, 'signed-out');
  const infos = await control<Array<{ signedOut?: boolean }>>(controlPort, token, 'listAccounts');
  assert.equal(infos[0]!.signedOut, true);
  assert.equal(await card.getByRole('button', { name: 'Repair…' }).count(), 0, 'no repair while signed out');
  await assertAccessible(page, 'signed-out account');
  await screenshot(page, 'signed-out-account');
  // a signed-out account's remove dialog offers only the removal
  await card.getByRole('button', { name: 'Remove…' }).click();
  assert.equal(await dialog.getByRole('button', { name: 'Sign out, keep local mail' }).count(), 0);
  await dialog.getByRole('button', { name: 'Keep account' }).click();
  await dialog.waitFor({ state: 'hidden' });

  await note.getByRole('button', { name: 'Sign in again' }).click();
  await note.getByLabel(`New provider password for ${EMAIL}`).fill(PROVIDER_PW);
  await note.getByRole('button', { name: 'Sign in', exact: true }).click();
  await note.waitFor({ state: 'hidden', timeout: 60_000 });
  await card.getByText('Online').waitFor({ timeout: 60_000 });
  assert.equal((await status()).accounts[0]!.connection, 'online');
  const back = await control<Array<{ signedOut?: boolean }>>(controlPort, token, 'listAccounts');
  assert.equal(back[0]!.signedOut, false);
});

test('repair an account: asks first, then says what was checked against the provider and what was repaired', async () => {
  await go('Accounts');
  const card = page.locator(`article[data-account="${EMAIL}"]`);
  await card.getByRole('button', { name: 'Repair…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Repair this account?' });
  await dialog.waitFor();
  assert.equal((await focused(page)).name, 'Not now', 'focus starts on the safe choice');
  await assertAccessible(page, 'repair dialog');
  await screenshot(page, 'repair-dialog');
  await dialog.getByRole('button', { name: 'Not now' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await card.getByRole('button', { name: 'Repair…' }).click();
  await dialog.getByRole('button', { name: 'Repair now' }).click();
  const result = card.getByTestId('repair-result');
  await result.getByText(/^Repair finished: /).waitFor({ timeout: 120_000 });
  const total = INBOX_COUNT + ARCHIVE_COUNT;
  assert.match(
    await result.innerText(),
    new RegExp(
      `^Repair finished: (\\d+) messages in \\d+ folders checked against the provider; nothing needed repair\\.$`,
    ),
  );
  const checked = Number(/(\d+) messages/.exec(await result.innerText())![1]);
  assert.ok(checked >= total, `every synced message checked (${checked} of at least ${total})`);
  await assertAccessible(page, 'repair result');
  await screenshot(page, 'repair-result');
  // the same operation through the control API: an unknown account is one clear line
  await assert.rejects(
    control(controlPort, token, 'repairAccount', 'nobody@example.test'),
    /account nobody@example\.test/,
  );
});

test('export an account: a path typed, a refusal said in one line, then progress and a result line', async () => {
  await go('Accounts');
  const card = page.locator(`article[data-account="${EMAIL}"]`);
  await card.getByRole('button', { name: 'Export…' }).click();
  const field = card.getByLabel(`Export the decrypted mail of ${EMAIL} to`);
  // a folder that is not empty is refused, and nothing in it is touched
  const taken = join(scratch, 'taken');
  mkdirSync(taken);
  writeFileSync(join(taken, 'keep.txt'), 'mine');
  await field.fill(taken);
  await card.getByRole('button', { name: 'Export', exact: true }).click();
  await card.getByText(/already exists and is not empty: nothing was written/).waitFor();
  assert.deepEqual(readdirSync(taken), ['keep.txt']);
  await assertAccessible(page, 'export refused');
  await screenshot(page, 'export-refused');
  const target = join(scratch, 'exported');
  await field.fill(target);
  await assertAccessible(page, 'export form');
  await screenshot(page, 'export-form');
  await card.getByRole('button', { name: 'Export', exact: true }).click();
  const result = card.getByTestId('export-result');
  await result.waitFor({ timeout: 120_000 });
  const m =
    /^Exported (\d+) messages from (\d+) folders \(.+\) to (.+) \(\.eml files, a folder per mail folder\)\.$/.exec(
      await result.innerText(),
    );
  assert.ok(m, await result.innerText());
  assert.equal(m[3], target);
  const inbox = readdirSync(join(target, 'INBOX'));
  const archive = readdirSync(join(target, 'Archive'));
  assert.ok(
    inbox.length >= INBOX_COUNT && archive.length === ARCHIVE_COUNT,
    `${inbox.length} ${archive.length}`,
  );
  assert.ok(inbox.every((n) => /^\d+\.eml$/.test(n)));
  assert.ok(Number(m[1]) >= INBOX_COUNT + ARCHIVE_COUNT);
  await assertAccessible(page, 'export result');
  await screenshot(page, 'export-result');
  // one folder alone, chosen in the form
  await card.getByRole('button', { name: 'Export…' }).click();
  const one = join(scratch, 'exported-archive');
  await field.fill(one);
  await card.getByLabel('Folders').selectOption('Archive');
  await assertAccessible(page, 'export one folder');
  await screenshot(page, 'export-one-folder');
  await card.getByRole('button', { name: 'Export', exact: true }).click();
  await result
    .getByText(
      new RegExp(
        `^Exported ${ARCHIVE_COUNT} messages from 1 folders .* to ${one.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `,
      ),
    )
    .waitFor({
      timeout: 120_000,
    });
  assert.deepEqual(readdirSync(one), ['Archive']);
  assert.equal(readdirSync(join(one, 'Archive')).length, ARCHIVE_COUNT);
  // the same operation through the control API: a relative path and an unknown account are refused
  await assert.rejects(
    control(controlPort, token, 'exportMessages', EMAIL, null, 'relative/dir'),
    /must be an absolute path/,
  );
  await assert.rejects(
    control(controlPort, token, 'exportMessages', 'nobody@example.test', null, join(scratch, 'none')),
    /account nobody@example\.test not found/,
  );
});

test('a big folder: the repair bar goes folder by folder while it runs; Stop export stops a running export, leaving whole files', async () => {
  // A folder big enough that the repair (which reads every body) and the export (a file per
  // message) run long enough to be watched and stopped — no test hook holds them (there is no such
  // seam). Measured: Stop landed after 136 of 5,022 messages.
  await provider.bulkLoad(
    EMAIL,
    'Bulk',
    Array.from({ length: BULK_COUNT }, (_, i) => bulkMessage(i)),
  );
  await go('Accounts');
  const card = page.locator(`article[data-account="${EMAIL}"]`);
  // every state the repair status shows, recorded as it changes (the assertions below read it)
  await page.evaluate(() => {
    const seen: Array<number | string> = [];
    const g = globalThis as unknown as PageGlobals;
    g.__seen = seen;
    new g.MutationObserver(() => {
      const el = g.document.querySelector('[data-testid="repair-result"]');
      const text = (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(g.document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await card.getByRole('button', { name: 'Repair…' }).click();
  await page
    .getByRole('dialog', { name: 'Repair this account?' })
    .getByRole('button', { name: 'Repair now' })
    .click();
  const result = card.getByTestId('repair-result');
  // checking the big folder (every body read, its UIDs against the provider's) shows while it runs
  await result.getByText('checking Bulk against the provider…').waitFor({ timeout: 120_000 });
  await screenshot(page, 'repair-running');
  await assertAccessible(page, 'repair running');
  await result.getByText(/^Repair finished: /).waitFor({ timeout: 300_000 });
  const seen = (await page.evaluate(() => (globalThis as unknown as PageGlobals).__seen ?? [])) as string[];
  const running = seen
    .map((t) => /checking (\S+) against the provider….*?(\d+) of (\d+) folders/.exec(t))
    .filter((m): m is RegExpExecArray => m !== null);
  assert.ok(
    running.some((m) => m[1] === 'Bulk'),
    `the bar named the folder being checked: ${seen.join(' → ')}`,
  );
  const done = running.map((m) => Number(m[2]));
  assert.deepEqual(
    [...done].sort((x, y) => x - y),
    done,
    `folders done never go back: ${seen.join(' → ')}`,
  );
  assert.ok(
    running.every((m) => Number(m[3]) === Number(running[0]![3]) && Number(m[2]) < Number(m[3])),
    `k of n folders, n fixed: ${seen.join(' → ')}`,
  );
  await assertAccessible(page, 'repair result (big folder)');

  // export every folder, then stop it while it runs
  await card.getByRole('button', { name: 'Export…' }).click();
  const target = join(scratch, 'exported-stopped');
  await card.getByLabel(`Export the decrypted mail of ${EMAIL} to`).fill(target);
  await card.getByLabel('Folders').selectOption('');
  await screenshot(page, 'export-big-form');
  await card.getByRole('button', { name: 'Export', exact: true }).click();
  const bar = card.getByRole('progressbar', { name: `Export of ${EMAIL}` });
  // running: the bar counts written messages (its first report comes after 200 ms of writing)
  await card.getByText(/^[1-9]\d* messages · \d+ %$/).waitFor({ timeout: 120_000 });
  await bar.waitFor();
  await card.getByRole('button', { name: 'Stop export' }).click();
  await screenshot(page, 'export-stopping');
  const stopped = await card
    .getByRole('alert')
    .filter({ hasText: 'export stopped' })
    .innerText({ timeout: 120_000 });
  const m = /export stopped: (\d+) of (\d+) message\(s\) written; what was written is left in (.+)$/.exec(
    stopped.trim(),
  );
  assert.ok(m, stopped);
  const [written, total] = [Number(m[1]), Number(m[2])];
  assert.ok(total >= BULK_COUNT, `the big folder is exported too: ${total} messages in all`);
  assert.ok(written > 0 && written < total, `stopped part way: ${written} of ${total}`);
  assert.equal(m[3], target);
  await card.getByRole('button', { name: 'Export', exact: true }).waitFor();
  await assertAccessible(page, 'export stopped');
  await screenshot(page, 'export-stopped');
  // what was written: exactly the count said, every file a whole message
  let files = 0;
  for (const folder of readdirSync(target)) {
    for (const name of readdirSync(join(target, folder))) {
      assert.match(name, /^\d+\.eml$/);
      files++;
      const text = readFileSync(join(target, folder, name), 'latin1');
      assert.ok(text.endsWith('\r\n'), `${folder}/${name} ends a line`);
      const id = /^Message-ID: <(inbox|archive|bulk)-(\d+)@outside\.test>\r$/m.exec(text);
      if (id) assert.ok(text.endsWith(`\r\n\r\nbody ${id[2]}\r\n`), `${folder}/${name} is whole`);
    }
  }
  assert.equal(files, written, 'as many files as the stop message says');
  // nothing runs any more: a second stop finds no export
  assert.equal(await control<boolean>(controlPort, token, 'cancelExport', EMAIL), false);
});

test('after a restart without a passphrase: the unlock page (wrong, then right passphrase); settings persisted', async () => {
  assert.ok(serve);
  ui.assertClean(); // (the restart below makes the page's polling fail for a moment)
  assert.equal(await serve.stop('SIGTERM'), 0);
  ({ serve, token, controlPort } = await serveUi(page, home.dir, serveArgs, serveEnv, 'locked'));
  await page.getByRole('heading', { level: 1, name: 'Unlock Lockbridge' }).waitFor();
  assert.equal(await page.getByRole('navigation').count(), 0, 'no navigation while locked');
  await assertAccessible(page, 'unlock');
  await screenshot(page, 'unlock');
  await page.getByLabel('Passphrase').fill('wrong passphrase');
  await page.getByRole('button', { name: 'Unlock' }).click();
  const err = await page.getByRole('alert').innerText({ timeout: 30_000 });
  assert.match(err, /passphrase/i);
  await page.getByLabel('Passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor({ timeout: 30_000 });
  assert.equal((await serve.next()).event, 'ready');
  await go('Settings');
  await assert.doesNotReject(
    page.waitForFunction(
      () => (globalThis as unknown as PageGlobals).document.querySelector('select')?.value === 'always',
    ),
  );
  assert.equal(await page.getByLabel('Sign outgoing mail').isChecked(), false);
  assert.equal(await page.getByLabel('Key lookup timeout (milliseconds)').inputValue(), '7000');
});
