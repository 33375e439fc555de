// `lockbridge report --out FILE` (issue 17 item 7): a bug-report bundle (one JSON file) with the
// version, platform, settings, account states, recent logs (with account and error fields) and
// store health — with every marker address, subject, folder name and secret replaced by stable
// placeholders, also inside free-text log messages; with --include-personal addresses and subjects
// stay but secrets never appear. Real store, real Dovecot (account add verifies the login), with
// and without a running bridge, with and without the passphrase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { cli, initWithAccount, cliAsync, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';

const ADDR = 'zq.owner-rpt@example.test';
const OTHER = 'Zq.Sender@elsewhere.example';
const SUBJECT = 'Zqx private subject about the divorce';
const FOLDER = 'ZqxLawyerLetters';
const PW = 'ProviderPw-zq7731';
const PASS = 'Passphrase-zq8842';
const LOCAL = 'LocalPw-zq9953';
const IP = '203.0.113.77';
const env = {
  LOCKBRIDGE_PASSPHRASE: PASS,
  LOCKBRIDGE_LOCAL_PASSWORD: LOCAL,
  LOCKBRIDGE_PROVIDER_PASSWORD: PW,
};
const SECRETS = [PW, PASS, LOCAL];
const PERSONAL = [ADDR, OTHER, SUBJECT, FOLDER, IP];

const home = tempHome('lb-report-');
let provider: Provider;
let bridge: ServeHandle | null = null;

