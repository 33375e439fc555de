/**
 * The local TLS authority: a CA that lives in the store and signs the certificate the local IMAP
 * and SMTP servers present for 127.0.0.1, ::1 and localhost. A client trusts the CA once; the
 * server certificate is renewed under the same CA before it expires.
 *
 * Pure: WebCrypto + @peculiar/x509 to issue, node's X509Certificate to read, PEM strings in and
 * out, no I/O.
 */
import type * as X509 from '@peculiar/x509';
import { X509Certificate, webcrypto as nodeWebcrypto } from 'node:crypto';

type CryptoKey = nodeWebcrypto.CryptoKey;

const webcrypto = nodeWebcrypto;

const DAY_MS = 24 * 60 * 60 * 1000;
/** The CA lives ~10 years, the server certificate ~1 year (clients cap leaf lifetimes). */
export const CA_LIFETIME_DAYS = 3650;
export const SERVER_LIFETIME_DAYS = 365;
/** Renew the server certificate when it has less than this left. */
export const DEFAULT_RENEWAL_MARGIN_MS = 30 * DAY_MS;
/** notBefore is backdated by this much so a slightly skewed clock still accepts a fresh cert. */
const BACKDATE_MS = 60 * 60 * 1000;

const KEY_ALG: nodeWebcrypto.EcKeyGenParams & nodeWebcrypto.EcKeyImportParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
};
const SIGN_ALG: nodeWebcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * @peculiar/x509, loaded when a certificate is issued or checked against its CA: with its ASN.1
 * schemas and tsyringe it is ~180 modules that a start which only serves never needs
 * (bench/million.ts 20k: 129 -> 125 MB RSS when serving starts; the peak does not move).
 * tsyringe needs the Reflect metadata polyfill loaded first.
 */
async function x509Lib(): Promise<typeof X509> {
  await import('reflect-metadata');
  return import('@peculiar/x509');
}

/** The local CA: its certificate and its PKCS#8 private key, both PEM. */
export interface LocalCa {
  caCertPem: string;
  caKeyPem: string;
}

/** A server certificate (PEM, leaf only) and its PKCS#8 private key (PEM). */
export interface ServerCert {
  certPem: string;
  keyPem: string;
}

/** Everything `init` keeps in the store. */
export interface LocalTlsMaterial extends LocalCa, ServerCert {}

export interface CertOptions {
  /** The clock (tests). Default: now. */
  now?: Date;
}

/** Creates a new local CA (ECDSA P-256, sha256, CA:TRUE, keyCertSign+cRLSign, ~10 years). */
export async function createLocalCa(opts: CertOptions & { commonName?: string } = {}): Promise<LocalCa> {
  const x509 = await x509Lib();
  const now = opts.now ?? new Date();
  const keys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const name = `CN=${opts.commonName ?? 'Lockbridge Local CA'}, O=Lockbridge`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + CA_LIFETIME_DAYS * DAY_MS),
      keys,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { caCertPem: cert.toString('pem'), caKeyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * The server certificate's subject alternative names. 127.0.0.1 is there as an IP address (what
 * RFC 6125 clients such as Thunderbird, Apple Mail and OpenSSL's X509_check_ip match) and also as a
 * DNS name, because mbsync and neomutt compare the host they were given only with DNS names and
 * the CN — without it "certificate owner does not match hostname 127.0.0.1".
 */
const SERVER_NAMES: ReadonlyArray<{ type: 'ip' | 'dns'; value: string }> = [
  { type: 'ip', value: '127.0.0.1' },
  { type: 'ip', value: '::1' },
  { type: 'dns', value: 'localhost' },
  { type: 'dns', value: '127.0.0.1' },
];

/**
 * Issues a server certificate signed by the CA: CA:FALSE, serverAuth, SAN `SERVER_NAMES`, ~1 year,
 * sha256, with a fresh key pair.
 */
export async function issueServerCert(ca: LocalCa, opts: CertOptions = {}): Promise<ServerCert> {
  const x509 = await x509Lib();
  const now = opts.now ?? new Date();
  const caCert = new x509.X509Certificate(ca.caCertPem);
  const caKey = await importKeyPem(ca.caKeyPem);
  const keys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: 'CN=localhost, O=Lockbridge',
      issuer: caCert.subject,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + SERVER_LIFETIME_DAYS * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          SERVER_NAMES.map((n) => ({ ...n })),
          false,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** Creates a CA and a server certificate it signs (what `lockbridge init` stores). */
export async function createLocalTls(opts: CertOptions = {}): Promise<LocalTlsMaterial> {
  const ca = await createLocalCa(opts);
  const server = await issueServerCert(ca, opts);
  return { ...ca, ...server };
}

/** A new server certificate under the SAME CA (clients that trust the CA keep working). */
export async function renewServerCert(
  caPem: string,
  caKeyPem: string,
  opts: CertOptions = {},
): Promise<ServerCert> {
  return issueServerCert({ caCertPem: caPem, caKeyPem }, opts);
}

/**
 * True when the certificate expires within `marginMs` of `now` (or is already expired, or not
 * yet valid, or lacks one of today's names), i.e. when the bridge should call `renewServerCert`
 * before serving.
 */
export function needsRenewal(
  certPem: string,
  now: Date = new Date(),
  marginMs: number = DEFAULT_RENEWAL_MARGIN_MS,
): boolean {
  const cert = new X509Certificate(certPem);
  if (now.getTime() < cert.validFromDate.getTime()) return true;
  if (!coversServerNames(cert)) return true;
  return cert.validToDate.getTime() - now.getTime() <= marginMs;
}

/** False for a certificate issued before a name joined `SERVER_NAMES` (it is then reissued). */
function coversServerNames(cert: X509Certificate): boolean {
  return SERVER_NAMES.every(
    (n) =>
      (n.type === 'ip' ? cert.checkIP(n.value) : cert.checkHost(n.value, { subject: 'never' })) !== undefined,
  );
}

/** Validity window of a PEM certificate (for `status` / the UI). */
export function certificateValidity(certPem: string): { notBefore: Date; notAfter: Date } {
  const cert = new X509Certificate(certPem);
  return { notBefore: cert.validFromDate, notAfter: cert.validToDate };
}

/** True when `certPem` was signed by the CA in `caPem` (signature check, no validity dates). */
export async function isIssuedBy(certPem: string, caPem: string): Promise<boolean> {
  const x509 = await x509Lib();
  const cert = new x509.X509Certificate(certPem);
  const ca = new x509.X509Certificate(caPem);
  if (cert.issuer !== ca.subject) return false;
  return cert.verify({ publicKey: ca.publicKey, signatureOnly: true }, webcrypto);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return (await x509Lib()).PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const [der] = (await x509Lib()).PemConverter.decode(pem);
  if (!der) throw new Error('local CA: the private key PEM is empty');
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALG, false, ['sign']);
}

/** 16 random bytes as hex, top bit cleared so the DER INTEGER is positive and non-zero. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}
