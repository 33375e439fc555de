/**
 * Syntax checks for envelope addresses (pure). Domain existence is the port's business
 * (`SubmissionPort.checkRecipient`); here only what can never be delivered is refused.
 */
import { domainToASCII } from 'node:url';

export type AddressProblem = string | null;

/** Returns null when the address can be used as a recipient, else the reason. */
export function recipientProblem(address: string, smtpUtf8: boolean): AddressProblem {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'not a valid address (local-part@domain expected)';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return 'local part longer than 64 octets';
  if (!smtpUtf8 && /[^\x20-\x7e]/.test(local)) return 'non-ASCII local part needs SMTPUTF8';
  return domainProblem(domain, smtpUtf8);
}

export function domainProblem(domain: string, smtpUtf8: boolean): AddressProblem {
  if (domain.startsWith('[') && domain.endsWith(']')) return null; // address literal
  if (!smtpUtf8 && /[^\x20-\x7e]/.test(domain))
    return 'non-ASCII domain needs SMTPUTF8 (or use its xn-- form)';
  const ascii = domainToASCII(domain.toLowerCase());
  if (!ascii) return `invalid domain "${domain}"`;
  if (ascii.length > 253) return 'domain longer than 253 octets';
  const labels = ascii.split('.');
  for (const l of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) return `invalid domain "${domain}"`;
  }
  if (labels.length < 2 && ascii !== 'localhost')
    return `unknown domain "${domain}" (not a fully qualified domain)`;
  const tld = labels[labels.length - 1]!;
  if (tld === 'invalid') return `unknown domain "${domain}" (.invalid never exists)`;
  if (/^[0-9]+$/.test(tld)) return `invalid domain "${domain}"`;
  return null;
}
