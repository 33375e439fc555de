/**
 * Runs prepareMessage for batches of messages on worker threads, so MIME analysis and compression
 * overlap with the SQLCipher writes on the main thread (≈1.5× import throughput on 2 cores, for
 * the worker's isolate: ≈20-30 MB RSS). With `threads: 0` it runs inline.
 *
 * Message bytes are transferred to the worker and back, not copied (prepare.ts toWire): the main
 * thread allocates about one buffer per message (the splitter's) plus one output buffer per group
 * instead of four copies per message. What bounds peak RSS here is mostly dead ArrayBuffers waiting
 * for a GC, so fewer, shorter-lived allocations on the main thread are what count.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  fromWire,
  maxParts,
  prepareMessage,
  prepareMessageAsync,
  type PrepareResult,
  type WireResult,
} from './prepare.ts';

/** The worker entry next to this file (.ts when run from source, .js once compiled for Electron). */
const PREPARE_WORKER_URL = new URL(
  `./prepare-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/** Messages larger than this are prepared on the calling thread. */
const INLINE_ABOVE = 4 * 1024 * 1024;
/**
 * The worker heap is small (peak RSS), and a message's analysis grows with its number of MIME
 * parts (~3 KB per part: 8,700 tiny parts in 1 MB overflow 24 MB). A group whose messages may hold
 * more parts than this in total (counted as lines starting with "--", an upper bound) is handed to
 * `prepareBig` (the store's MIME worker, whose heap is not capped; on the calling thread without
 * it): a pathological message never kills the import, nor holds the event loop.
 */
const WORKER_PART_BUDGET = 2000;

interface Pending {
  resolve: (r: PrepareResult[]) => void;
  reject: (e: Error) => void;
}

export class PreparePool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #compress: boolean;
  readonly #prepareBig: ((raw: Buffer) => Promise<PrepareResult>) | undefined;
  #next = 0;
  #rr = 0;
  #failed: Error | null = null;

  /**
   * threads: default min(2, cores - 1); 0 = inline. prepareBig: prepares a message of a group of
   * too many MIME parts for these workers (store.messages.prepareToInsert).
   */
  constructor(opts: {
    compress: boolean;
    threads?: number;
    prepareBig?: (raw: Buffer) => Promise<PrepareResult>;
  }) {
    this.#compress = opts.compress;
    this.#prepareBig = opts.prepareBig;
    const n = opts.threads ?? Math.max(0, Math.min(2, availableParallelism() - 1));
    for (let i = 0; i < n; i++) {
      const w = new Worker(PREPARE_WORKER_URL, {
        // Small heaps: the worker holds one group at a time (GROUP_BYTES, WORKER_PART_BUDGET). The
        // old generation's limit also decides how much garbage it keeps: 64 MB measured ~15 MB more
        // peak RSS than 24 MB importing 30k messages, at the same speed.
        resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 24 },
      });
      w.on('message', (m: { id: number; wire: WireResult[]; inputs: ArrayBuffer[]; output: ArrayBuffer }) => {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        p?.resolve(fromWire(m.wire, m.inputs, m.output));
      });
      w.on('error', (err) => this.#fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.#fail(new Error(`import worker exited with code ${code}`));
      });
      this.#workers.push(w);
    }
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** Prepares `raws`, which are handed over: the caller must not use them afterwards. */
  run(raws: Buffer[]): Promise<PrepareResult[]> {
    if (this.#failed) return Promise.reject(this.#failed);
    // no workers: prepare on this thread
    if (this.#workers.length === 0)
      return Promise.resolve(raws.map((r) => prepareMessage(r, this.#compress)));
    // many parts (beyond the workers' small heaps): on the big worker, else here
    if (!this.#fitsWorker(raws)) {
      const big = this.#prepareBig;
      if (big) return Promise.all(raws.map((r) => big(r)));
      return Promise.resolve(raws.map((r) => prepareMessage(r, this.#compress)));
    }
    if (raws.some((r) => r.length > INLINE_ABOVE)) return this.#runHere(raws);
    const id = this.#next++;
    const w = this.#workers[this.#rr++ % this.#workers.length]!;
    // The caller hands the raws over: a Buffer that owns its whole ArrayBuffer (the splitter's) is
    // transferred as is (detached here), anything else (a pooled slice, a view) is copied first.
    const seen = new Set<ArrayBufferLike>();
    const inputs = raws.map((r) => {
      const whole =
        r.byteOffset === 0 && r.byteLength === r.buffer.byteLength && r.buffer instanceof ArrayBuffer;
      if (whole && !seen.has(r.buffer)) {
        seen.add(r.buffer);
        return r.buffer as ArrayBuffer;
      }
      const own = Buffer.allocUnsafeSlow(r.length);
      r.copy(own);
      return own.buffer as ArrayBuffer;
    });
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.postMessage({ id, inputs, compress: this.#compress }, inputs);
    });
  }

  /** A group with a big message, on this thread: its bytes hashed and packed off the event loop. */
  async #runHere(raws: readonly Buffer[]): Promise<PrepareResult[]> {
    const out: PrepareResult[] = [];
    for (const r of raws) out.push(await prepareMessageAsync(r, this.#compress));
    return out;
  }

  #fitsWorker(raws: readonly Buffer[]): boolean {
    let budget = WORKER_PART_BUDGET;
    for (const r of raws) if ((budget -= maxParts(r, budget)) < 0) return false;
    return true;
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    const ws = this.#workers.splice(0);
    this.#failed ??= new Error('import pool closed');
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
