/**
 * Autocrypt Setup Messages through the bridge: `send` puts a new one (encrypted to a fresh
 * 36-digit setup code) into the user's own Inbox, from where sync carries it to the provider and
 * so to the user's other devices; `import` finds the newest one in the Inbox on this device and
 * imports its key with the code the user typed in.
 */
import { analyzeMessage } from '../mime/analyze.ts';
import { createSetupMessage, importSetupMessage, isSetupMessage } from '../keys/autocrypt/setup-message.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { Store } from '../store/store.ts';
import { NotFoundError, UserError } from '../shared/errors.ts';

const SCAN_LIMIT = 2000;

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

/** The newest Setup Message in the account's Inbox (scanning the latest SCAN_LIMIT messages). */
export function findSetupMessage(store: Store, email: string): Buffer | null {
  const account = store.accounts.require(email);
  const inbox = store.mailboxes.getByName(account.id, 'INBOX');
  if (!inbox) return null;
  const uids = store.messages.uids(inbox.id);
  for (let i = uids.length - 1; i >= Math.max(0, uids.length - SCAN_LIMIT); i--) {
    const raw = store.messages.rawByUid(inbox.id, uids[i] as number);
    if (raw && isSetupMessage(raw)) return raw;
  }
  return null;
}

export async function importSetupMessageFromInbox(
  store: Store,
  keyring: Keyring,
  email: string,
  setupCode: string,
): Promise<string> {
  const raw = findSetupMessage(store, email);
  if (!raw) throw new NotFoundError(`Autocrypt Setup Message in the Inbox of ${email}`);
  try {
    const rec = await importSetupMessage(keyring, raw.toString('utf8'), setupCode);
    return rec.fingerprint;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError('bad-setup-code', 'the setup code does not open this Setup Message');
  }
}
