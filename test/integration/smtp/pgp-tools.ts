/** Real GnuPG checks for the SMTP tests: decrypt, list PKESK key ids, verify a multipart/signed. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';

export interface TestKey {
  email: string;
  armoredPublic: string;
  armoredSecret: string;
  /** 16 hex upper-case: the encryption subkey's key id */
  encKeyId: string;
  fingerprint: string;
}

export async function makeKey(email: string): Promise<TestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    userIDs: [{ email }],
    type: 'ecc',
    curve: 'curve25519Legacy',
    format: 'armored',
  });
  const k = await openpgp.readKey({ armoredKey: publicKey });
  const enc = await k.getEncryptionKey();
  return {
    email,
    armoredPublic: publicKey,
    armoredSecret: privateKey,
    encKeyId: enc.getKeyID().toHex().toUpperCase(),
    fingerprint: k.getFingerprint().toUpperCase(),
  };
}

export class Gpg {
  readonly home: string;
  constructor() {
    this.home = mkdtempSync(join(tmpdir(), 'lb-gpg-'));
  }
  #run(args: string[], input?: Buffer | string): { status: number; stdout: string; stderr: string } {
    const r = spawnSync(
      'gpg',
      ['--homedir', this.home, '--batch', '--yes', '--pinentry-mode', 'loopback', ...args],
      {
        input,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }
  importKey(armored: string): void {
    const r = this.#run(['--import'], armored);
    if (r.status !== 0) throw new Error('gpg import failed: ' + r.stderr);
  }
  /** Decrypts the PGP/MIME message's armored block; returns { ok, plaintext, stderr }. */
  decrypt(raw: Buffer): { ok: boolean; plaintext: string; stderr: string } {
    const r = this.#run(['--decrypt'], armoredBlock(raw));
    return { ok: r.status === 0, plaintext: r.stdout, stderr: r.stderr };
  }
  /** Key ids of the PKESK packets (gpg --list-packets). */
  pkeskKeyIds(raw: Buffer): string[] {
    const r = this.#run(['--list-packets', '--list-only'], armoredBlock(raw));
    const text = r.stdout + r.stderr;
    return [...text.matchAll(/:pubkey enc packet: version \d+, algo \d+, keyid ([0-9A-F]{16})/g)].map(
      (m) => m[1]!,
    );
  }
  /** Verifies a multipart/signed message exactly as sent. */
  verifySigned(raw: Buffer): { ok: boolean; stderr: string } {
    const { signed, signature } = splitSigned(raw);
    const dir = mkdtempSync(join(tmpdir(), 'lb-sig-'));
    try {
      writeFileSync(join(dir, 'data'), signed);
      writeFileSync(join(dir, 'sig.asc'), signature);
      const r = this.#run(['--verify', join(dir, 'sig.asc'), join(dir, 'data')]);
      return { ok: r.status === 0 && /Good signature/.test(r.stderr), stderr: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  close(): void {
    try {
      execFileSync('gpgconf', ['--homedir', this.home, '--kill', 'all'], { stdio: 'ignore' });
    } catch {
      // no agent running
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

export function armoredBlock(raw: Buffer): string {
  const s = raw.toString('utf8');
  const a = s.indexOf('-----BEGIN PGP MESSAGE-----');
  const b = s.indexOf('-----END PGP MESSAGE-----');
  if (a < 0 || b < 0) throw new Error('no PGP MESSAGE block');
  return s.slice(a, b + '-----END PGP MESSAGE-----'.length) + '\n';
}

/** The exact signed bytes and the signature of a top-level multipart/signed message. */
export function splitSigned(raw: Buffer): { signed: Buffer; signature: string } {
  const s = raw.toString('latin1');
  const m = /boundary="([^"]+)"/.exec(s);
  if (!m) throw new Error('no boundary');
  const delim = '\r\n--' + m[1];
  const headerEnd = s.indexOf('\r\n\r\n');
  const first = s.indexOf('--' + m[1] + '\r\n', headerEnd);
  const start = first + m[1]!.length + 4;
  const end = s.indexOf(delim, start);
  const signed = raw.subarray(start, end);
  const sigStart = s.indexOf('-----BEGIN PGP SIGNATURE-----', end);
  const sigEnd = s.indexOf('-----END PGP SIGNATURE-----', sigStart) + '-----END PGP SIGNATURE-----'.length;
  return { signed, signature: s.slice(sigStart, sigEnd) + '\n' };
}
