/**
 * The worker thread that derives full-text documents of big messages (fts-doc-worker.ts), for the
 * indexer and for the exact check of a search: their text (HTML reduced to text, references and
 * charsets decoded, every MIME part analysed) took up to 400 ms of CPU on the event loop for the
 * first MiB of a hostile message.
 */
import { Worker } from 'node:worker_threads';
import type { FtsDoc } from './fts-doc.ts';

/**
 * One worker thread for documents, started when a big message comes and ended after IDLE_MS
 * without one (an isolate costs ~10-20 MB of RSS: not kept for the rare big message). It never
 * keeps the process alive.
 */
export class FtsDocPool {
  static readonly IDLE_MS = 30_000;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, { resolve: (d: FtsDoc) => void; reject: (e: Error) => void }>();
  #next = 0;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;

  /** True once closed for good. */
  get closed(): boolean {
    return this.#closed;
  }

  doc(raw: Buffer): Promise<FtsDoc> {
    if (this.#closed) return Promise.reject(new Error('the store closed'));
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
        this.#idle = setTimeout(() => this.close(false), FtsDocPool.IDLE_MS);
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
    for (const p of this.#pending.values()) p.reject(new Error('the store closed'));
    this.#pending.clear();
  }
}
