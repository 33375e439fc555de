/**
 * A pool of worker threads running the crypto operations (crypto-worker.ts), with the same API
 * as the in-thread engine. Jobs queue FIFO; each worker takes up to `perWorker` jobs at a time.
 * Keys cross threads in binary form (unlocked private keys included — memory only, never
 * stored). Workers are unref'd while idle so an idle pool never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { CryptoEngine } from './engine.ts';
import type { DecryptOptions, DecryptResult } from './decrypt.ts';
import { plainResult } from './decrypt.ts';
import type { EncryptOptions } from './pgp-mime-encrypt.ts';
import type { SignOptions } from './pgp-mime-sign.ts';
import type { SmimeCopiesOptions } from './smime-write.ts';
import type { KeyInput } from './keys-input.ts';
import { keyToTransfer } from './keys-input.ts';
import { CryptoInputError, CryptoKeyError } from './errors.ts';
import { isErrorCode, UserError } from '../shared/errors.ts';
import type { JobRequest, LookupReply, WireKey, WorkerMessage } from './worker-protocol.ts';

export interface WorkerPoolOptions {
  /** number of threads (default: defaultPoolSize()) */
  size?: number;
  /** concurrent jobs per thread (default 2, to overlap openpgp's async steps) */
  perWorker?: number;
  /** V8 young generation of each worker in MB (default 8; see below) */
  youngGenerationMb?: number;
  /**
   * Caller runs (default true): while every worker is full and jobs wait, this thread runs one of
   * them itself (app/crypto in-thread; one job at a time, a few ms each; never an outgoing S/MIME job). A sync's main thread is
   * otherwise ~60% idle waiting for the pool: this adds throughput without another worker's memory.
   */
  callerRuns?: boolean;
}

/**
 * Threads for a pool: one core is left to the main thread, which parses the provider's FETCH
 * responses, builds served messages and writes the store, and at most 2: each worker is an
 * isolate with openpgp loaded (~30 MB RSS idle, 60-70 MB under a sync's load). With caller-runs
 * the main thread decrypts too when the worker is full. Measured on 2 cores (10k 20 KB PGP
 * messages, same runs): 1 worker + caller-runs ~490-520 msg/s at ~265 MB peak RSS; 2 workers
 * ~500-570 msg/s at ~330 MB; 1 worker alone ~430-500 msg/s at ~250 MB.
 */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

/**
 * Left to V8, a worker's young generation grows to the process default (up to 2 x 64 MB on a
 * machine with much RAM) under openpgp's allocation rate: ~100 MB more RSS per worker during a
 * sync. Capped, scavenges are more frequent but cheap (openpgp's garbage dies young).
 */
const DEFAULT_YOUNG_MB = 8;

/**
 * Plain mail up to this size is answered on the calling thread (decrypt.ts plainResult: a parse
 * of its MIME tree, no key): most of a sync's messages then never reach a worker, and a mailbox of
 * plain mail starts none. bench/million.ts, 20k ~1 KB plain messages: peak RSS 209-280 MB with the
 * worker, 191-211 MB without, the child's CPU time no higher (posting cost copies and a key parse
 * per job). Bigger messages still go to a worker, which keeps the event loop free of their parse.
 */
const PLAIN_HERE_MAX = 256 * 1024;

type JobBody = JobRequest extends infer J ? (J extends JobRequest ? Omit<J, 'id'> : never) : never;

interface Job {
  id: number;
  body: JobBody;
  lookup?: DecryptOptions['lookupVerificationKeys'];
  resolve: (m: WorkerMessage & { kind: 'done' }) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  running: Map<number, Job>;
}

