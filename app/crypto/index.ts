/**
 * Public API of the crypto layer (pure: keys and raw MIME bytes in, bytes and results out).
 * See pgp-mime-encrypt.ts, pgp-mime-sign.ts, decrypt.ts, served-message.ts, worker-pool.ts.
 */
export type { KeyInput } from './keys-input.ts';
export { keyAddresses } from './keys-input.ts';
export { interopConfig, interopKeyType, micalgFor, MAX_DECOMPRESSED_BYTES } from './openpgp-config.ts';
export type { EncryptOptions, EncryptedEntity } from './pgp-mime-encrypt.ts';
export { encryptMessage, encryptEntity } from './pgp-mime-encrypt.ts';
export type { SignOptions, SignedEntity } from './pgp-mime-sign.ts';
export { signMessage, signEntity } from './pgp-mime-sign.ts';
export type { DecryptOptions, DecryptResult, MessageForm, HeaderField, SignatureStatus } from './decrypt.ts';
export { decryptMessage, addressOf } from './decrypt.ts';
export { buildServedMessage, statusHeaders } from './served-message.ts';
export {
  buildProtectedPayload,
  readProtectedHeaders,
  OBSCURED_SUBJECT,
  PROTECTED_FIELDS,
} from './protected-headers.ts';
export type { CryptoEngine } from './engine.ts';
export { inlineEngine } from './engine.ts';
export type { WorkerPoolOptions } from './worker-pool.ts';
export { createWorkerPool } from './worker-pool.ts';
export { CryptoKeyError, CryptoInputError } from './errors.ts';
