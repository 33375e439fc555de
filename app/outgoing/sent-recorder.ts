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
  /** Copies being filed (packed and written): flush() waits for them. */
  readonly #filing = new Set<Promise<void>>();

  constructor(opts: SentRecorderOptions) {
    this.#store = opts.store;
    this.#log = opts.logger.child({ module: 'sent-recorder' });
    this.#graceMs = opts.graceMs ?? 20_000;
  }

  /** Files `raw` into Sent after the grace period unless the client's own copy shows up. */
  schedule(accountId: number, messageId: string, raw: Buffer): void {
    const key = `${accountId} ${messageId}`;
    if (this.#pending.has(key)) return;
    const timer = setTimeout(() => void this.#file(key), this.#graceMs);
    timer.unref?.();
    this.#pending.set(key, { accountId, messageId, raw, timer });
  }

  /** Number of copies waiting for their grace period or being filed. */
  get pending(): number {
    return this.#pending.size + this.#filing.size;
  }

  /** Files everything pending now (shutdown): nothing scheduled is lost. */
  async flush(): Promise<void> {
    for (const key of [...this.#pending.keys()]) void this.#file(key);
    await Promise.all([...this.#filing]);
  }

  #file(key: string): Promise<void> {
    const p = this.#pending.get(key);
    if (!p) return Promise.resolve();
    clearTimeout(p.timer);
    this.#pending.delete(key);
    const filing = this.#fileCopy(p).finally(() => this.#filing.delete(filing));
    this.#filing.add(filing);
    return filing;
  }

  /**
   * Files the copy unless the client filed its own: a big one is packed on the thread pool and
   * written ahead in chunks (prepack + staged, as an APPEND), not deflated whole in one turn.
   */
  async #fileCopy(p: Pending): Promise<void> {
    try {
      const sent = sentMailbox(this.#store, p.accountId);
      if (this.#store.messages.hasMessageId(sent.id, p.messageId)) {
        this.#log.debug({ mailbox: sent.id }, 'client filed its own Sent copy');
        return;
      }
      // a big or many-part copy is analysed on the store's MIME worker, not on the event loop
      const ready = await this.#store.messages.prepareToInsert(p.raw);
      const msg = await this.#store.messages.prepack({
        ...(ready.ok ? ready.value : { raw: p.raw, analysis: analyzeMessage(p.raw) }),
        flags: ['\\Seen'],
      });
      const filed = await this.#store.messages.staged([msg], ([m]) => {
        // the client's own copy may have come while the body was written
        if (this.#store.messages.hasMessageId(sent.id, p.messageId)) return false;
        this.#store.messages.insert(sent.id, m!);
        return true;
      });
      if (filed) this.#log.info({ mailbox: sent.id }, 'Sent copy filed');
      else this.#log.debug({ mailbox: sent.id }, 'client filed its own Sent copy');
    } catch (err) {
      this.#log.error({ err }, 'could not file the Sent copy');
    }
  }
}
