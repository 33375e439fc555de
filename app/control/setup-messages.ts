/**
 * Autocrypt Setup Messages through the bridge: `send` puts a new one (encrypted to a fresh
 * 36-digit setup code) into the user's own Inbox, from where sync carries it to the provider and
 * so to the user's other devices; `import` takes the Setup Messages in the Inbox on this device
 * that the account sent to itself (From and To its own address: one from anyone else is never an
 * own key) and tries each, newest first, with the code the user typed in — a newer one, or one
 * planted by someone else, never stops the right code from opening an older one. A Setup Message
 * whose body was evicted from the local body cache is fetched from the provider when it is tried.
 */
import { analyzeMessage } from '../mime/analyze.ts';
import { addressesOf } from '../mime/address.ts';
import { firstValue, parseHeaderBlock } from '../mime/header-block.ts';
import { importSetupMessage, isSetupMessage, parseSetupMessage } from '../keys/autocrypt/setup-message.ts';
import { createSetupMessage } from '../outgoing/setup-message.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { Store } from '../store/store.ts';
import { NotFoundError, UserError } from '../shared/errors.ts';

/** How many of the newest Inbox messages are looked at (header blocks only). */
const SCAN_LIMIT = 2000;
/** How many candidates are tried with a code (each costs an S2K derivation, ~0.1–0.5 s). */
const TRY_LIMIT = 20;

export async function sendSetupMessage(
  store: Store,
  keyring: Keyring,
  email: string,
): Promise<{ setupCode: string }> {
  const account = store.accounts.require(email);
  const created = await createSetupMessage(keyring, account.email);
  const raw = Buffer.from(created.raw, 'utf8');
  const inbox = store.mailboxes.ensure(account.id, 'INBOX');
  store.messages.insert(inbox.id, { raw, analysis: analyzeMessage(raw) });
  return { setupCode: created.setupCode };
}

function addresses(value: string | null): string[] {
  return value === null ? [] : addressesOf(value).map((a) => a.toLowerCase());
}

/** A Setup Message the account sent to itself: its one From address is the account's, and so is a To address. */
function fromSelfToSelf(head: Buffer, self: string): boolean {
  if (!isSetupMessage(head)) return false;
  const block = parseHeaderBlock(head, 0, head.length);
  const from = addresses(firstValue(head, block, 'from'));
  const to = addresses(firstValue(head, block, 'to'));
  return from.length === 1 && from[0] === self && to.includes(self);
}

/** A Setup Message found in the Inbox: where it is, and its bytes when they are stored locally. */
interface Candidate {
  mailboxId: number;
  uid: number;
  /** null: evicted from the local body cache (fetched from the provider when it is tried) */
  raw: Buffer | null;
}

/** Brings evicted bodies back from the provider (the account's sync engine); resolves with the UIDs that could not be had. */
export type FetchBodies = (mailboxId: number, uids: readonly number[]) => Promise<{ failed: number[] }>;

/** The account's own Setup Messages in its Inbox, newest first (the latest SCAN_LIMIT messages). */
export function findSetupMessages(store: Store, email: string): Candidate[] {
  const account = store.accounts.require(email);
  const self = account.email.toLowerCase();
  const inbox = store.mailboxes.getByName(account.id, 'INBOX');
  if (!inbox) return [];
  const uids = store.messages.uids(inbox.id).slice(-SCAN_LIMIT);
  const rows = store.messages.fetchRows(inbox.id, uids, { head: true });
  const out: Candidate[] = [];
  for (let i = rows.length - 1; i >= 0 && out.length < TRY_LIMIT; i--) {
    const row = rows[i]!;
    if (!row.head || !fromSelfToSelf(row.head, self)) continue;
    const evicted = store.messages.bodyEvicted(row.blobId);
    out.push({ mailboxId: inbox.id, uid: row.uid, raw: evicted ? null : store.messages.raw(row.blobId) });
  }
  return out;
}

/**
 * The bytes of a candidate: stored, or (evicted from the body cache) fetched from the provider on
 * demand as a client's FETCH would. Throws a UserError 'unavailable' saying why it cannot be had.
 */
async function bytesOf(store: Store, c: Candidate, fetchBodies: FetchBodies | undefined): Promise<Buffer> {
  if (c.raw) return c.raw;
  const why = 'an Autocrypt Setup Message in the Inbox is not stored locally (evicted from the body cache)';
  if (!fetchBodies)
    throw new UserError(
      'unavailable',
      `${why}: start the bridge online to import it (it is fetched from the provider)`,
    );
  let failed: number[];
  try {
    failed = (await fetchBodies(c.mailboxId, [c.uid])).failed;
  } catch (err) {
    throw new UserError(
      'unavailable',
      `${why} and the provider could not be asked: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const row = store.messages.get(c.mailboxId, c.uid);
  if (failed.includes(c.uid) || !row || store.messages.bodyEvicted(row.blobId))
    throw new UserError('unavailable', `${why} and the provider did not give it back`);
  return store.messages.raw(row.blobId);
}

export async function importSetupMessageFromInbox(
  store: Store,
  keyring: Keyring,
  email: string,
  setupCode: string,
  fetchBodies?: FetchBodies,
): Promise<string> {
  const account = store.accounts.require(email);
  const candidates = findSetupMessages(store, account.email);
  if (!candidates.length)
    throw new NotFoundError(`Autocrypt Setup Message from ${account.email} to itself in its Inbox`);
  // what went wrong with a message the code did open beats "one could not be read", which beats
  // "the code opens none of them"
  let opened: UserError | null = null;
  let unavailable: UserError | null = null;
  for (const c of candidates) {
    let text: string;
    try {
      text = (await bytesOf(store, c, fetchBodies)).toString('utf8');
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      unavailable ??= err;
      continue;
    }
    try {
      parseSetupMessage(text);
    } catch {
      continue; // malformed: nothing a code could open
    }
    try {
      const rec = await importSetupMessage(keyring, text, setupCode, {
        forAddress: account.email,
      });
      return rec.fingerprint;
    } catch (err) {
      if (err instanceof UserError && err.code !== 'bad-setup-code') opened ??= err;
    }
  }
  throw (
    opened ??
    unavailable ??
    new UserError('bad-setup-code', 'the setup code does not open any Setup Message in the Inbox')
  );
}
