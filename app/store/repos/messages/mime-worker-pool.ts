/**
 * The worker thread for the MIME work of big messages (mime-worker.ts), so that it never holds the
 * event loop: the full-text document of a big message, for the indexer and for the exact check of
 * a search (HTML reduced to text, references and charsets decoded: up to 400 ms of CPU for the
 * first MiB of a hostile message), and a big or many-part message made ready to insert for APPEND,
 * sync and the Sent copy (its MIME analysis: 270-370 ms for ~1 MiB of 14,000 small parts).
 */
import { Worker } from 'node:worker_threads';
import { fromWire, type PrepareResult, type WireResult } from '../../import/prepare.ts';
import type { FtsDoc } from './fts-doc.ts';
import type { MimeJob } from './mime-worker.ts';

type Reply =
  | { id: number; doc: FtsDoc }
  | { id: number; wire: WireResult; input: ArrayBuffer; output: ArrayBuffer }
  | { id: number; error: string };

/**
 * One worker thread, started when a big message comes and ended after IDLE_MS without one (an
 * isolate costs ~10-20 MB of RSS: not kept for the rare big message). Its old generation is not
 * capped as the import workers' is (24 MB): a message's analysis takes ~3 KB per MIME part. It
 * never keeps the process alive.
 */
export class MimeWorkerPool {
  static readonly IDLE_MS = 30_000;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #next = 0;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;

  /** True once closed for good. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The full-text document of a message from its first bytes (see fts-doc.ts). */
  async doc(raw: Buffer): Promise<FtsDoc> {
    const r = await this.#run((id, bytes) => ({ id, kind: 'doc', raw: bytes }), raw);
    if ('doc' in r) return r.doc;
    throw new Error('error' in r ? r.error : 'no document');
  }

  /** prepareMessage (import/prepare.ts) of a copy of `raw`, on the worker. */
  async prepare(raw: Buffer, compress: boolean): Promise<PrepareResult> {
    const r = await this.#run((id, bytes) => ({ id, kind: 'prepare', raw: bytes, compress }), raw);
    if ('wire' in r) return fromWire([r.wire], [r.input], r.output)[0]!;
    throw new Error('error' in r ? r.error : 'not prepared');
  }

  #run(job: (id: number, raw: ArrayBuffer) => MimeJob, raw: Buffer): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('the store closed'));
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    const w = (this.#worker ??= this.#spawn());
    const id = this.#next++;
    const bytes = new Uint8Array(raw); // a copy that owns its memory, handed over
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.postMessage(job(id, bytes.buffer), [bytes.buffer]);
    });
  }

  #spawn(): Worker {
    const w = new Worker(
      new URL(`./mime-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
      {
        resourceLimits: { maxYoungGenerationSizeMb: 8 },
      },
    );
    w.unref();
    w.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      p?.resolve(m);
      if (this.#pending.size === 0 && !this.#closed) {
        this.#idle = setTimeout(() => this.close(false), MimeWorkerPool.IDLE_MS);
        this.#idle.unref();
      }
    });
    const fail = (err: Error): void => {
      if (this.#worker === w) this.#worker = null;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`MIME worker exited (${code})`)));
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