/** A log line that leaks every marker into free text and fields, as a careless module might. */
function leakyLine(extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({
    level: 50,
    time: Date.now(),
    pid: 1,
    module: 'sync',
    account: ADDR,
    msg: `could not fetch "${SUBJECT}" from ${OTHER} in ${FOLDER} at ${IP} (login ${ADDR} password=${PW}; passphrase ${PASS}; local ${LOCAL})`,
    err: { message: `NO [AUTHENTICATIONFAILED] ${ADDR.toUpperCase()} (password: ${PW})` },
    mailbox: FOLDER,
    subject: SUBJECT,
    ...extra,
  })}\n`;
}

function grepNone(raw: string, markers: string[], what: string): void {
  const lower = raw.toLowerCase();
  for (const m of markers) {
    assert.ok(!lower.includes(m.toLowerCase()), `${what}: '${m}' must not be in the bundle`);
    // JSON-escaped forms too (a '+' or '"' could be escaped differently)
    const esc = JSON.stringify(m).slice(1, -1).toLowerCase();
    assert.ok(!lower.includes(esc), `${what}: escaped '${m}' must not be in the bundle`);
  }
}

interface Bundle {
  format: string;
  version: string;
  createdAt: string;
  redacted: boolean;
  platform: { os: string; arch: string; release: string; node: string; electron: string | null };
  bridge: { running: boolean };
  missing: string[];
  settings: Record<string, unknown> | null;
  accounts:
    | {
        email: string;
        connection: string;
        lastError: string | null;
        outbox: { queued: number; failed: number };
        pending: { changes: number; uploads: number };
      }[]
    | null;
  logs: {
    time: string;
    level: string;
    msg: string;
    module?: string;
    account?: string;
    fields?: Record<string, string>;
  }[];
  store: {
    integrity: string[];
    messages: number;
    folders: { account: string; name: string; messages: number }[];
    pendingChanges: number;
  } | null;
}

let reports = 0;
function report(args: string[], e: Record<string, string | undefined>) {
  const out = join(home.dir, '..', `report-${process.pid}-${++reports}.json`);
  const r = cli(['--home', home.dir, 'report', '--out', out, ...args], e);
  assert.equal(r.status, 0, r.stderr);
  const raw = readFileSync(out, 'utf8');
  return { r, raw, bundle: JSON.parse(raw) as Bundle };
}

before(async () => {
  provider = await startProvider();
  await provider.addUser(ADDR, PW);
  initWithAccount(home.dir, ADDR, provider, env);
  const eml = join(home.dir, '..', `report-${process.pid}.eml`);
  writeFileSync(
    eml,
    `From: ${OTHER}\r\nTo: ${ADDR}\r\nSubject: ${SUBJECT}\r\nMessage-ID: <rpt1@elsewhere.example>\r\n\r\nhello\r\n`,
  );
  const imp = cli(['--home', home.dir, 'import', '--account', ADDR, '--mailbox', FOLDER, eml], env);
  assert.equal(imp.status, 0, imp.stderr);
  appendFileSync(join(home.dir, 'logs', 'lockbridge.log'), leakyLine());
});
after(async () => {
  await bridge?.stop('SIGKILL');
  await provider.close();
  home.cleanup();
});

test('no bridge, passphrase given: every part, and no marker address, subject, folder or secret', () => {
  const { r, raw, bundle } = report([], env);
  assert.match(r.stdout, /Bug report written to .*report-.*\.json/);
  assert.equal(bundle.format, 'lockbridge-report/1');
  assert.equal(bundle.redacted, true);
  assert.match(bundle.version, /^\d+\.\d+\.\d+/);
  assert.equal(bundle.platform.os, process.platform);
  assert.equal(bundle.platform.arch, process.arch);
  assert.equal(bundle.platform.node, process.versions.node);
  assert.equal(bundle.bridge.running, false);
  assert.deepEqual(bundle.missing, []);
  assert.ok(bundle.settings && 'encryptPolicy' in bundle.settings, 'settings');
  assert.ok(bundle.accounts && bundle.accounts.length === 1, 'one account');
  const acct = bundle.accounts[0]!;
  assert.match(acct.email, /^<addr-\d+>$/);
  assert.equal(typeof acct.connection, 'string');
  assert.equal(acct.outbox.queued, 0);
  assert.equal(typeof acct.pending.changes, 'number');
  assert.ok(bundle.store, 'store health');
  assert.deepEqual(bundle.store.integrity, ['ok']);
  assert.ok(bundle.store.messages >= 1);
  const mine = bundle.store.folders.filter((f) => f.account === acct.email);
  for (const f of mine)
    assert.match(f.name, /^(?:INBOX|Sent|Drafts|Trash|Junk|Archive|<folder-\d+>)$/, 'standard names stay');
  const personal = mine.find((f) => /^<folder-\d+>$/.test(f.name));
  assert.ok(personal && personal.messages === 1, 'the personal folder, by placeholder, with its count');
  // the leaky line: placeholders, the same address always the same one, error fields kept
  const leak = bundle.logs.find((l) => l.module === 'sync' && l.level === 'error');
  assert.ok(leak, `the leaky log line is in the bundle: ${JSON.stringify(bundle.logs.slice(-3))}`);
  assert.equal(leak.account, acct.email, 'the same address, the same placeholder');
  assert.ok(leak.fields?.err?.includes('AUTHENTICATIONFAILED'), 'the error field is kept');
  assert.ok(leak.fields?.err?.includes(acct.email), 'the address inside the error text (other case)');
  assert.match(leak.msg, /<subject-\d+>/);
  assert.match(leak.msg, /<folder-\d+>/);
  assert.match(leak.msg, /<ip-\d+>/);
  assert.equal(leak.fields?.mailbox, personal.name, 'the folder field, the same placeholder');
  assert.ok(
    bundle.logs.some((l) => l.msg === 'account added' && l.account === acct.email),
    'real log lines, with their account',
  );
  grepNone(raw, [...SECRETS, ...PERSONAL, 'zq.owner', 'elsewhere.example'], 'redacted bundle');
});

test('--include-personal: addresses, subjects and folders are kept, secrets are not', () => {
  const { raw, bundle } = report(['--include-personal'], env);
  assert.equal(bundle.redacted, false);
  assert.equal(bundle.accounts?.[0]?.email, ADDR);
  assert.ok(raw.includes(SUBJECT), 'subject kept');
  assert.ok(raw.includes(FOLDER), 'folder kept');
  assert.ok(raw.includes(JSON.stringify(OTHER).slice(1, -1)), 'other address kept');
  grepNone(raw, SECRETS, 'personal bundle');
});

test('no bridge, no passphrase: logs and platform only, and it says so', () => {
  const { r, raw, bundle } = report([], { LOCKBRIDGE_PASSPHRASE: undefined });
  assert.match(r.stdout + r.stderr, /without the passphrase/i);
  assert.equal(bundle.accounts, null);
  assert.equal(bundle.store, null);
  assert.equal(bundle.settings, null);
  assert.ok(
    bundle.missing.some((m) => /passphrase/.test(m)),
    JSON.stringify(bundle.missing),
  );
  assert.ok(bundle.logs.some((l) => l.module === 'sync' && l.level === 'error'));
  // without the store the folder, the subject and the stored secrets are unknown: a secret after a
  // key word (password: X) still goes, and addresses and IPs by their pattern
  grepNone(raw, [PW, ADDR, OTHER, IP], 'locked bundle');
});

test('with a running bridge: through the control API, the control token never in the bundle', async () => {
  bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  const token = readFileSync(join(home.dir, 'control.token'), 'utf8').trim();
  appendFileSync(
    join(home.dir, 'logs', 'lockbridge.log'),
    leakyLine({ msg: `ui at http://127.0.0.1:1/#token=${token} and raw ${token}` }),
  );
  const out = join(home.dir, '..', `report-running-${process.pid}.json`);
  const r = await cliAsync(['--home', home.dir, 'report', '--out', out], {
    LOCKBRIDGE_PASSPHRASE: undefined,
  });
  assert.equal(r.status, 0, r.stderr);
  const raw = readFileSync(out, 'utf8');
  const bundle = JSON.parse(raw) as Bundle;
  assert.equal(bundle.bridge.running, true);
  assert.deepEqual(bundle.missing, []);
  assert.equal(bundle.accounts?.length, 1);
  assert.deepEqual(bundle.store?.integrity, ['ok']);
  assert.ok(
    bundle.logs.some((l) => l.msg.includes('<secret>')),
    'the token line is there, redacted',
  );
  grepNone(raw, [...SECRETS, ...PERSONAL, token], 'bundle from the running bridge');
  const personal = await cliAsync(['--home', home.dir, 'report', '--out', out, '--include-personal'], {});
  assert.equal(personal.status, 0, personal.stderr);
  const praw = readFileSync(out, 'utf8');
  assert.ok(praw.includes(SUBJECT));
  grepNone(praw, [...SECRETS, token], 'personal bundle from the running bridge');
});
