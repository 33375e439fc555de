/**
 * Which kind of OpenPGP message is this (looking only at the ROOT, standards §5.12)? PGP/MIME
 * encrypted (§1.3), the Exchange-mangled variant (§1.6), inline armored text/plain (§1c),
 * cleartext-signed text/plain, PGP/MIME signed (§1b), or plain. Encrypted parts nested below
 * other parts are reported but never decrypted.
 */
import type { MediaType } from '../mime/params.ts';
import { mediaType } from '../mime/params.ts';
import type { RawEntity } from '../mime/entity.ts';
import { parseEntity, splitParts, walkEntity } from '../mime/entity.ts';
import { decodeTransfer } from '../mime/transfer-encoding.ts';
import { decodeCharset } from '../mime/charset.ts';

export type Structure =
  | { kind: 'pgp-mime'; armored: string; exchange: boolean }
  | { kind: 'pgp-mime-malformed'; reason: string }
  | { kind: 'inline-encrypted'; armored: string; charset: string }
  | { kind: 'inline-signed'; bytes: Buffer }
  | {
      kind: 'pgp-mime-signed';
      signedPart: Buffer;
      signature: string | Uint8Array;
      micalg: string | undefined;
    }
  | { kind: 'smime'; der: Buffer }
  | { kind: 'smime-signed'; signedPart: Buffer; der: Buffer; micalg: string | undefined }
  | { kind: 'plain'; nestedEncrypted: boolean };

const BEGIN_MSG = '-----BEGIN PGP MESSAGE-----';
const END_MSG = '-----END PGP MESSAGE-----';
const BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const END_SIG = '-----END PGP SIGNATURE-----';

function ctOf(e: RawEntity): MediaType {
  return mediaType(e.headers.find((h) => h.lname === 'content-type')?.value);
}
function cteOf(e: RawEntity): string {
  return (e.headers.find((h) => h.lname === 'content-transfer-encoding')?.value ?? '7bit').toLowerCase();
}
function partsOf(e: RawEntity, boundary: string): RawEntity[] {
  return splitParts(e.body, boundary).parts.map((r) => parseEntity(e.body.subarray(r.start, r.end)));
}
function decodedText(e: RawEntity, charset = 'utf-8'): string {
  return decodeCharset(decodeTransfer(e.body, cteOf(e)), charset);
}
function isVersionPart(e: RawEntity): boolean {
  return ctOf(e).mime === 'application/pgp-encrypted' && /^\s*Version:\s*1\s*$/im.test(decodedText(e));
}
function armoredIn(e: RawEntity): string | null {
  const t = decodedText(e).trim();
  return t.startsWith(BEGIN_MSG) && t.endsWith(END_MSG) ? t : null;
}

