/**
 * Sent copies. Thunderbird and most clients APPEND their own copy to Sent over IMAP; others
 * (msmtp, scripts, some phones) do not, which is what the `fileSentCopies` setting is for.
 *
 * With the setting on, every submission is scheduled here; after a grace period (the time a
 * client takes to APPEND right after the 250), the copy is filed into the account's \Sent mailbox
 * — unless a message with the same Message-ID is already there (the client did append it). The
 * store is the coordination point: `store.messages.hasMessageId()` is the same check the IMAP APPEND path can
 * use to skip a client copy that Lockbridge already filed. Either way there is one copy, and the
 * sync uploads it to the provider (encrypted to self, per its setting).
 *
 * The filed copy is the prepared message (Message-ID, Date, Autocrypt as sent) with a Bcc header
 * listing the Bcc recipients for the user's own record; it never leaves the local store in
 * plaintext unless the user turned uploadEncryptedToSelf off.
 */
import type { Logger } from '../shared/logger.ts';
import type { Store } from '../store/store.ts';
import type { Mailbox } from '../store/repos/mailboxes.ts';
import { analyzeMessage } from '../mime/analyze.ts';

export interface SentRecorderOptions {
  store: Store;
  logger: Logger;
  /** How long to wait for the client's own APPEND (default 20 s). */
  graceMs?: number;
}

interface Pending {
  accountId: number;
  messageId: string;
  raw: Buffer;
  timer: NodeJS.Timeout;
}

/** The account's \Sent mailbox (created as "Sent" with \Sent when there is none). */
export function sentMailbox(store: Store, accountId: number): Mailbox {
  const boxes = store.mailboxes.list(accountId);
  return (
    boxes.find((m) => m.specialUse === '\\Sent') ??
    boxes.find((m) => m.name.toLowerCase() === 'sent') ??
    store.mailboxes.ensure(accountId, 'Sent', { specialUse: '\\Sent' })
  );
}

/** Adds `Bcc: a, b` right after the From header block start (only for the sender's own copy). */
export function withBccHeader(raw: Buffer, bcc: readonly string[]): Buffer {
  if (!bcc.length) return raw;
  return Buffer.concat([Buffer.from(`Bcc: ${bcc.join(', ')}\r\n`), raw]);
}

export class SentRecorder {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #pending = new Map<string, Pending>();

  constructor(opts: SentRecorderOptions) {
    this.#store = opts.store;
    this.#log = opts.logger.child({ module: 'sent-recorder' });
    this.#graceMs = opts.graceMs ?? 20_000;
  }

  /** Files `raw` into Sent after the grace period unless the client's own copy shows up. */
  schedule(accountId: number, messageId: string, raw: Buffer): void {
    const key = `${accountId} ${messageId}`;
    if (this.#pending.has(key)) return;
    const timer = setTimeout(() => this.#file(key), this.#graceMs);
    timer.unref?.();
    this.#pending.set(key, { accountId, messageId, raw, timer });
  }

  /** Number of copies waiting for their grace period. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Files everything pending now (shutdown): nothing scheduled is lost. */
  flush(): void {
    for (const key of [...this.#pending.keys()]) this.#file(key);
  }

  #file(key: string): void {
    const p = this.#pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending.delete(key);
    try {
      const sent = sentMailbox(this.#store, p.accountId);
      if (this.#store.messages.hasMessageId(sent.id, p.messageId)) {
        this.#log.debug({ mailbox: sent.id }, 'client filed its own Sent copy');
        return;
      }
      this.#store.messages.insert(sent.id, {
        raw: p.raw,
        analysis: analyzeMessage(p.raw),
        flags: ['\\Seen'],
      });
      this.#log.info({ mailbox: sent.id }, 'Sent copy filed');
    } catch (err) {
      this.#log.error({ err }, 'could not file the Sent copy');
    }
  }
}
