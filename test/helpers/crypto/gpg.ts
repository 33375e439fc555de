/**
 * Test helper: a private GnuPG 2.2 home (and sq 0.27 invocations) in a temp dir. Keys are made the
 * way the harness notes say (ed25519 cert+sign primary, cv25519 encryption subkey).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  input?: Buffer | string,
  env?: NodeJS.ProcessEnv,
): RunResult {
  const r = spawnSync(cmd, args, { input, env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** run() that asserts the command exited 0 (naming it, its stdout and stderr); returns its stdout. */
export function runOk(cmd: string, args: string[], input?: Buffer | string): Buffer {
  const r = run(cmd, args, input);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stdout.toString()} ${r.stderr}`);
  return r.stdout;
}

export class GpgHome {
  readonly dir: string;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'lb-gpg-'));
  }
  gpg(args: string[], input?: Buffer | string): RunResult {
    return run(
      'gpg',
      [
        '--homedir',
        this.dir,
        '--batch',
        '--no-tty',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        '--trust-model',
        'always',
        ...args,
      ],
      input,
    );
  }
  /** Create ed25519 + cv25519 key; returns the primary fingerprint. */
  genKey(uid: string): string {
    const r = this.gpg(['--quick-gen-key', uid, 'ed25519', 'cert,sign', 'never']);
    if (r.status !== 0) throw new Error('gpg gen-key failed: ' + r.stderr);
    const fpr = this.fingerprint(uid);
    const s = this.gpg(['--quick-add-key', fpr, 'cv25519', 'encr', 'never']);
    if (s.status !== 0) throw new Error('gpg add-key failed: ' + s.stderr);
    return fpr;
  }
  fingerprint(uid: string): string {
    const r = this.gpg(['--with-colons', '--list-keys', uid]);
    const line = r.stdout
      .toString()
      .split('\n')
      .find((l) => l.startsWith('fpr:'));
    if (!line) throw new Error('no fingerprint for ' + uid);
    return line.split(':')[9]!;
  }
  exportPublic(who: string): string {
    return this.gpg(['--armor', '--export', who]).stdout.toString();
  }
  exportSecret(who: string): string {
    return this.gpg(['--armor', '--export-secret-keys', who]).stdout.toString();
  }
  importKey(armored: string): void {
    const r = this.gpg(['--import'], armored);
    if (r.status !== 0) throw new Error('gpg import failed: ' + r.stderr);
  }
  /** Write bytes to a file in this home and return its path. */
  file(name: string, data: Buffer | string): string {
    const p = join(this.dir, name);
    writeFileSync(p, data);
    return p;
  }
  read(name: string): Buffer {
    return readFileSync(join(this.dir, name));
  }
  dispose(): void {
    this.gpg(['--kill', 'gpg-agent']);
    run('gpgconf', ['--homedir', this.dir, '--kill', 'all']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Status-fd tokens (GOODSIG, VALIDSIG, DECRYPTION_OKAY, ...) from gpg --status-fd 1 output. */
export function statusTokens(out: Buffer | string): string[] {
  return out
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('[GNUPG:] '))
    .map((l) => l.slice(9));
}
