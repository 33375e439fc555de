/**
 * A self-signed S/MIME certificate for one of the user's addresses (issue 19: users without a CA
 * certificate): RSA 3072 (PKCS#1 v1.5 SHA-256, key usage digitalSignature + keyEncipherment) or EC
 * P-256 (ECDSA SHA-256, digitalSignature + keyAgreement), CA:FALSE, extended key usage
 * emailProtection, the address as the SAN's rfc822Name (and the subject's CN and emailAddress),
 * valid two years (Apple Mail refuses S/MIME certificates valid longer than three).
 *
 * Pure: WebCrypto (key generation runs off the event loop) + @peculiar/x509; DER out, no I/O.
 */
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of an issued certificate: two years (Apple Mail refuses more than three). */
export const ISSUED_LIFETIME_DAYS = 730;
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

export async function issueSmimeCertificate(o: IssueOptions): Promise<IssuedCertificate> {
  const algorithm = o.algorithm ?? 'rsa';
  const now = o.now ?? new Date();
  const days = o.days ?? ISSUED_LIFETIME_DAYS;
  const keys = (await webcrypto.subtle.generateKey(algorithm === 'rsa' ? RSA : EC, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const usage =
    x509.KeyUsageFlags.digitalSignature |
    (algorithm === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.keyAgreement);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [o.email] }, { E: [o.email] }],
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + days * DAY_MS),
      keys,
      signingAlgorithm: algorithm === 'rsa' ? RSA : { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usage, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.emailProtection], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'email', value: o.email }], false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certificate: new Uint8Array(cert.rawData), privateKey: new Uint8Array(pkcs8) };
}
