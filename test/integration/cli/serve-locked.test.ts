// `lockbridge serve --ui` with no store, or no passphrase at hand, starts locked: only the control
// listener is up, it prints a `locked` line, and the store is created or unlocked through the
// control API (what the UI calls). Checked through the real CLI process and the HTTP control API:
// every other method answers `locked`; a weak passphrase, a wrong passphrase and a second
// `initialize` are refused with nothing changed; after `initialize`/`unlock` the ready line comes
// and a real IMAP client logs in; the passphrase can be changed and the new one unlocks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ImapFlow } from 'imapflow';
import { callControl, findRunningBridge } from '../../../app/control/http/client.ts';
import { pathsFor } from '../../../app/config/paths.ts';
import { cli, serveProcess, tempHome, type ServeProcess } from '../../helpers/cli.ts';

const home = tempHome('lb-locked-');
const uiDir = mkdtempSync(join(tmpdir(), 'lb-ui-'));
writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Lockbridge</title><p>ui</p>');
const env = {
  LOCKBRIDGE_PASSPHRASE: undefined,
  LOCKBRIDGE_LOCAL_PASSWORD: 'locked-flow-local-pw',
  LOCKBRIDGE_UI_DIR: uiDir,
};
const args = ['--ui', '--imap-port', '0', '--smtp-port', '0', '--offline'];
const PASS = 'first run passphrase';
const NEW_PASS = 'a changed passphrase';
let running: ServeProcess | null = null;
const started: ServeProcess[] = [];

function start(extra: Record<string, string | undefined> = {}): ServeProcess {
  running = serveProcess(home.dir, args, { ...env, ...extra });
  started.push(running);
  return running;
}

/** stderr arrives on its own pipe: wait for it a little. */
async function stderrMatches(p: ServeProcess, re: RegExp): Promise<void> {
  for (let i = 0; i < 50 && !re.test(p.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(p.stderr(), re);
}

after(async () => {
  for (const p of started) await p.stop('SIGKILL');
  home.cleanup();
  rmSync(uiDir, { recursive: true, force: true });
});

function endpoint() {
  const ep = findRunningBridge(pathsFor(home.dir));
  assert.ok(ep, 'control.json/control.token written while locked');
  return ep;
}

async function refused(p: Promise<unknown>, code: RegExp): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; message: string };
    assert.match(e.code ?? e.message, code, e.message);
    return e.message;
  }
  assert.fail(`expected a refusal matching ${code}`);
}

async function imapLogin(port: number, caPem: string): Promise<number> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user: 'nobody@example.test', pass: 'locked-flow-local-pw' },
    tls: { ca: [caPem], servername: 'localhost' },
    logger: false,
  });
  // no account yet: the login itself must be refused cleanly, proving the server is up and answers
  try {
    await client.connect();
    await client.logout();
    return 1;
  } catch (err) {
    return (err as { authenticationFailed?: boolean }).authenticationFailed ? 0 : 2;
  }
}

