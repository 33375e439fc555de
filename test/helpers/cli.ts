/** Runs the real `lockbridge` CLI (app/cli.ts under this Node) as a child process. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Provider } from './provider.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'app', 'cli.ts');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string): CliResult {
  const res = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOCKBRIDGE_PASSPHRASE: undefined, ...env } as NodeJS.ProcessEnv,
    input: input ?? '',
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Like cli(), without blocking this process (needed when this process also serves, e.g. a proxy). */
export function cliAsync(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
  cwd?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, LOCKBRIDGE_PASSPHRASE: undefined, ...env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export function tempHome(prefix = 'lb-home-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `lockbridge init` in `home`, then `account add` for `email` at the test provider (STARTTLS, the
 * provider's CA written beside the home for `--ca`), as a user sets the bridge up; `env` carries the
 * passphrase and the provider password. Asserts that both commands succeed.
 */
export function initWithAccount(
  home: string,
  email: string,
  provider: Pick<Provider, 'caPem' | 'imapPort' | 'smtpPort'>,
  env: Record<string, string | undefined>,
): void {
  assert.equal(cli(['--home', home, 'init'], env).status, 0);
  const ca = `${home}-provider-ca.pem`;
  writeFileSync(ca, provider.caPem);
  const add = cli(
    [
      ...['--home', home, 'account', 'add', '--email', email],
      ...['--imap', `127.0.0.1:${provider.imapPort}`, '--smtp', `127.0.0.1:${provider.smtpPort}`],
      ...['--security', 'starttls', '--ca', ca],
    ],
    env,
  );
  assert.equal(add.status, 0, add.stderr);
}

export interface ServeHandle {
  ready: { imap: number; smtp: number; control: number; ui?: string };
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  pid: number;
}

/** Starts `lockbridge serve` and resolves on its ready line. */
export function serve(
  home: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<ServeHandle> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--home', home, 'serve', ...args], {
      env: { ...process.env, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not become ready in 60 s:\n${err}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const ready = JSON.parse(out.slice(0, nl)) as ServeHandle['ready'] & { event: string };
      resolve({
        ready,
        pid: child.pid as number,
        stderr: () => err,
        stop: (signal = 'SIGTERM') =>
          new Promise((res) => {
            // (exited already, by a code or a signal: 'exit' will not come again)
            if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode);
            child.once('exit', (code) => res(code));
            child.kill(signal);
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before ready:\n${err}`));
    });
  });
}

export interface ServeProcess {
  /** The next JSON line `serve` prints on stdout (waits up to `ms`). */
  nextLine(ms?: number): Promise<Record<string, unknown>>;
  stderr(): string;
  exited(): Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  pid: number;
}

/** Starts `lockbridge serve` and hands out its stdout lines one by one (locked → ready flows). */
export function serveProcess(
  home: string,
  args: string[],
  env: Record<string, string | undefined>,
): ServeProcess {
  const child = spawn(process.execPath, [CLI, '--home', home, 'serve', ...args], {
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  void exit.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  return {
    pid: child.pid as number,
    stderr: () => err,
    exited: () => exit,
    async nextLine(ms = 60_000) {
      const deadline = Date.now() + ms;
      while (lines.length === 0) {
        if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${err}`);
        if (Date.now() > deadline) throw new Error(`no line from serve in ${ms} ms:\n${err}`);
        await new Promise<void>((res) => {
          const t = setTimeout(res, 200);
          waiters.push(() => {
            clearTimeout(t);
            res();
          });
        });
      }
      return JSON.parse(lines.shift()!) as Record<string, unknown>;
    },
    stop: (signal = 'SIGTERM') =>
      new Promise((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode);
        child.once('exit', (code) => res(code));
        child.kill(signal);
      }),
  };
}
