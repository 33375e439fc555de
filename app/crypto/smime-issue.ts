/**
 * Certificates Lockbridge issues for the user's addresses (issue 19: users without a CA), made the
 * way mail relays issue them: a root CA and an intermediate CA of this installation, and for each
 * address a user certificate signed by the intermediate.
 *
 * - root: self-signed, CA:TRUE pathlen 1 (critical), key usage keyCertSign + cRLSign (critical),
 *   ten years; intermediate: CA:TRUE pathlen 0, the same key usage, five years, signed by the root;
 *   both carry subject and authority key identifiers.
 * - user certificate: RSA 3072 (PKCS#1 v1.5 SHA-256, key usage digitalSignature + keyEncipherment)
 *   or EC P-256 (ECDSA SHA-256, digitalSignature + keyAgreement), CA:FALSE, extended key usage
 *   emailProtection, the address as the SAN's rfc822Name (and the subject's CN and emailAddress),
 *   valid two years (Apple Mail refuses S/MIME certificates valid longer than three) and never
 *   past its issuer. Without an issuer it is self-signed (tests).
 *
 * Pure: WebCrypto (key generation runs off the event loop) + @peculiar/x509; DER out, no I/O.
 */
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of an issued user certificate: two years (Apple Mail refuses more than three). */
export const ISSUED_LIFETIME_DAYS = 730;
/** Validity of the installation's root CA and intermediate CA. */
export const ROOT_LIFETIME_DAYS = 3650;
export const INTERMEDIATE_LIFETIME_DAYS = 1825;
/** notBefore is backdated by this much so a slightly skewed clock still accepts a fresh cert. */
const BACKDATE_MS = 60 * 60 * 1000;

export type IssueAlgorithm = 'rsa' | 'ec';

export interface IssuedCertificate {
  /** DER */
  certificate: Uint8Array;
  /** PKCS#8 DER */
  privateKey: Uint8Array;
}

export interface IssueOptions {
  email: string;
  algorithm?: IssueAlgorithm;
  /** The clock (tests). Default: now. */
  now?: Date;
  days?: number;
  /** the CA that signs it (the intermediate); none: self-signed */
  issuer?: IssuedCertificate;
}

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 3072,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};
const EC: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

/** A positive serial number of 16 random bytes, hex. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

const SIGNING = { rsa: RSA, ec: { name: 'ECDSA', hash: 'SHA-256' } } as const;
const IMPORT = { rsa: RSA, ec: EC } as const;

async function generate(algorithm: IssueAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm === 'rsa' ? RSA : EC, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

/** A CA's certificate and private key as @peculiar/x509 and WebCrypto objects. */
async function loadIssuer(
  ca: IssuedCertificate,
): Promise<{ cert: x509.X509Certificate; key: webcrypto.CryptoKey; algorithm: IssueAlgorithm }> {
  const cert = new x509.X509Certificate(ca.certificate);
  const algorithm: IssueAlgorithm = cert.publicKey.algorithm.name === 'ECDSA' ? 'ec' : 'rsa';
  const key = await webcrypto.subtle.importKey('pkcs8', ca.privateKey, IMPORT[algorithm], false, ['sign']);
  return { cert, key, algorithm };
}

async function done(cert: x509.X509Certificate, keys: webcrypto.CryptoKeyPair): Promise<IssuedCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certificate: new Uint8Array(cert.rawData), privateKey: new Uint8Array(pkcs8) };
}

function ends(now: Date, days: number, issuer?: x509.X509Certificate): Date {
  const end = now.getTime() + days * DAY_MS;
  return new Date(issuer ? Math.min(end, issuer.notAfter.getTime()) : end);
}

export interface CaOptions {
  algorithm?: IssueAlgorithm;
  now?: Date;
  /** the root that signs the intermediate; none: a new root is made and returned too */
  root?: IssuedCertificate;
}

/**
 * The installation's CA pair: a root (new unless `root` is given) and an intermediate it signs.
 * Their names end in a random tag so two installations' CAs never share a name.
 */
export async function issueCa(o: CaOptions = {}): Promise<{
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
}> {
  const now = o.now ?? new Date();
  const tag = randomBytes(4).toString('hex').toUpperCase();
  let root = o.root;
  if (!root) {
    const algorithm = o.algorithm ?? 'rsa';
    const keys = await generate(algorithm);
    const name: x509.JsonName = [{ CN: [`Lockbridge Root CA ${tag}`] }, { O: ['Lockbridge'] }];
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(),
        name,
        notBefore: new Date(now.getTime() - BACKDATE_MS),
        notAfter: ends(now, ROOT_LIFETIME_DAYS),
        keys,
        signingAlgorithm: SIGNING[algorithm],
        extensions: [
          new x509.BasicConstraintsExtension(true, 1, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        ],
      },
      webcrypto,
    );
    root = await done(cert, keys);
  }
  const issuer = await loadIssuer(root);
  const keys = await generate(issuer.algorithm);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: [{ CN: [`Lockbridge Intermediate CA ${tag}`] }, { O: ['Lockbridge'] }] as x509.JsonName,
      issuer: issuer.cert.subjectName,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: ends(now, INTERMEDIATE_LIFETIME_DAYS, issuer.cert),
      publicKey: keys.publicKey,
      signingKey: issuer.key,
      signingAlgorithm: SIGNING[issuer.algorithm],
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { root, intermediate: await done(cert, keys) };
}

/** A user certificate for `o.email`, signed by `o.issuer` (self-signed without one). */
export async function issueSmimeCertificate(o: IssueOptions): Promise<IssuedCertificate> {
  const algorithm = o.algorithm ?? 'rsa';
  const now = o.now ?? new Date();
  const days = o.days ?? ISSUED_LIFETIME_DAYS;
  const keys = await generate(algorithm);
  const usage =
    x509.KeyUsageFlags.digitalSignature |
    (algorithm === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.keyAgreement);
  const name: x509.JsonName = [{ CN: [o.email] }, { E: [o.email] }];
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.emailProtection], false),
    new x509.SubjectAlternativeNameExtension([{ type: 'email', value: o.email }], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
  ];
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  if (!o.issuer) {
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(),
        name,
        notBefore,
        notAfter: ends(now, days),
        keys,
        signingAlgorithm: SIGNING[algorithm],
        extensions,
      },
      webcrypto,
    );
    return done(cert, keys);
  }
  const issuer = await loadIssuer(o.issuer);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: name,
      issuer: issuer.cert.subjectName,
      notBefore,
      notAfter: ends(now, days, issuer.cert),
      publicKey: keys.publicKey,
      signingKey: issuer.key,
      signingAlgorithm: SIGNING[issuer.algorithm],
      extensions: [
        ...extensions,
        await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return done(cert, keys);
}
