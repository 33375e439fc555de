/**
 * Test helper: a private gpgsm (GnuPG 2.2 S/MIME) home in a temp dir — a self-signed RSA
 * certificate of its own made by `gpgsm --gen-key`, certificates imported and trusted (trustlist),
 * CRL and policy checks off (there are no CRLs in a test). Output is base64 CMS.
 */
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './gpg.ts';

export class GpgsmHome {
  readonly dir: string;
  /**
   * Passphrases through loopback (the keys this home makes); false after importPkcs12: the
   * pinentry script answers for the imported key (loopback gives gpg-agent none for it).
   */
  loopback = true;
  #n = 0;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'lb-gpgsm-'));
    writeFileSync(join(this.dir, 'gpg-agent.conf'), 'allow-loopback-pinentry\n');
    writeFileSync(join(this.dir, 'trustlist.txt'), '');
  }

  gpgsm(args: string[], input?: Buffer | string): Buffer {
    const r = run(
      'gpgsm',
      [
        '--homedir',
        this.dir,
        '--batch',
        ...(this.loopback ? ['--pinentry-mode', 'loopback', '--passphrase', 'x'] : []),
        '--disable-crl-checks',
        '--disable-trusted-cert-crl-check',
        '--disable-policy-checks',
        ...args,
      ],
      input,
      { GNUPGHOME: this.dir },
    );
    if (r.status !== 0) throw new Error(`gpgsm ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs gpgsm over `input` written to a file (the data is then taken byte for byte). */
  over(args: string[], input: Buffer | string): Buffer {
    const file = join(this.dir, `in-${++this.#n}`);
    writeFileSync(file, input);
    return this.gpgsm([...args, file]);
  }

  /** A self-signed RSA-2048 certificate for `email` with its key in this home; returns its DER. */
  genSelfSigned(email: string): Buffer {
    const params = join(this.dir, 'gen.txt');
    writeFileSync(
      params,
      `Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign, encrypt\nSerial: random\nName-DN: CN=${email.split('@')[0]}\nName-Email: ${email}\n`,
    );
    const der = this.gpgsm(['--gen-key', params]);
    this.import(der);
    this.trust(der);
    return der;
  }

  /**
   * Imports a PKCS#12 file with its passphrase. gpgsm asks for that passphrase through the agent's
   * pinentry (loopback mode answers it with an empty one), so a tiny pinentry script in this home
   * answers it, and the same passphrase again when gpgsm asks for one to protect the imported key
   * with, or to use it (set `loopback` false for that). Returns gpgsm's output (stderr).
   */
  importPkcs12(p12: Buffer | Uint8Array, passphrase: string): string {
    const pin = join(this.dir, 'p12-pin');
    writeFileSync(pin, passphrase);
    const script = join(this.dir, 'pinentry.sh');
    writeFileSync(
      script,
      `#!/bin/sh\necho "OK ready"\nwhile read -r cmd rest; do\n  case "$cmd" in\n` +
        `    GETPIN) printf 'D %s\\nOK\\n' "$(cat '${pin}')";;\n` +
        `    BYE) echo OK; exit 0;;\n    *) echo OK;;\n  esac\ndone\n`,
    );
    chmodSync(script, 0o700);
    writeFileSync(join(this.dir, 'gpg-agent.conf'), `allow-loopback-pinentry\npinentry-program ${script}\n`);
    run('gpgconf', ['--homedir', this.dir, '--kill', 'gpg-agent'], undefined, { GNUPGHOME: this.dir });
    const file = join(this.dir, `import-${++this.#n}.p12`);
    writeFileSync(file, p12);
    const r = run('gpgsm', ['--homedir', this.dir, '--batch', '--import', file], undefined, {
      GNUPGHOME: this.dir,
    });
    if (r.status !== 0) throw new Error(`gpgsm --import (PKCS#12) failed: ${r.stderr}`);
    return r.stderr;
  }

  import(certs: Buffer | string): void {
    const file = join(this.dir, `import-${++this.#n}`);
    writeFileSync(file, certs);
    this.gpgsm(['--import', file]);
  }

  /** Trust a (root) certificate for signing certificates (trustlist.txt, by SHA-1 fingerprint). */
  trust(der: Buffer): void {
    const sha1 = run('openssl', ['x509', '-inform', 'DER', '-noout', '-fingerprint', '-sha1'], der)
      .stdout.toString()
      .split('=')[1]!
      .replace(/[:\s]/g, '');
    appendFileSync(join(this.dir, 'trustlist.txt'), `${sha1} S relax\n`);
    run('gpgconf', ['--homedir', this.dir, '--reload', 'gpg-agent'], undefined, { GNUPGHOME: this.dir });
  }

  dispose(): void {
    run('gpgconf', ['--homedir', this.dir, '--kill', 'all'], undefined, { GNUPGHOME: this.dir });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
