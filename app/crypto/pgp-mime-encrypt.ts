/**
 * Encrypt+sign a message as RFC 3156 multipart/encrypted in Thunderbird's exact layout
 * (standards §1.3), combined form (§1.4: one OpenPGP message, signature inside), with the
 * protected-headers="v1" payload and the obscured outer Subject `...` (§2.1, §2.2).
 *
 * Only what the caller passes is included: the caller builds one input per copy (To+Cc copy,
 * one per Bcc recipient) and its key list. A Bcc header is never copied anywhere.
 */
import * as openpgp from 'openpgp';
import type { KeyInput } from './keys-input.ts';
import { toPrivateKeys, toPublicKeys } from './keys-input.ts';
import { interopConfig } from './openpgp-config.ts';
import { CryptoInputError, CryptoKeyError } from './errors.ts';
import { splitMessage } from './message-parts.ts';
import { buildProtectedPayload, OBSCURED_SUBJECT, PROTECTED_FIELDS } from './protected-headers.ts';
import { foldField, freshBoundary, rawField } from '../mime/build.ts';
import { normalizeCrlf } from '../mime/crlf.ts';
import type { RawHeader } from '../mime/entity.ts';

export interface EncryptOptions {
  /** Every recipient key of this copy, plus the sender's own key (so the Sent copy is readable). */
  encryptionKeys: readonly KeyInput[];
  /** The sender's unlocked private key(s); empty = encrypt without signing. */
  signingKeys: readonly KeyInput[];
  /** Autocrypt-Gossip header values for this copy (never about Bcc recipients). */
  gossip?: readonly string[];
  /** Replace the outer Subject with `...` (default true, as Thunderbird). */
  obscureSubject?: boolean;
  /** Signature/encryption time (tests). */
  date?: Date;
}

export interface EncryptedEntity {
  /** the full Content-Type header value of the multipart/encrypted entity (folded as Thunderbird does) */
  contentType: string;
  /** the multipart/encrypted body, CRLF */
  body: Buffer;
}

/** Encrypt (and sign) an already built cryptographic payload (a full MIME entity). */
export async function encryptEntity(payload: Buffer, opts: EncryptOptions): Promise<EncryptedEntity> {
  const encryptionKeys = await toPublicKeys(opts.encryptionKeys);
  if (!encryptionKeys.length) throw new CryptoInputError('no encryption keys given');
  const signingKeys = await toPrivateKeys(opts.signingKeys);
  let armored: string;
  try {
    armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: normalizeCrlf(payload) }),
      encryptionKeys,
      signingKeys,
      format: 'armored',
      config: interopConfig,
      ...(opts.date ? { date: opts.date } : {}),
    });
  } catch (err) {
    throw new CryptoKeyError(`cannot encrypt: ${(err as Error).message}`, { cause: err });
  }
  const armor = normalizeCrlf(Buffer.from(armored, 'utf8'));
  const boundary = freshBoundary(armor);
  const body = Buffer.concat([
    Buffer.from(
      'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n' +
        `--${boundary}\r\n` +
        'Content-Type: application/pgp-encrypted\r\n' +
        'Content-Description: PGP/MIME version identification\r\n' +
        '\r\n' +
        'Version: 1\r\n' +
        '\r\n' +
        `--${boundary}\r\n` +
        'Content-Type: application/octet-stream; name="encrypted.asc"\r\n' +
        'Content-Description: OpenPGP encrypted message\r\n' +
        'Content-Disposition: inline; filename="encrypted.asc"\r\n' +
        '\r\n',
    ),
    armor,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return {
    contentType: `multipart/encrypted;\r\n protocol="application/pgp-encrypted";\r\n boundary="${boundary}"`,
    body,
  };
}

/**
 * Encrypt+sign a full message (as the mail client submitted it, for one copy): returns the
 * message to send — transport headers (Subject obscured, Bcc dropped), MIME-Version and the
 * multipart/encrypted entity whose payload carries the protected headers.
 */
export async function encryptMessage(raw: Buffer, opts: EncryptOptions): Promise<Buffer> {
  const { transport, entity } = splitMessage(raw);
  const kept = transport.filter((h) => h.lname !== 'bcc' && !h.lname.startsWith('x-lockbridge-'));
  const protectedFields = kept.filter((h) => (PROTECTED_FIELDS as readonly string[]).includes(h.lname));
  const payload = buildProtectedPayload(entity, protectedFields, opts.gossip ?? []);
  const enc = await encryptEntity(payload, opts);
  const outer = outerHeaders(kept, opts.obscureSubject ?? true);
  return Buffer.concat([
    ...outer,
    Buffer.from('MIME-Version: 1.0\r\n'),
    Buffer.from(`Content-Type: ${enc.contentType}\r\n\r\n`),
    enc.body,
  ]);
}

function outerHeaders(fields: RawHeader[], obscure: boolean): Buffer[] {
  return fields
    .filter((h) => h.lname !== 'autocrypt-gossip')
    .map((h) =>
      obscure && h.lname === 'subject' ? Buffer.from(foldField('Subject', OBSCURED_SUBJECT)) : rawField(h),
    );
}
