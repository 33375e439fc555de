/**
 * Autocrypt Setup Messages through the bridge: `send` puts a new one (encrypted to a fresh
 * 36-digit setup code) into the user's own Inbox, from where sync carries it to the provider and
 * so to the user's other devices; `import` takes the Setup Messages in the Inbox on this device
 * that the account sent to itself (From and To its own address: one from anyone else is never an
 * own key) and tries each, newest first, with the code the user typed in — a newer one, or one
 * planted by someone else, never stops the right code from opening an older one.
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

/** The account's own Setup Messages in its Inbox, newest first (the latest SCAN_LIMIT messages). */
export function findSetupMessages(store: Store, email: string): Buffer[] {
  const account = store.accounts.require(email);
  const self = account.email.toLowerCase();
  const inbox = store.mailboxes.getByName(account.id, 'INBOX');
  if (!inbox) return [];
  const uids = store.messages.uids(inbox.id).slice(-SCAN_LIMIT);
  const rows = store.messages.fetchRows(inbox.id, uids, { head: true });
  const out: Buffer[] = [];
  for (let i = rows.length - 1; i >= 0 && out.length < TRY_LIMIT; i--) {
    const row = rows[i]!;
    if (row.head && fromSelfToSelf(row.head, self)) out.push(store.messages.raw(row.blobId));
  }
  return out;
}

export async function importSetupMessageFromInbox(
  store: Store,
  keyring: Keyring,
  email: string,
  setupCode: string,
): Promise<string> {
  const account = store.accounts.require(email);
  const candidates = findSetupMessages(store, account.email);
  if (!candidates.length)
    throw new NotFoundError(`Autocrypt Setup Message from ${account.email} to itself in its Inbox`);
  // what went wrong with a message the code did open beats "the code opens none of them"
  let opened: UserError | null = null;
  for (const raw of candidates) {
    const text = raw.toString('utf8');
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
    opened ?? new UserError('bad-setup-code', 'the setup code does not open any Setup Message in the Inbox')
  );
}
