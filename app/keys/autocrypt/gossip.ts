/**
 * Autocrypt-Gossip (standards §3d): receive rules, as a pure function.
 * A gossip header counts only when its addr is in To/Cc/Reply-To of the (decrypted) message and
 * the stored gossip_timestamp is not newer than the message's effective date. Sending: one header
 * per To/Cc recipient (never Bcc), with the key actually used, without prefer-encrypt.
 */
import { tryCanonicalAddress } from '../address.ts';
import type { AutocryptPeerRecord } from '../types.ts';
import { type AutocryptHeader, parseAutocryptHeader } from './header.ts';

/** Parses gossip header values and keeps those whose addr is a To/Cc/Reply-To recipient. */
export function readGossip(
  values: string[],
  recipients: string[],
): { accepted: AutocryptHeader[]; problems: string[] } {
  const allowed = new Set(
    recipients.map((r) => tryCanonicalAddress(r)).filter((x): x is string => x !== null),
  );
  const accepted: AutocryptHeader[] = [];
  const problems: string[] = [];
  for (const v of values) {
    const r = parseAutocryptHeader(v, 'Autocrypt-Gossip');
    if (!r.ok) problems.push(r.error);
    else if (!allowed.has(r.header.addr)) problems.push(`gossip for ${r.header.addr}, not a recipient`);
    else accepted.push(r.header);
  }
  return { accepted, problems };
}

/** Applies one accepted gossip header to peers[addr]. */
export function applyGossip(
  prev: AutocryptPeerRecord | null,
  header: Pick<AutocryptHeader, 'addr' | 'keydata'>,
  effDate: number,
): { peer: AutocryptPeerRecord; changed: boolean } {
  if (prev && prev.gossipTimestamp !== null && prev.gossipTimestamp > effDate)
    return { peer: prev, changed: false };
  const base: AutocryptPeerRecord = prev ?? {
    email: header.addr,
    lastSeen: 0,
    autocryptTimestamp: null,
    publicKey: null,
    preferEncrypt: 'nopreference',
    gossipTimestamp: null,
    gossipKey: null,
  };
  return { peer: { ...base, gossipTimestamp: effDate, gossipKey: header.keydata }, changed: true };
}
