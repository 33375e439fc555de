import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  createLocalTls,
  createLocalCa,
  issueServerCert,
  renewServerCert,
  needsRenewal,
  isIssuedBy,
  certificateValidity,
  type LocalTlsMaterial,
} from '../../../app/crypto/local-ca.ts';

const DAY = 24 * 60 * 60 * 1000;

/** Starts a TLS server with the given cert and connects a client trusting only `caPem`. */
async function handshake(
  server: { certPem: string; keyPem: string },
  caPem: string,
  host: string,
  servername?: string,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const srv = tls.createServer({ cert: server.certPem, key: server.keyPem }, (s) => s.end('hi\n'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const sock = tls.connect({ host, port, ca: caPem, ...(servername ? { servername } : {}) }, () => {
        resolve({ ok: true });
        sock.end();
      });
      sock.on('error', (e) =>
        resolve({ ok: false, error: String((e as NodeJS.ErrnoException).code ?? e.message) }),
      );
    });
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

describe('local CA', () => {
  let mat: LocalTlsMaterial;
  before(async () => {
    mat = await createLocalTls();
  });

  it('creates a CA certificate with CA:TRUE, keyCertSign and ~10 years', () => {
    const ca = new X509Certificate(mat.caCertPem);
    assert.equal(ca.ca, true);
    assert.equal(ca.checkIssued(ca), true, 'self-signed');
    assert.equal(ca.verify(ca.publicKey), true);
    const years = (Date.parse(ca.validTo) - Date.now()) / (365 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `CA lifetime ${years}y`);
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: mat.caCertPem }).toString();
    assert.match(text, /CA:TRUE/);
    assert.match(text, /Certificate Sign/);
    assert.match(text, /ecdsa-with-SHA256/);
  });

  it('issues a server certificate for 127.0.0.1, ::1 and localhost signed by the CA', () => {
    const leaf = new X509Certificate(mat.certPem);
    const ca = new X509Certificate(mat.caCertPem);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIssued(ca), true);
    assert.equal(leaf.verify(ca.publicKey), true);
    const san = leaf.subjectAltName ?? '';
    assert.match(san, /IP Address:127\.0\.0\.1/);
    assert.match(san, /IP Address:0:0:0:0:0:0:0:1/);
    assert.match(san, /DNS:localhost/);
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkIP('::1'), '::1');
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.equal(leaf.checkHost('example.com'), undefined);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    const days = (Date.parse(leaf.validTo) - Date.now()) / DAY;
    assert.ok(days > 360 && days < 370, `server lifetime ${days}d`);
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: mat.certPem }).toString();
    assert.match(text, /CA:FALSE/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /ecdsa-with-SHA256/);
  });

  it('openssl verifies the chain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lb-ca-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), mat.caCertPem);
      writeFileSync(join(dir, 'leaf.pem'), mat.certPem);
      const out = execFileSync('openssl', [
        'verify',
        '-CAfile',
        join(dir, 'ca.pem'),
        '-purpose',
        'sslserver',
        join(dir, 'leaf.pem'),
      ]).toString();
      assert.match(out, /leaf\.pem: OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a client trusting only the CA connects to 127.0.0.1 and to localhost', async () => {
    assert.deepEqual(await handshake(mat, mat.caCertPem, '127.0.0.1'), { ok: true });
    assert.deepEqual(await handshake(mat, mat.caCertPem, 'localhost', 'localhost'), { ok: true });
  });

  it('a client trusting another CA is refused', async () => {
    const other = await createLocalCa();
    const res = await handshake(mat, other.caCertPem, '127.0.0.1');
    assert.equal(res.ok, false);
  });

  it('needsRenewal honours the margin, expiry and not-yet-valid', () => {
    const { notAfter, notBefore } = certificateValidity(mat.certPem);
    assert.equal(needsRenewal(mat.certPem), false);
    assert.equal(needsRenewal(mat.certPem, new Date(notAfter.getTime() - 31 * DAY)), false);
    assert.equal(needsRenewal(mat.certPem, new Date(notAfter.getTime() - 29 * DAY)), true);
    assert.equal(needsRenewal(mat.certPem, new Date(notAfter.getTime() + DAY)), true);
    assert.equal(needsRenewal(mat.certPem, new Date(notBefore.getTime() - DAY)), true);
    assert.equal(needsRenewal(mat.certPem, new Date(notAfter.getTime() - 5 * DAY), 2 * DAY), false);
  });

  it('names 127.0.0.1 as a DNS name too (mbsync and neomutt match only DNS names and the CN)', () => {
    const san = new X509Certificate(mat.certPem).subjectAltName ?? '';
    assert.deepEqual(san.split(', ').sort(), [
      'DNS:127.0.0.1',
      'DNS:localhost',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:127.0.0.1',
    ]);
  });

  it('a certificate from before 127.0.0.1 was a DNS name is reissued', async () => {
    const caCert = new x509.X509Certificate(mat.caCertPem);
    const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
    const [der] = x509.PemConverter.decode(mat.caKeyPem);
    const caKey = await webcrypto.subtle.importKey('pkcs8', der!, alg, false, ['sign']);
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const old = await x509.X509CertificateGenerator.create(
      {
        serialNumber: '01',
        subject: 'CN=localhost, O=Lockbridge',
        issuer: caCert.subject,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 300 * DAY),
        publicKey: keys.publicKey,
        signingKey: caKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [
          new x509.SubjectAlternativeNameExtension([
            { type: 'ip', value: '127.0.0.1' },
            { type: 'ip', value: '::1' },
            { type: 'dns', value: 'localhost' },
          ]),
        ],
      },
      webcrypto,
    );
    assert.equal(needsRenewal(old.toString('pem')), true);
  });

  it('renewal keeps the CA: the old trust anchor accepts the new certificate', async () => {
    const later = new Date(Date.now() + 340 * DAY);
    const renewed = await renewServerCert(mat.caCertPem, mat.caKeyPem, { now: later });
    assert.notEqual(renewed.certPem, mat.certPem);
    assert.notEqual(renewed.keyPem, mat.keyPem);
    assert.equal(await isIssuedBy(renewed.certPem, mat.caCertPem), true);
    assert.equal(needsRenewal(renewed.certPem, later), false);
    assert.ok(certificateValidity(renewed.certPem).notAfter.getTime() > later.getTime() + 360 * DAY);
    // A renewed cert issued now works against the same CA in a real handshake.
    const now = await renewServerCert(mat.caCertPem, mat.caKeyPem);
    assert.deepEqual(await handshake(now, mat.caCertPem, '127.0.0.1'), { ok: true });
  });

  it('isIssuedBy rejects a certificate from a different CA', async () => {
    const other = await createLocalCa();
    const foreign = await issueServerCert(other);
    assert.equal(await isIssuedBy(foreign.certPem, mat.caCertPem), false);
    assert.equal(await isIssuedBy(mat.certPem, mat.caCertPem), true);
  });

  it('serial numbers differ between certificates', async () => {
    const a = new X509Certificate(mat.certPem).serialNumber;
    const b = new X509Certificate((await issueServerCert(mat)).certPem).serialNumber;
    assert.notEqual(a, b);
  });
});
