// The Certificates page (issue 19, S/MIME) end to end: the real `lockbridge serve --ui --offline`
// driven by Chromium through playwright-core. An empty page first; issue an EC certificate (listed
// with issuer and expiry, and by the control API); export it as PEM (openssl reads the same
// fingerprint) and with its private key as PKCS#12 (passphrases that differ are refused; openssl
// opens the file with the passphrase); import an openssl-made PKCS#12 (asked for its passphrase,
// a wrong one refused, then imported as yours) and a CA certificate as trusted; stop trusting it
// and trust it again (the control API agrees each time); own certificates ending within 30 days or
// expired carry an 'Expires soon' / 'Expired' badge. axe-core on the page and the dialog;
// no page errors or CSP violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { CertificateList, Settings } from '../../app/control/contract.ts';
import { cli, tempHome } from '../helpers/cli.ts';
import { OpensslCa, type OsslUser } from '../helpers/crypto/openssl.ts';
import { run } from '../helpers/crypto/gpg.ts';
import { fileSafe } from '../../renderer/src/format.ts';
import {
  assertAccessible,
  control,
  download as save,
  openUi,
  screenshot,
  serveUi,
  type ServeLines,
  type UiBrowser,
} from './ui-harness.ts';

const ANN = 'ann@example.test';
const CAROL = 'carol@example.test';
const CAROL_PASS = 'carol p12 pass';
const SOON = 'soon@example.test';
const OLD = 'old@example.test';
const EXPORT_PASS = 'export from the page 1';
const env = { LOCKBRIDGE_PASSPHRASE: 'ui certs passphrase', LOCKBRIDGE_LOG_LEVEL: 'info' };

const home = tempHome('lb-ui-certs-');
const scratch = mkdtempSync(join(tmpdir(), 'lb-ui-certs-files-'));
let ca: OpensslCa;
let carol: OsslUser;
let serve: ServeLines | null = null;
let ui: UiBrowser;
let page: Page;
let controlPort = 0;
let token = '';

before(async () => {
  ca = new OpensslCa();
  carol = ca.user(CAROL, 'rsa');
  writeFileSync(join(scratch, 'carol.p12'), ca.pkcs12(carol, CAROL_PASS));
  writeFileSync(join(scratch, 'ca.pem'), ca.caPem);
  // own certificates near and past their end, for the expiry warnings
  const at = (days: number) =>
    new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  writeFileSync(join(scratch, 'soon.p12'), ca.pkcs12(ca.user(SOON, 'ec', { end: at(10.5) }), CAROL_PASS));
  writeFileSync(
    join(scratch, 'old.p12'),
    ca.pkcs12(ca.user(OLD, 'ec', { start: at(-400), end: at(-5) }), CAROL_PASS),
  );
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  ui = await openUi({ width: 900, height: 800 });
  page = ui.page;
  const served = await serveUi(
    page,
    home.dir,
    ['--ui', '--offline', '--imap-port', '0', '--smtp-port', '0', '--control-port', '0'],
    env,
    'ready',
  );
  ({ serve, token, controlPort } = served);
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
});

