/**
 * The store's change feed: typed events emitted after each committed write, whichever path made
 * it (IMAP session, import, sync), so IMAP IDLE/NOOP see every change at once.
 */
import type { Logger } from '../shared/logger.ts';

export interface FlagChange {
  uid: number;
  flags: string[];
  modseq: number;
}

export type StoreEvent = StoreEventBody & {
  /** The token passed to Store.as() around the write (an IMAP session passes itself). */
  actor?: object;
};

export type StoreEventBody =
  | { type: 'mailbox-created'; accountId: number; mailboxId: number; name: string }
  | { type: 'mailbox-renamed'; accountId: number; mailboxId: number; oldName: string; name: string }
  | { type: 'mailbox-deleted'; accountId: number; mailboxId: number; name: string }
  /** UIDs were renumbered (new UIDVALIDITY); sessions that selected it must end. */
  | { type: 'mailbox-uidvalidity'; accountId: number; mailboxId: number; uidValidity: number }
  | { type: 'messages-added'; mailboxId: number; uids: number[]; modseq: number }
  | { type: 'messages-expunged'; mailboxId: number; uids: number[]; modseq: number }
  | { type: 'flags-changed'; mailboxId: number; changes: FlagChange[] }
  | { type: 'account-added'; accountId: number; email: string }
  | { type: 'account-removed'; accountId: number; email: string }
  /** Signed out keeping its local mail (no credentials, no sync) / attached again. */
  | { type: 'account-signed-out'; accountId: number; email: string }
  | { type: 'account-signed-in'; accountId: number; email: string };

export type StoreListener = (event: StoreEvent) => void;

export class ChangeFeed {
  readonly #listeners = new Set<StoreListener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: StoreEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (err) {
        this.#logger.error({ err, event: event.type }, 'store listener failed');
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
