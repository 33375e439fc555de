/**
 * Test helper: an S/MIME world made with the real `openssl` (3.x) in a temp dir — a CA (RSA),
 * user certificates (RSA, RSA-PSS (signing only) or EC P-256, email in the SAN; any validity window through `openssl ca`),
 * PKCS#12 files, and messages from `openssl cms` (enveloped, authEnveloped with AES-GCM, signed
 * opaque and detached). Nothing here uses app code.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './gpg.ts';

export interface OsslUser {
  email: string;
  kind: 'rsa' | 'ec' | 'rsa-pss';
  certPath: string;
  keyPath: string;
  certPem: string;
  certDer: Buffer;
}

export class OpensslCa {
  readonly dir: string;
  readonly caPem: string;
  #n = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'lb-openssl-'));
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(join(this.dir, 'serial'), '1000\n');
    writeFileSync(
      join(this.dir, 'ca.cnf'),
      [
        '[req]',
        'distinguished_name = dn',
        '[dn]',
        '[ca_ext]',
        'basicConstraints = critical,CA:true',
        'keyUsage = critical,keyCertSign,cRLSign',
        'subjectKeyIdentifier = hash',
        '[testca]',
        `database = ${this.dir}/index.txt`,
        `new_certs_dir = ${this.dir}`,
        `serial = ${this.dir}/serial`,
        'default_md = sha256',
        'policy = policy_any',
        'email_in_dn = no',
        'unique_subject = no',
        'copy_extensions = none',
        '[policy_any]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    this.must('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      this.path('ca.key'),
      '-out',
      this.path('ca.pem'),
      '-subj',
      '/CN=Lockbridge Test CA',
      '-days',
      '3650',
      '-config',
      this.path('ca.cnf'),
      '-extensions',
      'ca_ext',
    ]);
    this.caPem = readFileSync(this.path('ca.pem'), 'utf8');
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  must(cmd: string, args: string[], input?: Buffer | string): Buffer {
    const r = run(cmd, args, input);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** `openssl ca` as this CA (its config section, certificate and key) with `args`. */
  #ca(args: string[]): Buffer {
    return this.must('openssl', [
      'ca',
      '-batch',
      '-config',
      this.path('ca.cnf'),
      '-name',
      'testca',
      '-cert',
      this.path('ca.pem'),
      '-keyfile',
      this.path('ca.key'),
      ...args,
    ]);
  }

  /**
   * A user certificate issued by the CA (`selfSigned`: its own, outside the CA) for `email`;
   * `start`/`end` as openssl dates (YYYYMMDDHHMMSSZ) for a chosen validity window; `eku` its
   * extended key usage (default emailProtection).
   */
  user(
    email: string,
    kind: 'rsa' | 'ec' | 'rsa-pss',
    o: { start?: string; end?: string; selfSigned?: boolean; sanEmail?: string; eku?: string } = {},
  ): OsslUser {
    const n = ++this.#n;
    const keyPath = this.path(`u${n}.key`);
    const certPath = this.path(`u${n}.pem`);
    const ext = this.path(`u${n}.ext`);
    writeFileSync(
      ext,
      [
        '[user]',
        'basicConstraints = CA:false',
        `keyUsage = critical,digitalSignature${{ rsa: ',keyEncipherment', ec: ',keyAgreement', 'rsa-pss': '' }[kind]}`,
        `extendedKeyUsage = ${o.eku ?? 'emailProtection'}`,
        `subjectAltName = email:${o.sanEmail ?? email}`,
        'subjectKeyIdentifier = hash',
        '',
      ].join('\n'),
    );
    if (kind === 'rsa' || kind === 'rsa-pss')
      this.must('openssl', [
        'genpkey',
        '-algorithm',
        kind === 'rsa' ? 'RSA' : 'RSA-PSS',
        '-pkeyopt',
        'rsa_keygen_bits:2048',
        '-out',
        keyPath,
      ]);
    else
      this.must('openssl', [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-out',
        keyPath,
      ]);
    const subj = `/CN=${email.split('@')[0]}`;
    const csr = this.path(`u${n}.csr`);
    this.must('openssl', [
      'req',
      '-new',
      '-key',
      keyPath,
      '-out',
      csr,
      '-subj',
      subj,
      '-config',
      this.path('ca.cnf'),
    ]);
    if (o.selfSigned) {
      this.must('openssl', [
        'x509',
        '-req',
        '-in',
        csr,
        '-key',
        keyPath,
        '-out',
        certPath,
        '-days',
        '365',
        '-extfile',
        ext,
        '-extensions',
        'user',
      ]);
    } else {
      this.#ca([
        '-in',
        csr,
        '-out',
        certPath,
        '-extfile',
        ext,
        '-extensions',
        'user',
        '-notext',
        ...(o.start ? ['-startdate', o.start] : []),
        ...(o.end ? ['-enddate', o.end] : ['-days', '365']),
      ]);
    }
    const certPem = readFileSync(certPath, 'utf8');
    const certDer = this.must('openssl', ['x509', '-in', certPath, '-outform', 'DER']);
    return { email, kind, certPath, keyPath, certPem, certDer };
  }

  /** Revokes a certificate this CA issued (`openssl ca -revoke`, in its index.txt). */
  revoke(u: OsslUser): void {
    this.#ca(['-revoke', u.certPath]);
  }

  /** The CA's CRL as PEM (`openssl ca -gencrl`, 30 days), listing what was revoked. */
  crl(): string {
    const out = this.path(`crl-${++this.#n}.pem`);
    this.#ca(['-gencrl', '-crldays', '30', '-out', out]);
    return readFileSync(out, 'utf8');
  }

  /** The user's certificate, key and the CA as PKCS#12 (OpenSSL 3 defaults: PBES2/AES-256, SHA-256 MAC). */
  pkcs12(u: OsslUser, passphrase: string): Buffer {
    return this.must('openssl', [
      'pkcs12',
      '-export',
      '-in',
      u.certPath,
      '-inkey',
      u.keyPath,
      '-certfile',
      this.path('ca.pem'),
      '-passout',
      `pass:${passphrase}`,
    ]);
  }

  /**
   * `openssl cms` over `entity` (a MIME entity, CRLF) with the given operation arguments; the
   * result is a whole message (openssl writes the S/MIME headers), given `headers` in front.
   */
  cms(args: string[], entity: string | Buffer, headers = ''): Buffer {
    const out = this.must('openssl', ['cms', ...args], entity);
    return Buffer.concat([Buffer.from(headers), crlf(out)]);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** LF → CRLF (openssl writes LF line ends outside the signed content). */
export function crlf(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
