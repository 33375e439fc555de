// Start at login: macOS/Windows go through app.setLoginItemSettings; Linux writes or removes an
// XDG autostart entry (tested in a temp dir), with Exec= quoted per the Desktop Entry spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyStartAtLogin,
  AUTOSTART_FILE,
  autostartDir,
  desktopEntry,
  execArg,
  setLinuxAutostart,
  startHidden,
} from '../../../main/login-item.ts';

test('autostartDir follows XDG_CONFIG_HOME (absolute only)', () => {
  assert.equal(autostartDir({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u'), '/x/cfg/autostart');
  assert.equal(autostartDir({ XDG_CONFIG_HOME: 'relative' }, '/home/u'), '/home/u/.config/autostart');
  assert.equal(autostartDir({}, '/home/u'), '/home/u/.config/autostart');
});

test('Exec= arguments are quoted and escaped per the Desktop Entry spec', () => {
  assert.equal(execArg('/usr/bin/lockbridge'), '/usr/bin/lockbridge');
  assert.equal(execArg('--hidden'), '--hidden');
  assert.equal(execArg('/home/u/My Apps/Lockbridge.AppImage'), '"/home/u/My Apps/Lockbridge.AppImage"');
  assert.equal(execArg('/opt/a"b$c`d'), '"/opt/a\\\\"b\\\\$c\\\\`d"');
  assert.equal(execArg('C:\\x'), '"C:\\\\\\\\x"');
  assert.equal(execArg('/opt/100%'), '"/opt/100%%"');
  assert.throws(() => execArg('a\nb'));
});

test('the entry runs the app hidden', () => {
  const text = desktopEntry(['/opt/Lockbridge/lockbridge', '--hidden']);
  assert.match(text, /^\[Desktop Entry\]\n/);
  assert.match(text, /\nType=Application\n/);
  assert.match(text, /\nExec=\/opt\/Lockbridge\/lockbridge --hidden\n/);
  assert.match(text, /\nX-GNOME-Autostart-enabled=true\n/);
});

test('Linux: enabling writes the autostart file, disabling removes it; both idempotent', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lb-autostart-')), 'autostart');
  try {
    const file = join(dir, AUTOSTART_FILE);
    const deps = {
      platform: 'linux' as const,
      setLoginItemSettings: () => assert.fail('not on Linux'),
      executable: '/tmp/Lockbridge 0.1.0.AppImage',
      autostartDir: dir,
    };
    applyStartAtLogin(true, deps);
    assert.ok(existsSync(file));
    assert.match(readFileSync(file, 'utf8'), /\nExec="\/tmp\/Lockbridge 0\.1\.0\.AppImage" --hidden\n/);
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.equal(
      setLinuxAutostart(dir, true, ['/tmp/Lockbridge 0.1.0.AppImage', '--hidden']),
      false,
      'unchanged',
    );
    assert.equal(
      setLinuxAutostart(dir, true, ['/elsewhere/lockbridge', '--hidden']),
      true,
      'moved app: rewritten',
    );
    applyStartAtLogin(false, deps);
    assert.ok(!existsSync(file));
    assert.equal(setLinuxAutostart(dir, false, []), false, 'already gone');
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf('/'));
}

test('unpackaged runs put the app directory before --hidden', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lb-autostart-')), 'autostart');
  try {
    applyStartAtLogin(true, {
      platform: 'linux',
      setLoginItemSettings: () => {},
      executable: '/x/node_modules/electron/dist/electron',
      appArgs: ['/x'],
      autostartDir: dir,
    });
    assert.match(
      readFileSync(join(dir, AUTOSTART_FILE), 'utf8'),
      /\nExec=\/x\/node_modules\/electron\/dist\/electron \/x --hidden\n/,
    );
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

test('macOS and Windows use setLoginItemSettings', () => {
  const calls: unknown[] = [];
  const deps = {
    setLoginItemSettings: (s: unknown) => void calls.push(s),
    executable: '/Applications/Lockbridge.app',
  };
  applyStartAtLogin(true, { ...deps, platform: 'darwin' });
  applyStartAtLogin(false, { ...deps, platform: 'win32' });
  assert.deepEqual(calls, [
    { openAtLogin: true, openAsHidden: true },
    { openAtLogin: false, args: ['--hidden'] },
  ]);
});

test('startHidden: --hidden or opened at login', () => {
  assert.equal(startHidden(['/x/lockbridge']), false);
  assert.equal(startHidden(['/x/lockbridge', '--hidden']), true);
  assert.equal(startHidden(['/x/lockbridge'], true), true);
});
