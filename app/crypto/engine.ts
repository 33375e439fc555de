/**
 * One API for the crypto operations, run either in this thread (`inlineEngine`) or on a pool of
 * worker threads (`createWorkerPool`, worker-pool.ts) so many messages use every core.
 */
import type { DecryptOptions, DecryptResult } from './decrypt.ts';
import { decryptMessage } from './decrypt.ts';
import type { EncryptOptions } from './pgp-mime-encrypt.ts';
import { encryptMessage } from './pgp-mime-encrypt.ts';
import type { SignOptions } from './pgp-mime-sign.ts';
import { signMessage } from './pgp-mime-sign.ts';
import type { SmimeCopiesOptions } from './smime-write.ts';
import { smimeCopies } from './smime-write.ts';

export interface CryptoEngine {
  decryptMessage(raw: Buffer, opts: DecryptOptions): Promise<DecryptResult>;
  encryptMessage(raw: Buffer, opts: EncryptOptions): Promise<Buffer>;
  signMessage(raw: Buffer, opts: SignOptions): Promise<Buffer>;
  /** S/MIME sign-then-encrypt, one message per copy (smime-write.ts). */
  smimeCopies(raw: Buffer, opts: SmimeCopiesOptions): Promise<Buffer[]>;
  /** Stop worker threads (no-op in-thread); pending jobs are rejected. */
  close(): Promise<void>;
}

export const inlineEngine: CryptoEngine = {
  decryptMessage,
  encryptMessage,
  signMessage,
  async smimeCopies(raw, opts) {
    return smimeCopies(raw, opts);
  },
  async close() {},
};
