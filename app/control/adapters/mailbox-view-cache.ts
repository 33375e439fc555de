/**
 * What SELECT needs of a mailbox (its UIDs in order, the first unseen UID), kept between SELECTs so
 * that re-opening a big mailbox does not re-read 100k rows. Any store change to a mailbox drops
 * its entry (the change feed reports every write, whoever made it); account-level changes drop all.
 */
import type { StoreEvent } from '../../store/change-feed.ts';

export interface MailboxView {
  uids: Uint32Array;
  firstUnseenUid: number | null;
}

const MAX_ENTRIES = 16;

export class MailboxViewCache {
  readonly #views = new Map<number, MailboxView>();

  invalidate(e: StoreEvent): void {
    if ('mailboxId' in e) this.#views.delete(e.mailboxId);
    else this.#views.clear();
  }

  /** The view. Its UIDs are shared: callers must never write them (sessions copy on write). */
  get(mailboxId: number, load: () => MailboxView): MailboxView {
    let v = this.#views.get(mailboxId);
    if (v) {
      this.#views.delete(mailboxId); // most recently used last
    } else {
      v = load();
    }
    this.#views.set(mailboxId, v);
    if (this.#views.size > MAX_ENTRIES) this.#views.delete(this.#views.keys().next().value as number);
    return v;
  }

  clear(): void {
    this.#views.clear();
  }
}
