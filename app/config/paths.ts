/**
 * Where Lockbridge keeps its data (../CONTRACT: `--home`, else LOCKBRIDGE_HOME, else the OS
 * convention). The Electron shell passes its own home; nothing here asks electron.
 */
import { homedir, platform } from 'node:os';
import { join, resolve } from 'node:path';

export interface Paths {
  home: string;
  database: string;
  keywrap: string;
  lock: string;
  controlToken: string;
  controlInfo: string;
  logDir: string;
  logFile: string;
  tmpDir: string;
}

export function defaultHome(env: NodeJS.ProcessEnv = process.env, os: NodeJS.Platform = platform()): string {
  if (os === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Lockbridge');
  if (os === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Lockbridge');
  const xdg =
    env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/')
      ? env.XDG_DATA_HOME
      : join(homedir(), '.local', 'share');
  return join(xdg, 'lockbridge');
}

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.LOCKBRIDGE_HOME) return resolve(env.LOCKBRIDGE_HOME);
  return defaultHome(env);
}

export function pathsFor(home: string): Paths {
  return {
    home,
    database: join(home, 'store.db'),
    keywrap: join(home, 'keywrap.json'),
    lock: join(home, 'bridge.lock'),
    controlToken: join(home, 'control.token'),
    controlInfo: join(home, 'control.json'),
    logDir: join(home, 'logs'),
    logFile: join(home, 'logs', 'lockbridge.log'),
    tmpDir: join(home, 'tmp'),
  };
}