/** The worker entry next to this file (.ts when run from source, .js once compiled). */
const WORKER_URL = new URL(
  `./crypto-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

function wire(keys: readonly KeyInput[] | undefined): WireKey[] {
  return (keys ?? []).map(keyToTransfer);
}

function copyIn(raw: Buffer): Uint8Array {
  return new Uint8Array(raw);
}

function rebuildError(m: { name: string; code?: string; message: string }): Error {
  if (m.name === 'CryptoKeyError') return new CryptoKeyError(m.message);
  if (m.name === 'CryptoInputError') return new CryptoInputError(m.message);
  if (isErrorCode(m.code)) return new UserError(m.code, m.message);
  return new Error(m.message);
}

export function createWorkerPool(opts: WorkerPoolOptions = {}): CryptoEngine {
  const size = Math.max(1, opts.size ?? defaultPoolSize());
  const youngMb = opts.youngGenerationMb ?? DEFAULT_YOUNG_MB;
  const perWorker = Math.max(1, opts.perWorker ?? 2);
  const callerRuns = opts.callerRuns ?? true;
  let inlineBusy = 0;
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxYoungGenerationSizeMb: youngMb } });
    const slot: Slot = { worker, running: new Map() };
    worker.unref();
    worker.on('message', (m: WorkerMessage) => onMessage(slot, m));
    worker.on('error', (err) => failSlot(slot, err));
    worker.on('exit', (code) => {
      if (!closed) failSlot(slot, new Error(`crypto worker exited (${code})`));
    });
    return slot;
  }

  function failSlot(slot: Slot, err: Error): void {
    for (const job of slot.running.values()) job.reject(err);
    slot.running.clear();
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    if (!closed) pump();
  }

  function onMessage(slot: Slot, m: WorkerMessage): void {
    const job = slot.running.get(m.id);
    if (!job) return;
    if (m.kind === 'lookup') {
      const reply = (keys: WireKey[]) =>
        slot.worker.postMessage({ id: m.id, op: 'lookup-reply', keys } satisfies LookupReply);
      if (!job.lookup) return reply([]);
      job.lookup(m.keyIds, m.attached).then(
        (keys) => reply(wire(keys)),
        () => reply([]),
      );
      return;
    }
    slot.running.delete(m.id);
    if (slot.running.size === 0) slot.worker.unref();
    if (m.kind === 'error') job.reject(rebuildError(m));
    else job.resolve(m);
    pump();
  }

  function pump(): void {
    while (queue.length) {
      let slot = slots.find((s) => s.running.size === 0) ?? null;
      if (!slot && slots.length < size) {
        slot = spawn();
        slots.push(slot);
      }
      slot ??=
        slots.filter((s) => s.running.size < perWorker).sort((a, b) => a.running.size - b.running.size)[0] ??
        null;
      if (!slot) return runInline();
      const job = queue.shift()!;
      slot.running.set(job.id, job);
      slot.worker.ref();
      const raw = job.body.raw;
      slot.worker.postMessage({ ...job.body, id: job.id } as JobRequest, [raw.buffer as ArrayBuffer]);
    }
  }

  /** Caller runs: one queued job on this thread when every worker is full (see callerRuns). */
  function runInline(): void {
    if (!callerRuns || inlineBusy > 0 || closed || !queue.length) return;
    // An outgoing S/MIME job signs and encrypts a whole message (megabytes for an attachment): it
    // waits for a worker and never runs on this thread.
    const at = queue.findIndex((j) => j.body.op !== 'smime');
    if (at < 0) return;
    const job = queue.splice(at, 1)[0]!;
    inlineBusy++;
    void runHere(job)
      .then(job.resolve, (err: Error) => job.reject(err))
      .finally(() => {
        inlineBusy--;
        if (!closed) pump();
      });
  }

  async function runHere(job: Job): Promise<WorkerMessage & { kind: 'done' }> {
    const { decryptMessage, encryptMessage, signMessage, smimeCopies } = (await import('./engine.ts'))
      .inlineEngine;
    const b = job.body;
    const raw = Buffer.from(b.raw.buffer, b.raw.byteOffset, b.raw.byteLength);
    if (b.op === 'smime') {
      const copies = await smimeCopies(raw, {
        signer: b.signer,
        copies: b.copies,
        ...(b.date !== undefined ? { date: new Date(b.date) } : {}),
      });
      return { id: job.id, kind: 'done', copies };
    }
    const date = b.op !== 'decrypt' && b.date !== undefined ? { date: new Date(b.date) } : {};
    if (b.op === 'decrypt') {
      const r = await decryptMessage(raw, {
        decryptionKeys: b.decryptionKeys,
        verificationKeys: b.verificationKeys,
        ...(b.maxDecompressedSize !== undefined ? { maxDecompressedSize: b.maxDecompressedSize } : {}),
        ...(b.smime ? { smime: b.smime } : {}),
        ...(b.canLookup && job.lookup ? { lookupVerificationKeys: job.lookup } : {}),
      });
      return { id: job.id, kind: 'done', decrypt: r };
    }
    const bytes =
      b.op === 'encrypt'
        ? await encryptMessage(raw, {
            encryptionKeys: b.encryptionKeys,
            signingKeys: b.signingKeys,
            ...(b.gossip ? { gossip: b.gossip } : {}),
            ...(b.obscureSubject !== undefined ? { obscureSubject: b.obscureSubject } : {}),
            ...date,
          })
        : await signMessage(raw, {
            signingKeys: b.signingKeys,
            ...(b.protectedHeaders !== undefined ? { protectedHeaders: b.protectedHeaders } : {}),
            ...date,
          });
    return { id: job.id, kind: 'done', bytes };
  }

  function submit(body: JobBody, lookup?: Job['lookup']): Promise<WorkerMessage & { kind: 'done' }> {
    if (closed) return Promise.reject(new Error('crypto worker pool is closed'));
    return new Promise((resolve, reject) => {
      queue.push({ id: nextId++, body, resolve, reject, ...(lookup ? { lookup } : {}) });
      pump();
    });
  }

  return {
    async decryptMessage(raw: Buffer, o: DecryptOptions): Promise<DecryptResult> {
      const plain = raw.length <= PLAIN_HERE_MAX ? plainResult(raw) : null;
      if (plain) return plain;
      const m = await submit(
        {
          op: 'decrypt',
          raw: copyIn(raw),
          decryptionKeys: wire(o.decryptionKeys),
          verificationKeys: wire(o.verificationKeys),
          canLookup: Boolean(o.lookupVerificationKeys),
          ...(o.maxDecompressedSize !== undefined ? { maxDecompressedSize: o.maxDecompressedSize } : {}),
          ...(o.smime ? { smime: o.smime } : {}),
        },
        o.lookupVerificationKeys,
      );
      const d = m.decrypt!;
      return { ...d, mime: Buffer.from(d.mime.buffer, d.mime.byteOffset, d.mime.byteLength) };
    },
    async encryptMessage(raw: Buffer, o: EncryptOptions): Promise<Buffer> {
      const m = await submit({
        op: 'encrypt',
        raw: copyIn(raw),
        encryptionKeys: wire(o.encryptionKeys),
        signingKeys: wire(o.signingKeys),
        ...(o.gossip ? { gossip: [...o.gossip] } : {}),
        ...(o.obscureSubject !== undefined ? { obscureSubject: o.obscureSubject } : {}),
        ...(o.date ? { date: o.date.getTime() } : {}),
      });
      return Buffer.from(m.bytes!.buffer, m.bytes!.byteOffset, m.bytes!.byteLength);
    },
    async signMessage(raw: Buffer, o: SignOptions): Promise<Buffer> {
      const m = await submit({
        op: 'sign',
        raw: copyIn(raw),
        signingKeys: wire(o.signingKeys),
        ...(o.protectedHeaders !== undefined ? { protectedHeaders: o.protectedHeaders } : {}),
        ...(o.date ? { date: o.date.getTime() } : {}),
      });
      return Buffer.from(m.bytes!.buffer, m.bytes!.byteOffset, m.bytes!.byteLength);
    },
    async smimeCopies(raw: Buffer, o: SmimeCopiesOptions): Promise<Buffer[]> {
      const m = await submit({
        op: 'smime',
        raw: copyIn(raw),
        signer: o.signer,
        copies: o.copies,
        ...(o.date ? { date: o.date.getTime() } : {}),
      });
      return m.copies!.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    },
    async close(): Promise<void> {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error('crypto worker pool closed'));
      const all = slots.splice(0);
      for (const s of all)
        for (const job of s.running.values()) job.reject(new Error('crypto worker pool closed'));
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
