/**
 * Object identifiers (IMAP OBJECTID, RFC 8474; schema 8): random, so they reveal nothing of what
 * they name and are never reused — 96 bits in hex after a letter (`F` mailboxes, `M` messages,
 * `T` threads: thread-ids.ts).
 */
import { randomBytes } from 'node:crypto';

export function newObjectId(prefix: 'F' | 'M' | 'T'): string {
  return prefix + randomBytes(12).toString('hex');
}
