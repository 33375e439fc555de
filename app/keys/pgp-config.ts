/**
 * The maximum-interoperability OpenPGP settings (standards §5.10): v4 keys, Curve25519Legacy,
 * SEIPDv1 (no AEAD), iterated+salted S2K, AES-256. Passed explicitly to every openpgp call that
 * creates something, so nothing depends on library defaults.
 */
import * as openpgp from 'openpgp';

export const INTEROP_CONFIG: openpgp.PartialConfig = {
  v6Keys: false,
  aeadProtect: false,
  s2kType: openpgp.enums.s2k.iterated,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  preferredHashAlgorithm: openpgp.enums.hash.sha512,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  allowUnauthenticatedMessages: false,
  allowUnauthenticatedStream: false,
};

/** Generation parameters for own keys: EdDSALegacy primary + ECDH Curve25519Legacy subkey. */
export const OWN_KEY_TYPE = { type: 'ecc', curve: 'curve25519Legacy' } as const;

/** Default lifetime of a generated own key (renewal extends it before it runs out). */
export const DEFAULT_OWN_KEY_DAYS = 3 * 365;
