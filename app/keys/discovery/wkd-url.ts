/**
 * WKD URLs (draft-koch-openpgp-webkey-service, standards §4a): hash = zbase32(SHA-1(local part
 * with ASCII A-Z lowercased)); advanced method on openpgpkey.<domain>, direct method on <domain>;
 * `l=` carries the original local part, percent-encoded.
 */
import { createHash } from 'node:crypto';
import { zbase32 } from './zbase32.ts';

export function wkdHash(localPart: string): string {
  const lowered = localPart.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return zbase32(createHash('sha1').update(Buffer.from(lowered, 'utf8')).digest());
}

function split(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) throw new Error(`not an e-mail address: ${address}`);
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

export function wkdAdvancedUrl(address: string): string {
  const { local, domain } = split(address);
  return `https://openpgpkey.${domain}/.well-known/openpgpkey/${domain}/hu/${wkdHash(local)}?l=${encodeURIComponent(local)}`;
}

export function wkdDirectUrl(address: string): string {
  const { local, domain } = split(address);
  return `https://${domain}/.well-known/openpgpkey/hu/${wkdHash(local)}?l=${encodeURIComponent(local)}`;
}
