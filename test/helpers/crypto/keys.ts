/** Test helper: v4 Curve25519 keys made with openpgp.js (the bridge's own key type). */
import * as openpgp from 'openpgp';
import type { PrivateKey, PublicKey } from 'openpgp';

export interface TestKey {
  privateKey: PrivateKey;
  publicKey: PublicKey;
  armoredPublic: string;
  fingerprint: string;
}

export async function makeKey(name: string, email: string): Promise<TestKey> {
  const k = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email }],
    format: 'object',
    config: { v6Keys: false, aeadProtect: false },
  });
  return {
    privateKey: k.privateKey,
    publicKey: k.publicKey,
    armoredPublic: k.publicKey.armor(),
    fingerprint: k.publicKey.getFingerprint().toUpperCase(),
  };
}

/** A plain message as a mail client submits it (CRLF). */
export function plainMessage(opts: {
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  subject?: string;
  body?: string;
  contentType?: string;
  cte?: string;
  extra?: string;
}): Buffer {
  const lines = [
    `From: ${opts.from ?? 'Bob <bob@example.test>'}`,
    `To: ${opts.to ?? 'Alice <alice@example.test>'}`,
    ...(opts.cc ? [`Cc: ${opts.cc}`] : []),
    ...(opts.bcc ? [`Bcc: ${opts.bcc}`] : []),
    `Subject: ${opts.subject ?? 'Quarterly numbers'}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    'Message-ID: <msg-1@example.test>',
    ...(opts.extra ? [opts.extra] : []),
    'MIME-Version: 1.0',
    `Content-Type: ${opts.contentType ?? 'text/plain; charset=utf-8'}`,
    `Content-Transfer-Encoding: ${opts.cte ?? '8bit'}`,
    '',
    opts.body ?? 'The secret plan is at noon.\r\n',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** The armored block of a PGP/MIME message. */
export function armoredOf(msg: Buffer | string): string {
  const m = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(msg.toString());
  if (!m) throw new Error('no armored message');
  return m[0];
}

/** Wrap an armored OpenPGP message in Thunderbird's PGP/MIME layout with the given outer headers. */
export function wrapPgpMime(
  armored: string,
  headers: string,
  boundary = '------------abcdefGHIJKL0123456789',
): Buffer {
  return Buffer.from(
    headers.replace(/\r?\n?$/, '\r\n') +
      'MIME-Version: 1.0\r\n' +
      `Content-Type: multipart/encrypted;\r\n protocol="application/pgp-encrypted";\r\n boundary="${boundary}"\r\n\r\n` +
      'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n' +
      `--${boundary}\r\nContent-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n` +
      `--${boundary}\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\nContent-Description: OpenPGP encrypted message\r\nContent-Disposition: inline; filename="encrypted.asc"\r\n\r\n` +
      armored.replace(/\r?\n/g, '\r\n').trimEnd() +
      `\r\n\r\n--${boundary}--\r\n`,
  );
}
