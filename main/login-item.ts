/**
 * "Start at login" (the `startAtLogin` setting). macOS and Windows: Electron's
 * `app.setLoginItemSettings`. Linux, which that API does not cover: an XDG autostart entry,
 * `$XDG_CONFIG_HOME/autostart/lockbridge.desktop` (~/.config/autostart by default).
 * Started at login, the app comes up in the tray without opening its window (`--hidden`).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export const HIDDEN_FLAG = '--hidden';
export const AUTOSTART_FILE = 'lockbridge.desktop';

/** `$XDG_CONFIG_HOME/autostart`, or ~/.config/autostart (a relative XDG_CONFIG_HOME is ignored, per the spec). */
export function autostartDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const base =
    env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(base, 'autostart');
}

/**
 * One argument of an Exec= line (Desktop Entry Specification): quoted when it has reserved
 * characters, with `"` `` ` `` `$` `\` escaped inside the quotes, then the string-level escape of
 * backslashes, and `%` doubled (it introduces field codes).
 */
export function execArg(arg: string): string {
  if (/[\n\r\t\0]/.test(arg)) throw new Error('a start-at-login argument cannot contain control characters');
  let out = /^[A-Za-z0-9_\-./+,:=@]+$/.test(arg) ? arg : `"${arg.replace(/["`$\\]/g, '\\$&')}"`;
  out = out.replace(/\\/g, '\\\\');
  return out.replace(/%/g, '%%');
}

export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Lockbridge',
    'Comment=OpenPGP encryption for your mailbox',
    `Exec=${command.map(execArg).join(' ')}`,
    'Icon=lockbridge',
    'Terminal=false',
    'Categories=Network;Email;',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Writes or removes the autostart entry; returns whether anything changed on disk. */
export function setLinuxAutostart(dir: string, enabled: boolean, command: readonly string[]): boolean {
  const file = join(dir, AUTOSTART_FILE);
  if (!enabled) {
    let existed = true;
    try {
      readFileSync(file);
    } catch {
      existed = false;
    }
    rmSync(file, { force: true });
    return existed;
  }
  const text = desktopEntry(command);
  try {
    if (readFileSync(file, 'utf8') === text) return false;
  } catch {
    /* not there yet */
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
  return true;
}

export interface LoginItemDeps {
  platform: NodeJS.Platform;
  /** Electron's `app.setLoginItemSettings` (macOS, Windows). */
  setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden?: boolean; args?: string[] }): void;
  /** The executable to start: `process.execPath`, or the AppImage file (`$APPIMAGE`) when run from one. */
  executable: string;
  /** Arguments before ours (unpackaged runs: the app directory that the electron binary opens). */
  appArgs?: string[];
  /** Linux only. */
  autostartDir?: string;
}

/** The command an autostart entry runs. */
export function loginCommand(deps: Pick<LoginItemDeps, 'executable' | 'appArgs'>): string[] {
  return [deps.executable, ...(deps.appArgs ?? []), HIDDEN_FLAG];
}

export function applyStartAtLogin(enabled: boolean, deps: LoginItemDeps): void {
  if (deps.platform === 'linux') {
    setLinuxAutostart(deps.autostartDir ?? autostartDir(), enabled, loginCommand(deps));
    return;
  }
  if (deps.platform === 'darwin') {
    deps.setLoginItemSettings({ openAtLogin: enabled, openAsHidden: true });
    return;
  }
  deps.setLoginItemSettings({ openAtLogin: enabled, args: [...(deps.appArgs ?? []), HIDDEN_FLAG] });
}

/** Whether this launch should stay in the tray (started at login). */
export function startHidden(argv: readonly string[], openedAtLogin = false): boolean {
  return openedAtLogin || argv.includes(HIDDEN_FLAG);
}
