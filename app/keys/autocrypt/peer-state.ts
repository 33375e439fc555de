/**
 * Autocrypt Level 1 peer-state update rules (standards §3b), as pure functions.
 *
 * Skipped messages: multipart/report, not exactly one From address, spam. More than one valid
 * Autocrypt header is an error: all are discarded (the message then counts as header-less).
 * The effective date is the Date header, or the receive time when Date is missing or in the future.
 */
import { tryCanonicalAddress } from '../address.ts';
import type { AutocryptPeerRecord } from '../types.ts';
import { type AutocryptHeader, parseAutocryptHeader } from './header.ts';

export interface IncomingMessageFacts {
  /** Addresses in From (raw or canonical). */
  from: string[];
  /** Lowercase 'type/subtype' of the message root. */
  contentType: string;
  /** Date header in ms, null when missing/invalid. */
  date: number | null;
  receivedAt: number;
  /** Raw values of every `Autocrypt:` header field, in order. */
  autocryptHeaders: string[];
  isSpam?: boolean;
}

export type IncomingAutocrypt =
  | { skip: true; reason: string }
  | { skip: false; addr: string; effectiveDate: number; header: AutocryptHeader | null; problems: string[] };

export function effectiveDate(date: number | null, receivedAt: number): number {
  return date === null || !Number.isFinite(date) || date > receivedAt ? receivedAt : date;
}

/** Applies the skip rules and header validity rules (addr must equal From; at most one valid header). */
export function readIncomingAutocrypt(m: IncomingMessageFacts): IncomingAutocrypt {
  if (m.contentType.toLowerCase() === 'multipart/report') return { skip: true, reason: 'multipart/report' };
  if (m.isSpam) return { skip: true, reason: 'spam' };
  if (m.from.length !== 1) return { skip: true, reason: 'not exactly one From address' };
  const addr = tryCanonicalAddress(m.from[0]!);
  if (!addr) return { skip: true, reason: 'invalid From address' };
  const problems: string[] = [];
  const valid: AutocryptHeader[] = [];
  for (const raw of m.autocryptHeaders) {
    const r = parseAutocryptHeader(raw);
    if (!r.ok) problems.push(r.error);
    else if (r.header.addr !== addr) problems.push('addr does not match From');
    else valid.push(r.header);
  }
  if (valid.length > 1) problems.push('more than one valid Autocrypt header: all discarded');
  return {
    skip: false,
    addr,
    effectiveDate: effectiveDate(m.date, m.receivedAt),
    header: valid.length === 1 ? valid[0]! : null,
    problems,
  };
}

export interface PeerUpdate {
  peer: AutocryptPeerRecord | null;
  changed: boolean;
  /** public_key was set from this message (new or same key re-announced). */
  keyUpdated: boolean;
}

/**
 * The spec's update algorithm for peers[addr]. A header-less message from an unknown peer does
 * not create an entry (it could only hold last_seen, and "no entry" already means disable).
 */
export function updatePeer(
  prev: AutocryptPeerRecord | null,
  addr: string,
  effDate: number,
  header: Pick<AutocryptHeader, 'keydata' | 'preferEncrypt'> | null,
): PeerUpdate {
  if (prev && prev.autocryptTimestamp !== null && effDate < prev.autocryptTimestamp)
    return { peer: prev, changed: false, keyUpdated: false };
  if (!prev && !header) return { peer: null, changed: false, keyUpdated: false };
  const base: AutocryptPeerRecord = prev ?? {
    email: addr,
    lastSeen: effDate,
    autocryptTimestamp: null,
    publicKey: null,
    preferEncrypt: 'nopreference',
    gossipTimestamp: null,
    gossipKey: null,
  };
  let next = base;
  let changed = !prev;
  if (effDate > base.lastSeen) {
    next = { ...next, lastSeen: effDate };
    changed = true;
  }
  if (!header) return { peer: next, changed, keyUpdated: false };
  next = {
    ...next,
    autocryptTimestamp: effDate,
    publicKey: header.keydata,
    preferEncrypt: header.preferEncrypt,
  };
  return { peer: next, changed: true, keyUpdated: true };
}
