/**
 * The OpenPGP operations behind decrypt.ts: decrypt+verify one OpenPGP message, and verify a
 * detached signature over exact bytes (cleartext signatures are verified that way too, see
 * cleartext.ts). EFAIL (standards §5.11): a message without integrity protection (tag 9) or with a failed MDC yields an error and no plaintext;
 * plaintext is only returned after the whole message was read and authenticated (no streaming
 * output).
 */
import * as openpgp from 'openpgp';
import type { PrivateKey, PublicKey, VerifyMessageResult } from 'openpgp';

type VerificationResult = VerifyMessageResult['signatures'][number];
import { interopConfig } from './openpgp-config.ts';
import { isTrailingJunkError, withJsInflate } from './js-inflate.ts';

export type PgpDecryptOutcome =
  { ok: true; data: Buffer; signatures: VerificationResult[] } | { ok: false; reason: string };

export async function decryptPgp(
  armoredOrBinary: string | Uint8Array,
  decryptionKeys: PrivateKey[],
  verificationKeys: PublicKey[],
  maxDecompressed: number | undefined,
): Promise<PgpDecryptOutcome> {
  let message: openpgp.Message<Uint8Array>;
  try {
    message =
      typeof armoredOrBinary === 'string'
        ? await openpgp.readMessage({ armoredMessage: armoredOrBinary, config: interopConfig })
        : await openpgp.readMessage({ binaryMessage: armoredOrBinary, config: interopConfig });
  } catch {
    return { ok: false, reason: 'unreadable OpenPGP message' };
  }
  const tags = message.packets.map((p) => (p.constructor as unknown as { tag: number }).tag);
  if (tags.includes(openpgp.enums.packet.symmetricallyEncryptedData))
    return { ok: false, reason: 'message is not integrity protected (no MDC); refused' };
  const encrypted =
    tags.includes(openpgp.enums.packet.symEncryptedIntegrityProtectedData) ||
    tags.includes(openpgp.enums.packet.aeadEncryptedData);
  if (!encrypted) return { ok: false, reason: 'no encrypted data in OpenPGP message' };
  if (!decryptionKeys.length) return { ok: false, reason: 'no secret key available' };
  try {
    const config =
      maxDecompressed === undefined
        ? interopConfig
        : { ...interopConfig, maxDecompressedMessageSize: maxDecompressed };
    const run = (m: openpgp.Message<Uint8Array>) =>
      openpgp.decrypt({ message: m, decryptionKeys, verificationKeys, format: 'binary', config });
    let res;
    try {
      res = await run(message);
    } catch (err) {
      if (!isTrailingJunkError(err)) throw err;
      // sq's padded compression: read the message again and inflate with openpgp.js's JS inflater
      res = await withJsInflate(async () => run(await readAgain(armoredOrBinary)));
    }
    const data = res.data as Uint8Array;
    return {
      ok: true,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      signatures: res.signatures,
    };
  } catch (err) {
    return { ok: false, reason: decryptFailure((err as Error).message ?? '') };
  }
}

function readAgain(armoredOrBinary: string | Uint8Array): Promise<openpgp.Message<Uint8Array>> {
  return typeof armoredOrBinary === 'string'
    ? openpgp.readMessage({ armoredMessage: armoredOrBinary, config: interopConfig })
    : openpgp.readMessage({ binaryMessage: armoredOrBinary, config: interopConfig });
}

function decryptFailure(msg: string): string {
  if (/session key decryption failed|no (public|secret) key|could not find|decryption key/i.test(msg))
    return 'no secret key for this message';
  if (/modification detected|mdc|authentication tag|integrity/i.test(msg))
    return 'integrity check failed (message modified); refused';
  if (/not authenticated/i.test(msg)) return 'message is not integrity protected (no MDC); refused';
  if (/decompress|too large|maximum/i.test(msg)) return 'decompressed message too large; refused';
  return 'decryption failed';
}

/** Verify a detached signature (armored or binary) over exact bytes. */
export async function verifyDetached(
  data: Uint8Array,
  signature: string | Uint8Array,
  verificationKeys: PublicKey[],
): Promise<VerificationResult[] | { error: string }> {
  let sig: openpgp.Signature;
  try {
    sig =
      typeof signature === 'string'
        ? await openpgp.readSignature({ armoredSignature: signature, config: interopConfig })
        : await openpgp.readSignature({ binarySignature: signature, config: interopConfig });
  } catch {
    return { error: 'unreadable signature' };
  }
  const res = await openpgp.verify({
    message: await openpgp.createMessage({ binary: data }),
    signature: sig,
    verificationKeys,
    config: interopConfig,
  });
  return res.signatures;
}
