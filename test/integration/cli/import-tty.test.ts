// `lockbridge import` as a person at a terminal sees it (tmux): a progress line with count,
// rate and ETA both when the CLI opens the store itself and when the import runs inside a serving
// bridge (its progress events streamed back), a closing summary; and a file that is not mail
// (/etc/hostname) refused with a clear line instead of "1 message(s)". `lockbridge export` of what
// was imported shows the same progress line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { CLI, cli, initWithAccount, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';
import { tmuxRun, type TmuxPane } from '../../helpers/tmux.ts';

const PASS = 'import tty passphrase';
const EMAIL = 'imp@example.test';
const env = { LOCKBRIDGE_PASSPHRASE: PASS, LOCKBRIDGE_PROVIDER_PASSWORD: 'provider-pw' };
const home = tempHome();
const COUNT = 10_000;
let provider: Provider;
let bridge: ServeHandle | null = null;
const panes: TmuxPane[] = [];

/** An mbox of `n` small distinct messages. */
function mbox(path: string, n: number, tag: string): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < n; i++)
      writeSync(
        fd,
        `From sender@example.test Mon Mar  2 10:00:00 2026\nFrom: sender@example.test\nTo: ${EMAIL}\n` +
          `Subject: ${tag} ${i}\nMessage-ID: <${tag}-${i}@example.test>\n\nbody ${tag} ${i}\n\n`,
      );
  } finally {
    closeSync(fd);
  }
}

before(async () => {
  provider = await startProvider();
  await provider.addUser(EMAIL, 'provider-pw');
  initWithAccount(home.dir, EMAIL, provider, env);
});
after(async () => {
  for (const p of panes) p.close();
  await bridge?.stop('SIGKILL');
  await provider.close();
  home.cleanup();
});

const PROGRESS = /\] \d+% [\d,]+ messages · [\d,]+ messages\/s · ETA \d+:\d\d/;

async function importInTmux(file: string, extraEnv: Record<string, string>): Promise<string> {
  const pane = tmuxRun(
    [process.execPath, CLI, '--home', home.dir, 'import', '--account', EMAIL, '--mailbox', 'Imported', file],
    { NO_COLOR: '1', ...extraEnv },
  );
  panes.push(pane);
  // a line as a person reads it mid-import: bar, percent, count, rate, ETA
  const mid = await pane.waitFor(new RegExp(`${PROGRESS.source}|\\[exit \\d+\\]`));
  assert.match(mid, PROGRESS, `a progress line with rate and ETA:\n${mid}`);
  const end = await pane.waitFor(/\[exit \d+\]/, 300_000);
  assert.match(end, /\[exit 0\]/, end);
  return end;
}

test('without a bridge: progress with count, rate and ETA, then a summary with the rate', async () => {
  const file = join(home.dir, '..', `imp-local-${process.pid}.mbox`);
  mbox(file, COUNT, 'local');
  const end = await importInTmux(file, { LOCKBRIDGE_PASSPHRASE: PASS });
  assert.match(
    end,
    new RegExp(`Imported ${COUNT} message\\(s\\) into Imported in [\\d.]+ s \\(\\d+ messages/s\\)\\.`),
  );
});

test('through a serving bridge: its progress events are streamed to the terminal', async () => {
  bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  const file = join(home.dir, '..', `imp-remote-${process.pid}.mbox`);
  mbox(file, COUNT, 'remote');
  const end = await importInTmux(file, {});
  assert.doesNotMatch(end, /passphrase/i, 'no passphrase asked: the bridge does the import');
  assert.match(end, new RegExp(`Imported ${COUNT} message\\(s\\) into Imported`));
});

test('export through the serving bridge: the same progress line (count, rate, ETA), then a summary', async () => {
  assert.ok(bridge, 'the bridge of the test before still serves');
  const target = join(home.dir, '..', `exp-${process.pid}.mbox`);
  const pane = tmuxRun(
    [
      process.execPath,
      CLI,
      '--home',
      home.dir,
      'export',
      '--account',
      EMAIL,
      '--mailbox',
      'Imported',
      target,
    ],
    { NO_COLOR: '1' },
  );
  panes.push(pane);
  const mid = await pane.waitFor(new RegExp(`${PROGRESS.source}|\\[exit \\d+\\]`));
  assert.match(mid, PROGRESS, `a progress line with rate and ETA:\n${mid}`);
  const end = await pane.waitFor(/\[exit \d+\]/, 300_000);
  assert.match(end, /\[exit 0\]/, end);
  assert.match(
    end,
    new RegExp(`Exported ${2 * COUNT} message\\(s\\) from 1 folder\\(s\\) to .*\\(mbox file\\) in [\\d.]+ s`),
  );
  rmSync(target);
});

test('a file that is not mail is refused with a clear line', () => {
  const r = cli(['--home', home.dir, 'import', '--account', EMAIL, '/etc/hostname'], env);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    /lockbridge import: nothing imported: \/etc\/hostname: not an e-mail message \(it does not start with header fields/,
  );
  assert.doesNotMatch(r.stdout, /Imported 1/);
});
