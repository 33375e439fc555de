/**
 * A throw-away certificate authority for loopback HTTPS test servers (WKD, VKS, HKP): made with
 * @peculiar/x509 over Node's WebCrypto, ECDSA P-256. Nothing touches the system trust store; the
 * code under test gets the CA PEM injected.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface TestCa {
  caPem: string;
  /** Issues a server certificate for the given DNS names (and 127.0.0.1). */
  issue(dnsNames: string[], opts?: { expired?: boolean }): Promise<{ certPem: string; keyPem: string }>;
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

export async function createTestCa(name = 'Lockbridge Test CA'): Promise<TestCa> {
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 7 * 86_400_000),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  let serial = 2;
  return {
    caPem: caCert.toString('pem') + '\n',
    async issue(dnsNames, opts = {}) {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: `CN=${dnsNames[0] ?? 'localhost'}`,
        issuer: caCert.subject,
        notBefore: new Date(now - (opts.expired ? 3 * 86_400_000 : 3600_000)),
        notAfter: new Date(opts.expired ? now - 86_400_000 : now + 7 * 86_400_000),
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([
            ...dnsNames.map((d) => ({ type: 'dns' as const, value: d })),
            { type: 'ip' as const, value: '127.0.0.1' },
          ]),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
      return { certPem: cert.toString('pem') + '\n', keyPem: toPem('PRIVATE KEY', pkcs8) };
    },
  };
}
