/**
 * Address canonicalization (Autocrypt Level 1 appendix): the domain is converted to IDNA ASCII
 * and lowercased, the local part is lowercased. Used as the key of every keyring record.
 */
import { domainToASCII } from 'node:url';
import { UserError } from '../shared/errors.ts';

const SIMPLE_ADDR = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+$/;

/** Strips a display name / angle brackets: `Bob <Bob@Example.org>` → `Bob@Example.org`. */
export function bareAddress(input: string): string {
  const m = /<([^<>]*)>\s*$/.exec(input);
  return (m ? m[1]! : input).trim();
}

/** Canonical form of an address, or null when it is not a plausible single address. */
export function tryCanonicalAddress(input: string): string | null {
  const addr = bareAddress(input);
  if (!SIMPLE_ADDR.test(addr)) return null;
  const at = addr.lastIndexOf('@');
  const local = addr.slice(0, at);
  const domain = domainToASCII(addr.slice(at + 1).toLowerCase());
  if (!domain || !local) return null;
  return `${local.toLowerCase()}@${domain.toLowerCase()}`;
}

/** Canonical form of an address; throws a UserError naming the bad input. */
export function canonicalAddress(input: string): string {
  const c = tryCanonicalAddress(input);
  if (c === null) throw new UserError('bad-address', `not a valid e-mail address: ${JSON.stringify(input)}`);
  return c;
}

export function splitAddress(addr: string): { local: string; domain: string } {
  const at = addr.lastIndexOf('@');
  return { local: addr.slice(0, at), domain: addr.slice(at + 1) };
}
