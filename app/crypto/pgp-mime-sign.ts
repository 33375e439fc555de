/**
 * Sign-only PGP/MIME (RFC 3156 §5, standards §1b): multipart/signed with micalg equal to the hash
 * actually used, the signed entity made 7-bit safe and CRLF-canonical, and the signature part
 * named `OpenPGP_signature.asc` like Thunderbird's. Like Thunderbird, the signed entity carries a
 * protected-headers="v1" wrapper with the (visible) header fields unless disabled.
 */
import * as openpgp from 'openpgp';
import type { KeyInput } from './keys-input.ts';
import { toPrivateKeys } from './keys-input.ts';
import { interopConfig, micalgFor } from './openpgp-config.ts';
import { CryptoInputError, CryptoKeyError } from './errors.ts';
import { splitMessage } from './message-parts.ts';
import { buildProtectedPayload, PROTECTED_FIELDS } from './protected-headers.ts';
import { makeSevenBitSafe } from './seven-bit.ts';
import { buildMultipartBody, foldField, freshBoundary, rawField } from '../mime/build.ts';
import type { RawHeader } from '../mime/entity.ts';
import { normalizeCrlf } from '../mime/crlf.ts';
import { encodeWords } from '../mime/encoded-words.ts';

export interface SignOptions {
  /** The sender's unlocked private key (the first usable one signs). */
  signingKeys: readonly KeyInput[];
  /** Wrap the content with protected-headers="v1" (default true, as Thunderbird). */
  protectedHeaders?: boolean;
  /** Signature time (tests). */
  date?: Date;
}

export interface SignedEntity {
  /** the full Content-Type header value of the multipart/signed entity */
  contentType: string;
  /** e.g. 'pgp-sha512' */
  micalg: string;
  /** the multipart/signed body, CRLF */
  body: Buffer;
}

/** Sign a MIME entity (headers + body); it is made 7-bit safe and CRLF first. */
export async function signEntity(entity: Buffer, opts: SignOptions): Promise<SignedEntity> {
  const signingKeys = await toPrivateKeys(opts.signingKeys);
  if (!signingKeys.length) throw new CryptoInputError('no signing key given');
  const signed = makeSevenBitSafe(normalizeCrlf(entity));
  let armored: string;
  try {
    armored = await openpgp.sign({
      message: await openpgp.createMessage({ binary: signed }),
      signingKeys,
      detached: true,
      format: 'armored',
      config: interopConfig,
      ...(opts.date ? { date: opts.date } : {}),
    });
  } catch (err) {
    throw new CryptoKeyError(`cannot sign: ${(err as Error).message}`, { cause: err });
  }
  const sig = await openpgp.readSignature({ armoredSignature: armored });
  const hashes = sig.packets.map((p) => p.hashAlgorithm).filter((h): h is number => typeof h === 'number');
  const micalg = micalgFor(hashes[0] ?? openpgp.enums.hash.sha512);
  const armor = normalizeCrlf(Buffer.from(armored, 'utf8'));
  const boundary = freshBoundary(signed, armor);
  const sigHead = Buffer.from(
    'Content-Type: application/pgp-signature; name="OpenPGP_signature.asc"\r\n' +
      'Content-Description: OpenPGP digital signature\r\n' +
      'Content-Disposition: attachment; filename="OpenPGP_signature.asc"\r\n\r\n',
  );
  const body = buildMultipartBody(
    boundary,
    [signed, [sigHead, armor]],
    'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)',
  );
  return {
    contentType: `multipart/signed; micalg=${micalg};\r\n protocol="application/pgp-signature";\r\n boundary="${boundary}"`,
    micalg,
    body,
  };
}

/** Signed bytes must be 7-bit: a raw UTF-8 Subject is RFC 2047-encoded (other fields are left as given). */
function sevenBitField(h: RawHeader): RawHeader {
  if (h.lname !== 'subject' || /^[\x00-\x7f]*$/.test(h.value)) return h;
  const value = encodeWords(h.value);
  return { ...h, value, raw: Buffer.from(foldField(h.name, value)) };
}

/** Sign a full message: transport headers (Bcc dropped) + multipart/signed. */
export async function signMessage(raw: Buffer, opts: SignOptions): Promise<Buffer> {
  const { transport, entity } = splitMessage(raw);
  const kept = transport.filter((h) => h.lname !== 'bcc' && !h.lname.startsWith('x-lockbridge-'));
  const inner =
    (opts.protectedHeaders ?? true)
      ? buildProtectedPayload(
          entity,
          kept.filter((h) => (PROTECTED_FIELDS as readonly string[]).includes(h.lname)).map(sevenBitField),
          [],
        )
      : entity;
  const s = await signEntity(inner, opts);
  return Buffer.concat([
    ...kept.map(rawField),
    Buffer.from('MIME-Version: 1.0\r\n'),
    Buffer.from(`Content-Type: ${s.contentType}\r\n\r\n`),
    s.body,
  ]);
}
