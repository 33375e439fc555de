/**
 * Provider mailbox operations that can destroy mail, done safely. The rule: nothing is ever
 * expunged at the provider except the messages a local client expunged. IMAP CLOSE expunges every
 * \Deleted message of a read-write mailbox (also those another device only marked), and a plain
 * EXPUNGE does the same, so:
 *  - a mailbox is left with UNSELECT (RFC 3691), or, where the provider lacks it, by EXAMINE of
 *    INBOX (selecting another mailbox never expunges, RFC 3501 §6.3.1);
 *  - messages are removed with UID EXPUNGE (UIDPLUS, RFC 4315); without UIDPLUS a plain EXPUNGE is
 *    sent only when no other message of the mailbox carries \Deleted, otherwise ours stay marked.
 */
import { toUidSet } from '../uid-range.ts';
import type { RemoteMailbox } from './remote-mailbox.ts';

/** Leaves the selected mailbox without expunging anything. */
export async function leaveMailbox(client: RemoteMailbox): Promise<void> {
  const mb = client.selected;
  if (!client.usable || !mb) return;
  if (client.hasCapability('UNSELECT')) {
    await client.unselect();
    return;
  }
  if (mb.path.toUpperCase() !== 'INBOX' || !mb.readOnly) await client.open('INBOX', { readOnly: true });
}

export type ExpungeResult = 'expunged' | 'kept-marked' | 'failed';

/**
 * Removes exactly these UIDs from the selected (read-write) mailbox. 'kept-marked': the provider
 * has no UIDPLUS and other messages carry \Deleted, so ours were only marked (a later pass retries
 * when the other marks are gone; nothing of anyone else's is expunged).
 */
export async function expungeUids(client: RemoteMailbox, uids: readonly number[]): Promise<ExpungeResult> {
  if (!uids.length) return 'expunged';
  const set = toUidSet(uids);
  if (client.hasCapability('UIDPLUS')) return (await client.deleteMessages(set)) ? 'expunged' : 'failed';
  if (!(await client.addFlags(set, ['\\Deleted']))) return 'failed';
  const ours = new Set(uids);
  const marked = await client.search({ deleted: true });
  if (marked.some((u) => !ours.has(u))) return 'kept-marked';
  return (await client.deleteMessages(set)) ? 'expunged' : 'failed';
}