test('first run: serve --ui on an empty home starts locked; initialize creates and starts the bridge', async () => {
  const proc = start();
  const locked = await proc.nextLine();
  assert.equal(locked.event, 'locked');
  assert.match(String(locked.ui), /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,}$/);
  await stderrMatches(proc, /not set up yet/);
  const ep = endpoint();

  const st = await callControl(ep, 'status');
  assert.equal(st.initialized, false);
  assert.equal(st.locked, true);
  assert.deepEqual(st.unlockMethods, { keychain: false, passphrase: true });
  assert.equal(st.ports.imap, null);
  assert.equal(st.ports.control, ep.port);

  await refused(callControl(ep, 'listAccounts'), /locked/);
  await refused(callControl(ep, 'credentials'), /locked/);
  await refused(callControl(ep, 'unlock', PASS), /not-initialized/);
  const weak = await refused(callControl(ep, 'initialize', 'short'), /weak-passphrase/);
  assert.match(weak, /at least 8/);
  assert.ok(!readdirSync(home.dir).includes('store.db'), 'a refused initialize creates nothing');

  const creds = await callControl(ep, 'initialize', PASS);
  assert.equal(creds.password, 'locked-flow-local-pw');
  assert.match(creds.caPem, /BEGIN CERTIFICATE/);
  const ready = await running!.nextLine();
  assert.equal(ready.event, 'ready');
  assert.equal(ready.control, ep.port);
  assert.equal(ready.ui, locked.ui);
  assert.equal(await imapLogin(ready.imap as number, creds.caPem), 0, 'IMAP listener answers LOGIN');

  const after = await callControl(ep, 'status');
  assert.equal(after.initialized, true);
  assert.equal(after.locked, false);
  assert.equal(after.ports.imap, ready.imap);
  await refused(callControl(ep, 'initialize', PASS), /already-initialized/);

  await refused(callControl(ep, 'changePassphrase', 'not the passphrase', NEW_PASS), /wrong-passphrase/);
  await refused(callControl(ep, 'changePassphrase', PASS, 'short'), /weak-passphrase/);
  await callControl(ep, 'changePassphrase', PASS, NEW_PASS);

  assert.equal(await running!.stop('SIGTERM'), 0);
  running = null;
});

test('restart without a passphrase: locked; a wrong passphrase changes nothing; the right one unlocks', async () => {
  const keywrap = join(home.dir, 'keywrap.json');
  const before = readFileSync(keywrap);
  const dbMtime = statSync(join(home.dir, 'store.db')).mtimeMs;

  const proc = start();
  const locked = await proc.nextLine();
  assert.equal(locked.event, 'locked');
  await stderrMatches(proc, /is locked/);
  const ep = endpoint();
  const st = await callControl(ep, 'status');
  assert.equal(st.initialized, true);
  assert.equal(st.locked, true);

  // a second serve on the same directory exits 1 even while the first is locked
  const second = cli(['--home', home.dir, 'serve', ...args], env);
  assert.equal(second.status, 1);
  assert.match(second.stderr, /already using/);

  // CLI commands go to the running (locked) bridge and say so
  const list = cli(['--home', home.dir, 'account', 'list'], env);
  assert.equal(list.status, 1);
  assert.match(list.stderr, /locked/);

  await refused(callControl(ep, 'unlock', PASS), /wrong-passphrase/); // the old one no longer works
  assert.deepEqual(readFileSync(keywrap), before);
  assert.equal(statSync(join(home.dir, 'store.db')).mtimeMs, dbMtime);
  assert.equal((await callControl(ep, 'status')).locked, true);

  const unlocked = await callControl(ep, 'unlock', NEW_PASS);
  assert.equal(unlocked.locked, false);
  const ready = await running!.nextLine();
  assert.equal(ready.event, 'ready');
  assert.equal(typeof ready.imap, 'number');
  const creds = await callControl(ep, 'credentials');
  assert.equal(await imapLogin(ready.imap as number, creds.caPem), 0);
  // unlocking again is harmless
  assert.equal((await callControl(ep, 'unlock', 'anything at all')).locked, false);

  assert.equal(await running!.stop('SIGTERM'), 0);
  running = null;
});

test('with LOCKBRIDGE_PASSPHRASE, serve --ui unlocks at once and prints only the ready line', async () => {
  start({ LOCKBRIDGE_PASSPHRASE: NEW_PASS });
  const first = await running!.nextLine();
  assert.equal(first.event, 'ready');
  assert.match(String(first.ui), /#token=/);
  assert.equal(await running!.stop('SIGTERM'), 0);
  running = null;
  // without --ui a missing passphrase is still a one-line error, exit 1
  const res = cli(['--home', home.dir, 'serve', '--offline'], env);
  assert.equal(res.status, 1);
  assert.match(res.stderr, /passphrase/);
});
