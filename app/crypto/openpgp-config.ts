/**
 * The maximum-interop OpenPGP settings (standards §5.10), spelled out rather than inherited from
 * openpgp.js defaults: v4 keys, no AEAD (SEIPDv1 + MDC unless every recipient advertises v2),
 * iterated+salted S2K with AES-256 for exported secrets, SHA-512/256 signatures, no compression
 * when writing, a decompression bound when reading, and unauthenticated data always refused.
 */
import * as openpgp from 'openpgp';
import type { PartialConfig } from 'openpgp';

/** Largest plaintext a compressed packet may expand to (bombs); about 2× the 25 MB message limit. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export const interopConfig: PartialConfig = {
  v6Keys: false,
  aeadProtect: false,
  s2kType: openpgp.enums.s2k.iterated,
  s2kIterationCountByte: 224,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  preferredHashAlgorithm: openpgp.enums.hash.sha512,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  allowUnauthenticatedMessages: false,
  allowUnauthenticatedStream: false,
  enableParsingV5Entities: false,
  maxDecompressedMessageSize: MAX_DECOMPRESSED_BYTES,
  rejectHashAlgorithms: new Set([openpgp.enums.hash.md5, openpgp.enums.hash.ripemd]),
};

/** Options for openpgp.generateKey that give a v4 EdDSALegacy + ECDH Curve25519Legacy key. */
export const interopKeyType = { type: 'ecc', curve: 'curve25519Legacy' } as const;

/** The OpenPGP hash id → RFC 3156 micalg name. */
export function micalgFor(hashAlgorithm: number): string {
  const name = openpgp.enums.read(openpgp.enums.hash, hashAlgorithm) as string;
  return 'pgp-' + name.toLowerCase();
}
