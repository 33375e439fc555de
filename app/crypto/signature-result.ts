/**
 * Turning openpgp.js verification results into the bridge's signature status: valid, invalid,
 * unknown-key (no public key for any signer) or none; the signer's primary fingerprint and the
 * signer UID addresses, so callers can flag a From mismatch (standards §5.16).
 */
import type { PublicKey, VerifyMessageResult } from 'openpgp';

type VerificationResult = VerifyMessageResult['signatures'][number];
import { keyAddresses } from './keys-input.ts';
import { micalgFor } from './openpgp-config.ts';

export type SignatureStatus = 'valid' | 'invalid' | 'unknown-key' | 'none';

export interface SignatureOutcome {
  signature: SignatureStatus;
  /** uppercase hex primary-key fingerprint of the key that made the valid (or invalid) signature */
  signerFingerprint?: string;
  /** uppercase 16-hex key IDs of every signature found */
  signerKeyIds: string[];
  /** lowercase addresses in the signer key's user IDs */
  signerAddresses: string[];
  /** why verification failed (library message, never content) */
  detail?: string;
  /** RFC 3156 micalg name of the valid signature's hash ('pgp-sha256', ...) */
  micalg?: string;
}

export const NO_SIGNATURE: SignatureOutcome = { signature: 'none', signerKeyIds: [], signerAddresses: [] };

export async function evaluateSignatures(
  results: readonly VerificationResult[],
  keys: readonly PublicKey[],
): Promise<SignatureOutcome> {
  if (!results.length) return { ...NO_SIGNATURE, signerKeyIds: [] };
  const keyIds = Array.from(results, (r) => r.keyID.toHex().toUpperCase());
  let invalid: SignatureOutcome | null = null;
  let unknown = false;
  for (const r of results) {
    const key = keys.find((k) => k.getKeys(r.keyID).length > 0);
    try {
      await r.verified;
      if (!key) continue;
      const hash = (await r.signature).packets[0]?.hashAlgorithm;
      return {
        signature: 'valid',
        signerFingerprint: key.getFingerprint().toUpperCase(),
        signerKeyIds: keyIds,
        signerAddresses: keyAddresses(key),
        ...(typeof hash === 'number' ? { micalg: micalgFor(hash) } : {}),
      };
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (!key || /could not find signing key/i.test(msg)) {
        unknown = true;
        continue;
      }
      invalid ??= {
        signature: 'invalid',
        signerFingerprint: key.getFingerprint().toUpperCase(),
        signerKeyIds: keyIds,
        signerAddresses: keyAddresses(key),
        detail: msg,
      };
    }
  }
  if (invalid) return invalid;
  return { signature: unknown ? 'unknown-key' : 'invalid', signerKeyIds: keyIds, signerAddresses: [] };
}
