// `lockbridge status` with no bridge running: what it can say without the passphrase, what needs
// it; at a terminal the passphrase prompt may be skipped (tmux), with LOCKBRIDGE_PASSPHRASE or a
// typed passphrase the accounts are shown.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { CLI, cli, tempHome } from '../../helpers/cli.ts';
import { tmuxRun, type TmuxPane } from '../../helpers/tmux.ts';

const PASS = 'status offline passphrase';
const home = tempHome();
const panes: TmuxPane[] = [];
after(() => {
  for (const p of panes) p.close();
  home.cleanup();
});

test('no bridge, no passphrase, no terminal: says what needs the passphrase, exits 0', () => {
  assert.equal(cli(['--home', home.dir, 'init'], { LOCKBRIDGE_PASSPHRASE: PASS }).status, 0);
  const r = cli(['--home', home.dir, 'status'], {});
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Bridge not running \(data directory .*; logs in .*lockbridge\.log\)\.$/m);
  assert.match(
    r.stdout,
    /Accounts, sync progress and the outbox are inside the encrypted store: they need the passphrase\./,
  );
  assert.match(r.stdout, /Set LOCKBRIDGE_PASSPHRASE to see them/);
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(cli(['--home', home.dir, 'status', '--json'], {}).stdout), {
    running: false,
    locked: true,
    initialized: true,
    home: home.dir,
  });
  const unlocked = cli(['--home', home.dir, 'status'], { LOCKBRIDGE_PASSPHRASE: PASS });
  assert.equal(unlocked.status, 0, unlocked.stderr);
  assert.match(unlocked.stdout, /Bridge not running\nNo accounts\./);
});

test('at a terminal: the prompt can be skipped with Enter, or answered', async () => {
  const skip = tmuxRun([process.execPath, CLI, '--home', home.dir, 'status'], { NO_COLOR: '1' });
  panes.push(skip);
  await skip.waitFor(/Store passphrase \(Enter to stop here\):/);
  skip.keys('Enter');
  const skipped = await skip.waitFor(/\[exit \d+\]/);
  assert.match(skipped, /\[exit 0\]/);
  assert.doesNotMatch(skipped, /No accounts/);

  const typed = tmuxRun([process.execPath, CLI, '--home', home.dir, 'status'], { NO_COLOR: '1' });
  panes.push(typed);
  await typed.waitFor(/Store passphrase \(Enter to stop here\):/);
  typed.keys('-l', PASS);
  typed.keys('Enter');
  const shown = await typed.waitFor(/\[exit \d+\]/);
  assert.match(shown, /No accounts\./);
  assert.match(shown, /\[exit 0\]/);
  assert.doesNotMatch(shown, new RegExp(PASS), 'the passphrase is not echoed');
});
