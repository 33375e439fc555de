/** Typed errors of the crypto layer (mapped to user messages by the callers' front-ends). */
import { UserError } from '../shared/errors.ts';

/** A key given to an operation is unusable (unparseable, no encryption/signing subkey, locked). */
export class CryptoKeyError extends UserError {
  override name = 'CryptoKeyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('crypto-key', message, options);
  }
}

/** The message given to encrypt or sign is not a usable MIME message. */
export class CryptoInputError extends UserError {
  override name = 'CryptoInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('crypto-input', message, options);
  }
}
