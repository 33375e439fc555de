/**
 * PKCE (RFC 7636, S256 only) and the `state` value of an authorization request. No I/O: the random
 * bytes come from node:crypto's CSPRNG (or, in tests, from the caller).
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Pkce {
  /** 43 characters of base64url (32 random octets), RFC 7636 section 4.1. */
  verifier: string;
  /** BASE64URL(SHA256(ASCII(verifier))), section 4.2. */
  challenge: string;
  method: 'S256';
}

export function s256Challenge(verifier: string): string {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier))
    throw new RangeError('a PKCE code verifier is 43-128 unreserved characters');
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A new verifier and its challenge; `octets` only for tests (RFC 7636 appendix B). */
export function createPkce(octets: Uint8Array = randomBytes(32)): Pkce {
  const verifier = Buffer.from(octets).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier), method: 'S256' };
}

/** An unguessable `state` (128 bits, base64url). */
export function createState(): string {
  return randomBytes(16).toString('base64url');
}