export function detectStructure(msg: Buffer, depth = 0): Structure {
  const root = parseEntity(msg);
  const ct = ctOf(root);
  const boundary = ct.params['boundary'];

  // The sole child of a multipart (nothing beside it) counts as the root, e.g. a list wrapper.
  if (
    ct.mime.startsWith('multipart/') &&
    !/^multipart\/(encrypted|signed)$/.test(ct.mime) &&
    boundary &&
    depth < 3
  ) {
    const split = splitParts(root.body, boundary);
    const only = split.parts.length === 1 ? split.parts[0]! : null;
    if (only) {
      const inner = detectStructure(root.body.subarray(only.start, only.end), depth + 1);
      if (inner.kind !== 'plain') return inner;
    }
  }

  // S/MIME (RFC 8551 §3.2): application/pkcs7-mime (enveloped, authEnveloped or opaque signed;
  // smime-type is only a hint, the CMS content type decides), the x- form older clients write, and
  // Outlook's octet-stream named *.p7m.
  if (
    ct.mime === 'application/pkcs7-mime' ||
    ct.mime === 'application/x-pkcs7-mime' ||
    (ct.mime === 'application/octet-stream' && /\.p7m$/i.test(ct.params['name'] ?? ''))
  )
    return { kind: 'smime', der: decodeTransfer(root.body, cteOf(root)) };
  if (
    ct.mime === 'multipart/signed' &&
    boundary &&
    /^application\/(x-)?pkcs7-signature$/.test((ct.params['protocol'] ?? '').toLowerCase())
  ) {
    const split = splitParts(root.body, boundary);
    if (split.parts.length === 2) {
      const r1 = split.parts[0]!;
      const sigPart = parseEntity(root.body.subarray(split.parts[1]!.start, split.parts[1]!.end));
      return {
        kind: 'smime-signed',
        signedPart: root.body.subarray(r1.start, r1.end),
        der: decodeTransfer(sigPart.body, cteOf(sigPart)),
        micalg: ct.params['micalg'],
      };
    }
  }

  if (ct.mime === 'multipart/encrypted') {
    if ((ct.params['protocol'] ?? '').toLowerCase() !== 'application/pgp-encrypted' || !boundary)
      return { kind: 'plain', nestedEncrypted: false };
    const parts = partsOf(root, boundary);
    if (parts.length !== 2 || !isVersionPart(parts[0]!))
      return {
        kind: 'pgp-mime-malformed',
        reason: 'malformed PGP/MIME: expected a "Version: 1" part and one data part',
      };
    const armored = armoredIn(parts[1]!);
    if (!armored)
      return { kind: 'pgp-mime-malformed', reason: 'malformed PGP/MIME: no armored OpenPGP message' };
    return { kind: 'pgp-mime', armored, exchange: false };
  }

  if (ct.mime === 'multipart/mixed' && boundary) {
    // Exchange/Outlook mangling (§1.6): [empty text/plain], application/pgp-encrypted "Version: 1",
    // application/octet-stream "encrypted.asc" — in exactly that shape.
    const parts = partsOf(root, boundary);
    const rest = parts.length === 3 && isBlankText(parts[0]!) ? parts.slice(1) : parts;
    if (rest.length === 2 && isVersionPart(rest[0]!) && ctOf(rest[1]!).mime === 'application/octet-stream') {
      const armored = armoredIn(rest[1]!);
      if (armored) return { kind: 'pgp-mime', armored, exchange: true };
    }
  }

  if (ct.mime === 'text/plain') {
    const charset = ct.params['charset'] ?? 'utf-8';
    const text = decodedText(root, charset).trim();
    if (text.startsWith(BEGIN_MSG) && text.endsWith(END_MSG))
      return { kind: 'inline-encrypted', armored: text, charset };
    if (text.startsWith(BEGIN_SIGNED) && text.endsWith(END_SIG))
      return { kind: 'inline-signed', bytes: decodeTransfer(root.body, cteOf(root)) };
  }

  if (
    ct.mime === 'multipart/signed' &&
    boundary &&
    (ct.params['protocol'] ?? '').toLowerCase() === 'application/pgp-signature'
  ) {
    const split = splitParts(root.body, boundary);
    if (split.parts.length === 2) {
      const r1 = split.parts[0]!;
      const sigPart = parseEntity(root.body.subarray(split.parts[1]!.start, split.parts[1]!.end));
      const sigBytes = decodeTransfer(sigPart.body, cteOf(sigPart));
      const sigText = sigBytes.toString('latin1');
      const signature = sigText.includes('-----BEGIN PGP SIGNATURE-----')
        ? sigText.trim()
        : new Uint8Array(sigBytes);
      return {
        kind: 'pgp-mime-signed',
        signedPart: root.body.subarray(r1.start, r1.end),
        signature,
        micalg: ct.params['micalg'],
      };
    }
  }
  return { kind: 'plain', nestedEncrypted: hasNestedEncrypted(msg) };
}

function isBlankText(e: RawEntity): boolean {
  return ctOf(e).mime === 'text/plain' && decodedText(e).trim() === '';
}

/** Is there an encrypted part anywhere below the root (EFAIL shapes; never decrypted)? */
function hasNestedEncrypted(msg: Buffer): boolean {
  let found = false;
  walkEntity(msg, (n) => {
    if (found) return false;
    if (n.ct.mime === 'multipart/encrypted' || n.ct.mime === 'application/pgp-encrypted') found = true;
    else if (n.ct.mime.startsWith('text/') || n.ct.mime === 'application/octet-stream') {
      // Only the start of large bodies is looked at: this is a note for the user, nothing is decrypted.
      const head = n.entity.body.subarray(0, n.cte === 'base64' ? 16_384 : 65_536);
      const bytes =
        n.entity.body.length > head.length && n.cte === 'base64' ? decodeTransfer(head, n.cte) : null;
      found = (bytes ?? decodeTransfer(n.entity.body, n.cte)).includes(BEGIN_MSG);
    }
    return !found;
  });
  return found;
}
