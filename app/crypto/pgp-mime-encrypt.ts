/**
 * Encrypt+sign a message as RFC 3156 multipart/encrypted in Thunderbird's exact layout
 * (standards §1.3), combined form (§1.4: one OpenPGP message, signature inside), with the
 * protected-headers="v1" payload and the obscured outer Subject `...` (§2.1, §2.2).
 *
 * - encryptMessage(raw, opts) → one copy for one key list.
 * - encryptCopies(raw, opts) → one copy per key list (To+Cc copy, one per Bcc recipient), sharing
 *   one signed and encrypted payload.
 * The one place PGP/MIME encrypted framing is written. Only what the caller passes is included;
 * a Bcc header is never copied anywhere.
 */
import * as openpgp from 'openpgp';
import type { KeyInput } from './keys-input.ts';
import { toPrivateKeys, toPublicKeys } from './keys-input.ts';
import { interopConfig } from './openpgp-config.ts';
import { CryptoInputError, CryptoKeyError } from './errors.ts';
import { armorMessage, writePackets } from './armor.ts';
import { splitMessage } from './message-parts.ts';
import { buildProtectedPayload, OBSCURED_SUBJECT, PROTECTED_FIELDS } from './protected-headers.ts';
import { foldField, freshBoundary, multipartChunks, rawField } from '../mime/build.ts';
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

/**
 * The armored OpenPGP message as an RFC 3156 multipart/encrypted entity, in Thunderbird's layout, as
 * pieces: the caller joins them with the transport headers in one copy (the armor of a large
 * message is megabytes; each extra join cost a copy and fresh pages).
 */
function frameEncrypted(armor: Buffer): Buffer[] {
  const boundary = freshBoundary(armor);
  const version = Buffer.from(
    'Content-Type: application/pgp-encrypted\r\n' +
      'Content-Description: PGP/MIME version identification\r\n\r\n' +
      'Version: 1\r\n',
  );
  const encrypted = Buffer.from(
    'Content-Type: application/octet-stream; name="encrypted.asc"\r\n' +
      'Content-Description: OpenPGP encrypted message\r\n' +
      'Content-Disposition: inline; filename="encrypted.asc"\r\n\r\n',
  );
  return [
    Buffer.from(
      `Content-Type: multipart/encrypted;\r\n protocol="application/pgp-encrypted";\r\n boundary="${boundary}"\r\n\r\n`,
    ),
    ...multipartChunks(
      boundary,
      [version, [encrypted, armor]],
      'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
    ),
  ];
}

/** What every copy of a message shares: the header fields that travel, and the payload to encrypt. */
function protectedParts(raw: Buffer, gossip: readonly string[]): { kept: RawHeader[]; payload: Buffer } {
  const { transport, entity } = splitMessage(raw);
  const kept = transport.filter((h) => h.lname !== 'bcc' && !h.lname.startsWith('x-lockbridge-'));
  const protectedFields = kept.filter((h) => (PROTECTED_FIELDS as readonly string[]).includes(h.lname));
  return { kept, payload: normalizeCrlf(buildProtectedPayload(entity, protectedFields, gossip)) };
}

/** Transport headers (Subject obscured, no gossip), MIME-Version and the multipart/encrypted entity. */
function assemble(kept: RawHeader[], armored: Buffer, obscure: boolean): Buffer {
  return Buffer.concat([
    ...kept
      .filter((h) => h.lname !== 'autocrypt-gossip')
      .map((h) =>
        obscure && h.lname === 'subject' ? Buffer.from(foldField('Subject', OBSCURED_SUBJECT)) : rawField(h),
      ),
    Buffer.from('MIME-Version: 1.0\r\n'),
    ...frameEncrypted(armored),
  ]);
}

/**
 * Encrypt+sign a full message (as the mail client submitted it, for one copy): returns the
 * message to send — transport headers (Subject obscured, Bcc dropped), MIME-Version and the
 * multipart/encrypted entity whose payload carries the protected headers.
 */
export async function encryptMessage(raw: Buffer, opts: EncryptOptions): Promise<Buffer> {
  const { kept, payload } = protectedParts(raw, opts.gossip ?? []);
  const encryptionKeys = await toPublicKeys(opts.encryptionKeys);
  if (!encryptionKeys.length) throw new CryptoInputError('no encryption keys given');
  const signingKeys = await toPrivateKeys(opts.signingKeys);
  let encrypted: openpgp.Message<Uint8Array>;
  try {
    encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: payload }),
      encryptionKeys,
      signingKeys,
      format: 'object',
      config: interopConfig,
      ...(opts.date ? { date: opts.date } : {}),
    });
  } catch (err) {
    throw new CryptoKeyError(`cannot encrypt: ${(err as Error).message}`, { cause: err });
  }
  return assemble(kept, armorMessage([await writePackets(encrypted.packets)]), opts.obscureSubject ?? true);
}

export interface CopiesOptions {
  /** one key list per copy (its recipients, plus the sender's key when wanted) */
  copies: readonly (readonly KeyInput[])[];
  /** the sender's unlocked private key(s); empty = encrypt without signing */
  signingKeys: readonly KeyInput[];
  /** Autocrypt-Gossip values (visible recipients only, never Bcc) */
  gossip?: readonly string[];
}

/**
 * Encrypt-once for several copies of one message. The payload (protected headers + content, and
 * the signature inside it) is the same for every copy, so it is signed and encrypted ONCE under
 * one session key; each copy then gets only its own PKESK packets (its recipients' keys) in front
 * of the shared SEIPD packet. A copy therefore names exactly its own recipients' keys and nothing
 * about the other copies; the shared ciphertext reveals nothing a recipient could not read anyway.
 * Returns one complete message per entry of `copies`, in order.
 */
export async function encryptCopies(raw: Buffer, opts: CopiesOptions): Promise<Buffer[]> {
  if (!opts.copies.length) return [];
  const { kept, payload } = protectedParts(raw, opts.gossip ?? []);
  const keyLists = await Promise.all(opts.copies.map((c) => toPublicKeys(c)));
  if (keyLists.some((k) => !k.length)) throw new CryptoInputError('no encryption keys given');
  const all = new Map(keyLists.flat().map((k) => [k.getFingerprint(), k]));
  const signingKeys = await toPrivateKeys(opts.signingKeys);
  try {
    const sessionKey = await openpgp.generateSessionKey({
      encryptionKeys: [...all.values()],
      config: interopConfig,
    });
    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: payload }),
      encryptionKeys: keyLists[0]!,
      signingKeys,
      sessionKey,
      format: 'object',
      config: interopConfig,
    });
    const isPkesk = (p: openpgp.AnyPacket) => p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket;
    // the data packets are written once; each copy writes only its own PKESKs in front of them
    const data = await writePackets(encrypted.packets.filter((p) => !isPkesk(p)));
    const out: Buffer[] = [];
    for (const [i, keys] of keyLists.entries()) {
      const pkesks =
        i === 0
          ? encrypted.packets.filter(isPkesk)
          : [
              ...(
                await openpgp.encryptSessionKey({
                  ...sessionKey,
                  encryptionKeys: keys,
                  format: 'object',
                  config: interopConfig,
                })
              ).packets,
            ];
      out.push(assemble(kept, armorMessage([await writePackets(pkesks), data]), true));
    }
    return out;
  } catch (err) {
    throw new CryptoKeyError(`cannot encrypt: ${(err as Error).message}`, { cause: err });
  }
}
