// `lockbridge ui`: prints (and with --open hands to the desktop's opener) the running bridge's UI
// address — the same as the ready line's — on a control port the user pinned; clear errors when
// no bridge runs or it does not serve the UI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/provider.ts';
import { cli, serve, tempHome } from '../../helpers/cli.ts';

const home = tempHome();
const env = { LOCKBRIDGE_PASSPHRASE: 'ui command passphrase' };
const uiDir = join(home.dir, '..', `ui-cmd-dist-${process.pid}`);
const bin = join(home.dir, '..', `ui-cmd-bin-${process.pid}`);
const opened = join(bin, 'opened.txt');

before(() => {
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  mkdirSync(uiDir, { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Lockbridge</title>');
  // a stand-in for the desktop's opener that records what it was asked to open
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
});
after(() => home.cleanup());

test('no bridge running: a clear error', () => {
  const r = cli(['--home', home.dir, 'ui'], {});
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no bridge is running .*lockbridge serve --ui/);
});

test('a bridge without --ui: says how to get one', async () => {
  const bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  try {
    const r = cli(['--home', home.dir, 'ui'], {});
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not serve the UI: restart it with 'lockbridge serve --ui'/);
  } finally {
    assert.equal(await bridge.stop(), 0);
  }
});

test('the pinned control port, the ready line address, printed and opened', async () => {
  const port = await freePort();
  const bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline', '--ui'], {
    ...env,
    LOCKBRIDGE_UI_DIR: uiDir,
    LOCKBRIDGE_CONTROL_PORT: String(port),
  });
  try {
    assert.equal(bridge.ready.control, port, 'LOCKBRIDGE_CONTROL_PORT pins the control port');
    const r = cli(['--home', home.dir, 'ui'], {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), bridge.ready.ui);
    const json = JSON.parse(cli(['--home', home.dir, 'ui', '--json'], {}).stdout) as Record<string, unknown>;
    assert.deepEqual(json, { ui: bridge.ready.ui, control: port });
    const o = cli(['--home', home.dir, 'ui', '--open'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    assert.equal(o.status, 0, o.stderr);
    for (let i = 0; !existsSync(opened) || readFileSync(opened, 'utf8') === ''; i++) {
      assert.ok(i < 600, 'the opener ran');
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(readFileSync(opened, 'utf8'), bridge.ready.ui);
    // the address works: the page loads with the token
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
  } finally {
    assert.equal(await bridge.stop(), 0);
  }
});
