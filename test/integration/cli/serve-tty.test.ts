// `serve` as a person sees it in a terminal (tmux): human log lines with local time, level and
// module, the JSON ready line unchanged on stdout, then a summary (listeners, accounts, UI, how
// to add an account); `--json` and pipes keep JSON lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { CLI, cli, initWithAccount, serve, tempHome } from '../../helpers/cli.ts';
import { tmuxRun, type TmuxPane } from '../../helpers/tmux.ts';

const PASS = 'serve tty passphrase';
const env = { LOCKBRIDGE_PASSPHRASE: PASS, LOCKBRIDGE_PROVIDER_PASSWORD: 'provider-pw' };
const empty = tempHome();
const withAccount = tempHome();
let provider: Provider;
const panes: TmuxPane[] = [];

const READY = /^\{"event":"ready","imap":(\d+),"smtp":(\d+),"control":(\d+)\}$/m;

before(async () => {
  provider = await startProvider();
  await provider.addUser('tty@example.test', 'provider-pw');
  assert.equal(cli(['--home', empty.dir, 'init'], env).status, 0);
  initWithAccount(withAccount.dir, 'tty@example.test', provider, env);
});
after(async () => {
  for (const p of panes) p.close();
  await provider.close();
  empty.cleanup();
  withAccount.cleanup();
});

function serveInTmux(home: string, extra: string[] = []): TmuxPane {
  // a stand-in UI build: these tests read the terminal, not the page
  const uiDir = join(empty.dir, '..', `tty-ui-${process.pid}`);
  mkdirSync(uiDir, { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Lockbridge</title>');
  const pane = tmuxRun(
    [
      process.execPath,
      CLI,
      '--home',
      home,
      'serve',
      '--imap-port',
      '0',
      '--smtp-port',
      '0',
      '--offline',
      ...extra,
    ],
    { LOCKBRIDGE_PASSPHRASE: PASS, NO_COLOR: '1', LOCKBRIDGE_UI_DIR: uiDir },
  );
  panes.push(pane);
  return pane;
}

test('on a terminal: human log lines, the ready line, then a summary saying how to add an account', async () => {
  const pane = serveInTmux(empty.dir);
  const text = await pane.waitFor(/Stop with Ctrl\+C/);
  const ready = READY.exec(text);
  assert.ok(ready, `the ready line is printed unchanged:\n${text}`);
  const [, imap, smtp] = ready;
  assert.match(
    text,
    /^\d\d:\d\d:\d\d INFO {2}store {5}store database opened/m,
    'local time, level, module, message',
  );
  assert.match(text, /^\d\d:\d\d:\d\d INFO {2}imap .*IMAP listening .*port=\d+/m, 'key fields as key=value');
  assert.doesNotMatch(text, /"level":|"time":/, 'no JSON log records on a terminal');
  assert.match(text, new RegExp(`^ {2}IMAP {6}127\\.0\\.0\\.1:${imap} {2}STARTTLS$`, 'm'));
  assert.match(text, new RegExp(`^ {2}SMTP {6}127\\.0\\.0\\.1:${smtp} {2}STARTTLS$`, 'm'));
  assert.match(text, /Accounts {2}none yet: run lockbridge account add --email/);
  assert.match(text, /lockbridge credentials' prints the settings/);
  pane.keys('C-c');
  const after = await pane.waitFor(/\[exit \d+\]/);
  assert.match(after, /\[exit 0\]/, 'Ctrl+C stops it cleanly');
  assert.match(after, /INFO {2}bridge {4}shutting down {2}signal=SIGINT/);
});

test('the summary lists each account with its state, and the UI address with --ui', async () => {
  const pane = serveInTmux(withAccount.dir, ['--ui']);
  const text = await pane.waitFor(/Stop with Ctrl\+C/);
  assert.match(text, /^ {2}Accounts {2}1$/m);
  assert.match(text, /^ {4}tty@example\.test {2}offline, /m);
  assert.match(text, /^ {2}UI {8}http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+$/m);
  pane.keys('C-c');
  assert.match(await pane.waitFor(/\[exit \d+\]/), /\[exit 0\]/);
});

test('--json on a terminal keeps JSON log lines and prints no summary', async () => {
  const pane = serveInTmux(empty.dir, ['--json']);
  const text = await pane.waitFor(/"msg":"bridge ready"/);
  assert.match(text, READY);
  assert.match(text, /^\{"level":30,"time":\d+,.*"msg":"store database opened"/m);
  pane.keys('C-c');
  const after = await pane.waitFor(/\[exit \d+\]/);
  assert.doesNotMatch(after, /Stop with Ctrl\+C/);
});

test('piped: stderr carries JSON lines only, stdout only the ready line', async () => {
  const bridge = await serve(empty.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  assert.equal(await bridge.stop('SIGTERM'), 0);
  const lines = bridge.stderr().trim().split('\n');
  assert.ok(lines.length > 3);
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `a JSON line: ${l}`);
});
