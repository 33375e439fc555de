/**
 * Drains the full-text backlog (fts_queue → message_fts) in small batches on timers, so imports
 * and sync inserts stay fast and IMAP sessions are never blocked for long. The document of a big
 * message (HTML reduced to text, quoted-printable and charsets decoded: 185-312 ms for the first
 * MiB of a 20 MB HTML message) is derived on a worker thread; the batch writes it when it is back.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../shared/logger.ts';
import type { FtsDoc, MessagesRepo, OffloadedDoc } from './repos/messages.ts';
import { ftsDocument } from './repos/messages/fts-doc.ts';

const BATCH = 25;
/** A batch ends once it took this long: the event loop gets a turn between big messages. */
const BATCH_BUDGET_MS = 20;
const PAUSE_MS = 5;
/** Indexing waits until no message was added for this long (an import or sync burst finishes first). */
const QUIET_MS = 250;
/**
 * A message whose first bytes (what its document is derived from, at most ~1 MiB) are more than
 * this gets its document from the worker: below it, derived here in under ~25 ms.
 */
const OFFLOAD_ABOVE = 128 * 1024;

export class FtsIndexer {
  readonly #messages: MessagesRepo;
  readonly #logger: Logger;
  readonly #enabled: boolean;
  readonly #worker = new DocWorker();
  /** Documents derived on the worker, for the next batch. */
  readonly #ready = new Map<number, FtsDoc>();
  #timer: NodeJS.Timeout | null = null;
  /** A document is being derived on the worker: the next batch waits for it. */
  #deriving = false;
  #stopped = false;
  #lastWrite = 0;

  constructor(messages: MessagesRepo, logger: Logger, enabled: boolean) {
    this.#messages = messages;
    this.#logger = logger;
    this.#enabled = enabled;
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
      this.#ready.set(m.blobId, await this.#worker.doc(m.raw));
    } catch (err) {
      if (this.#stopped) return;
      // the worker failed (it should not): derived here, as it was before there was a worker, so
      // that search keeps finding the message's words
      this.#logger.warn({ err }, 'full-text document on the worker failed; derived on this thread');
      this.#ready.set(m.blobId, ftsDocument(m.raw));
    } finally {
      this.#deriving = false;
    }
    this.kick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#worker.close();
  }
}

/**
 * One worker thread for documents, started when a big message comes and ended after IDLE_MS
 * without one (an isolate costs ~10-20 MB of RSS: not kept for the rare big message). It never
 * keeps the process alive.
 */
class DocWorker {
  static readonly IDLE_MS = 30_000;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, { resolve: (d: FtsDoc) => void; reject: (e: Error) => void }>();
  #next = 0;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;

  doc(raw: Buffer): Promise<FtsDoc> {
    if (this.#closed) return Promise.reject(new Error('the indexer stopped'));
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    const w = (this.#worker ??= this.#spawn());
    const id = this.#next++;
    const bytes = new Uint8Array(raw); // a copy that owns its memory, handed over
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.postMessage({ id, raw: bytes.buffer }, [bytes.buffer]);
    });
  }

  #spawn(): Worker {
    const w = new Worker(
      new URL(`./fts-doc-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
      {
        resourceLimits: { maxYoungGenerationSizeMb: 8 },
      },
    );
    w.unref();
    w.on('message', (m: { id: number; doc?: FtsDoc; error?: string }) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.doc) p?.resolve(m.doc);
      else p?.reject(new Error(m.error ?? 'no document'));
      if (this.#pending.size === 0 && !this.#closed) {
        this.#idle = setTimeout(() => this.close(false), DocWorker.IDLE_MS);
        this.#idle.unref();
      }
    });
    const fail = (err: Error): void => {
      if (this.#worker === w) this.#worker = null;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`full-text worker exited (${code})`)));
    return w;
  }

  /** Ends the worker (for good unless `final` is false: then the next big message starts one). */
  close(final = true): void {
    this.#closed ||= final;
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    const w = this.#worker;
    this.#worker = null;
    if (w) void w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error('the indexer stopped'));
    this.#pending.clear();
  }
}