after(async () => {
  await serve?.stop('SIGKILL');
  await ui?.close();
  ca?.dispose();
  home.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const download = (click: () => Promise<void>) => save(page, scratch, click);

const certs = () => control<CertificateList>(controlPort, token, 'listCertificates');
const row = (name: string) =>
  page.locator('li.cert-row').filter({ has: page.getByRole('heading', { name, exact: true }) });

test('the Certificates page from the navigation: empty, accessible', async () => {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Certificates', exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
  await page.getByText('You have no S/MIME certificate yet.').waitFor();
  await page.getByText('No certificates of others yet.').waitFor();
  await assertAccessible(page, 'certificates (empty)');
});

test('issue an EC certificate: listed with issuer and expiry; export it as PEM and as PKCS#12', async () => {
  await page.getByLabel('Issue a certificate for').fill(ANN);
  await page.getByLabel('Key type').selectOption('ec');
  await page.getByRole('button', { name: 'Issue certificate' }).click();
  const ann = row(ANN);
  await ann.waitFor();
  // issued under Lockbridge's own intermediate CA, listed as issued (not imported)
  await ann
    .getByText(/^Issued by Lockbridge Intermediate CA [0-9A-F]{8} · expires .* · issued by Lockbridge$/)
    .waitFor();
  const own = (await certs()).own;
  assert.equal(own.length, 1);
  assert.deepEqual(own[0]!.emails, [ANN]);
  const fpr = own[0]!.fingerprint;
  assert.equal(await ann.locator('[data-fpr]').getAttribute('data-fpr'), fpr);

  const pem = await download(() => ann.getByRole('button', { name: /^Export certificate/ }).click());
  assert.equal(pem.name, `${fileSafe(ANN)}.pem`);
  const shown = run('openssl', ['x509', '-in', pem.path, '-noout', '-fingerprint', '-sha256', '-text']);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout.toString(), new RegExp(`Fingerprint=${fpr.replace(/(..)(?!$)/g, '$1:')}`));
  assert.match(shown.stdout.toString(), /E-mail Protection/);

  await ann.getByRole('button', { name: /^Export with private key/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Export certificate with private key' });
  await dialog.waitFor();
  await dialog.getByLabel('Passphrase for the file').fill(EXPORT_PASS);
  await dialog.getByLabel('Repeat the passphrase').fill('something else');
  await dialog.getByRole('button', { name: /^Download \.p12/ }).click();
  await dialog.getByText('The two passphrases are not the same.').waitFor();
  await dialog.getByText('Installing the file in other mail programs').click();
  for (const step of [
    /Thunderbird: .*Edit Trust/,
    /Apple Mail .*Always Trust/,
    /iOS Mail: .*Certificate\s+Trust Settings/,
    /Outlook .*trusted root/,
  ])
    await dialog.getByText(step).waitFor();
  await assertAccessible(page, 'export dialog');
  await screenshot(page, 'certificates-export-dialog');
  await dialog.getByLabel('Repeat the passphrase').fill(EXPORT_PASS);
  const p12 = await download(() => dialog.getByRole('button', { name: /^Download \.p12/ }).click());
  await dialog.waitFor({ state: 'hidden' });
  assert.match(p12.name, /\.p12$/);
  const opened = run('openssl', [
    'pkcs12',
    '-in',
    p12.path,
    '-nokeys',
    '-clcerts',
    '-passin',
    `pass:${EXPORT_PASS}`,
  ]);
  assert.equal(opened.status, 0, opened.stderr);
  assert.notEqual(run('openssl', ['pkcs12', '-in', p12.path, '-noout', '-passin', 'pass:wrong']).status, 0);
  // the file carries the chain: the intermediate and the root to trust
  const cas = run('openssl', [
    'pkcs12',
    '-in',
    p12.path,
    '-nokeys',
    '-cacerts',
    '-passin',
    `pass:${EXPORT_PASS}`,
  ]);
  assert.match(cas.stdout.toString(), /subject=CN ?= ?Lockbridge Intermediate CA/);
  assert.match(cas.stdout.toString(), /subject=CN ?= ?Lockbridge Root CA/);
});

test('import a PKCS#12: its passphrase asked for, a wrong one refused, then imported as yours', async () => {
  const file = page.getByLabel('Certificate file (.p12, .pfx, .pem, .crt, .cer)');
  await file.setInputFiles(join(scratch, 'carol.p12'));
  await page.getByRole('button', { name: 'Import certificate' }).click();
  await page.getByRole('alert').filter({ hasText: 'protected by a passphrase' }).waitFor();
  await page.getByLabel('Passphrase of a .p12/.pfx file').fill('not it');
  await page.getByRole('button', { name: 'Import certificate' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /wrong passphrase|could not be opened/i })
    .waitFor();
  assert.equal((await certs()).own.length, 1);
  await page.getByLabel('Passphrase of a .p12/.pfx file').fill(CAROL_PASS);
  await page.getByRole('button', { name: 'Import certificate' }).click();
  await row(CAROL).waitFor();
  await row(CAROL).getByText('Issued by Lockbridge Test CA').waitFor();
  assert.deepEqual((await certs()).own.map((c) => c.emails[0]).sort(), [ANN, CAROL]);
  // the CA came along in the file: listed, not trusted
  const caRow = row('Lockbridge Test CA');
  await caRow.getByText('Not trusted').waitFor();
  await caRow.getByText('came with your certificate').waitFor();
});

test('a CA certificate imported as trusted; stop trusting it and trust it again', async () => {
  await page
    .getByLabel('Certificate file (.p12, .pfx, .pem, .crt, .cer)')
    .setInputFiles(join(scratch, 'ca.pem'));
  await page.getByLabel('Trust it as a certificate authority (CA) for signatures').check();
  await page.getByRole('button', { name: 'Import certificate' }).click();
  const caRow = row('Lockbridge Test CA');
  await caRow.getByText('Trusted', { exact: true }).waitFor();
  await caRow.getByText('CA', { exact: true }).waitFor();
  const trustedOf = async () =>
    (await certs()).certificates.find((c) => c.subject === 'Lockbridge Test CA')?.trusted;
  assert.equal(await trustedOf(), true);

  await caRow.getByRole('button', { name: /^Stop trusting/ }).click();
  await caRow.getByText('Not trusted').waitFor();
  assert.equal(await trustedOf(), false);
  await caRow.getByRole('button', { name: /^Trust/ }).click();
  await caRow.getByText('Trusted', { exact: true }).waitFor();
  assert.equal(await trustedOf(), true);

  await assertAccessible(page, 'certificates (filled)');
  await screenshot(page, 'certificates');
  const html = await page.content();
  assert.ok(!html.includes(EXPORT_PASS) && !html.includes(CAROL_PASS), 'no passphrase left in the page');
  assert.ok(
    !serve!.stderr().includes(EXPORT_PASS) && !serve!.stderr().includes(CAROL_PASS),
    'none in the log',
  );
  ui.assertClean();
});

test('Settings: the standard for recipients with both a key and a certificate is chosen and saved', async () => {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Settings', exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  const select = page.getByLabel('Standard when both are possible');
  assert.equal(await select.inputValue(), 'openpgp');
  await select.selectOption('smime');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page
    .getByRole('status')
    .getByText(/Settings saved/)
    .waitFor();
  const s = await control<Settings>(controlPort, token, 'getSettings');
  assert.equal(s.preferredStandard, 'smime');
  await assertAccessible(page, 'settings');
  ui.assertClean();
});

test('own certificates: one ending within 30 days is marked Expires soon, an expired one Expired, others neither', async () => {
  for (const f of ['soon.p12', 'old.p12'])
    await control<CertificateList>(
      controlPort,
      token,
      'importCertificates',
      readFileSync(join(scratch, f)).toString('base64'),
      { passphrase: CAROL_PASS },
    );
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Certificates', exact: true })
    .click();
  await row(SOON).getByText('Expires soon', { exact: true }).waitFor();
  await row(OLD).getByText('Expired', { exact: true }).waitFor();
  for (const [name, badges] of [
    [SOON, ['Expires soon']],
    [OLD, ['Expired']],
    [ANN, []],
    [CAROL, []],
  ] as const)
    assert.deepEqual(await row(name).locator('.badge').allTextContents(), badges, name);
  await assertAccessible(page, 'certificates (expiry warnings)');
  ui.assertClean();
});
