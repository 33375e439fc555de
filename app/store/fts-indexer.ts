/**
 * Drains the full-text backlog (fts_queue → message_fts) in small batches on timers, so imports
 * and sync inserts stay fast and IMAP sessions are never blocked for long. The document of a big
 * message (HTML reduced to text, quoted-printable and charsets decoded: 185-312 ms for the first
 * MiB of a 20 MB HTML message) is derived on a worker thread (messages/mime-worker-pool.ts); the batch
 * writes it when it is back.
 */
import type { Logger } from '../shared/logger.ts';
import { BackgroundTurn, type ForegroundWork } from '../shared/foreground.ts';
import type { FtsDoc, MessagesRepo, OffloadedDoc } from './repos/messages.ts';
import { OFFLOAD_ABOVE } from './repos/messages/fts-doc.ts';

const BATCH = 25;
/** A batch ends once it took this long: the event loop gets a turn between big messages. */
const BATCH_BUDGET_MS = 20;
const PAUSE_MS = 5;
/** Indexing waits until no message was added for this long (an import or sync burst finishes first). */
const QUIET_MS = 250;

export class FtsIndexer {
  readonly #messages: MessagesRepo;
  readonly #logger: Logger;
  readonly #enabled: boolean;
  /** Documents derived on the worker, for the next batch. */
  readonly #ready = new Map<number, FtsDoc>();
  #timer: NodeJS.Timeout | null = null;
  /** A document is being derived on the worker: the next batch waits for it. */
  #deriving = false;
  #stopped = false;
  #lastWrite = 0;
  /** A local client's command being answered goes first (see shared/foreground.ts). */
  readonly #turn: BackgroundTurn;

  constructor(messages: MessagesRepo, logger: Logger, enabled: boolean, foreground?: ForegroundWork) {
    this.#messages = messages;
    this.#logger = logger;
    this.#enabled = enabled;
    this.#turn = new BackgroundTurn(foreground);
  }

  /** Notes that messages were just added (indexing backs off while writes keep coming). */
  noteWrite(): void {
    this.#lastWrite = Date.now();
    this.kick();
  }

  /** Schedules a drain (no-op when one is scheduled or indexing is manual). */
  kick(): void {
    if (!this.#enabled || this.#stopped || this.#timer || this.#deriving) return;
    this.#timer = setTimeout(() => this.#step(), PAUSE_MS);
    this.#timer.unref();
  }

  #step(): void {
    this.#timer = null;
    if (this.#stopped) return;
    const quietFor = Date.now() - this.#lastWrite;
    if (quietFor < QUIET_MS) {
      this.#timer = setTimeout(() => this.#step(), QUIET_MS - quietFor);
      this.#timer.unref();
      return;
    }
    const wait = this.#turn.waitMs();
    if (wait > 0) {
      this.#timer = setTimeout(() => this.#step(), wait);
      this.#timer.unref();
      return;
    }
    let r: { indexed: number; offload: OffloadedDoc | null };
    try {
      r = this.#messages.indexBatchWith(BATCH, BATCH_BUDGET_MS, {
        docs: this.#ready,
        offloadAbove: OFFLOAD_ABOVE,
      });
    } catch (err) {
      this.#logger.warn({ err }, 'full-text indexing failed; will retry');
      this.#timer = setTimeout(() => this.#step(), 1000);
      this.#timer.unref();
      return;
    } finally {
      this.#ready.clear(); // written, or their messages are gone
    }
    if (r.offload) void this.#derive(r.offload);
    else if (r.indexed > 0) this.kick();
    // the backlog is drained: bodies kept until they were indexed may be evicted now
    else this.#messages.bodyCache.kick();
  }

  async #derive(m: OffloadedDoc): Promise<void> {
    this.#deriving = true;
    try {
      const doc = await this.#messages.ftsDocOffThread(m.raw);
      if (doc) this.#ready.set(m.blobId, doc);
    } finally {
      this.#deriving = false;
    }
    this.kick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
