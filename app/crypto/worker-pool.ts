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
import type { EncryptOptions } from './pgp-mime-encrypt.ts';
import type { SignOptions } from './pgp-mime-sign.ts';
import type { KeyInput } from './keys-input.ts';
import { keyToTransfer } from './keys-input.ts';
import { CryptoInputError, CryptoKeyError } from './errors.ts';
import { UserError } from '../shared/errors.ts';
import type { JobRequest, LookupReply, WireKey, WorkerMessage } from './worker-protocol.ts';

export interface WorkerPoolOptions {
  /** number of threads (default: available cores) */
  size?: number;
  /** concurrent jobs per thread (default 2, to overlap openpgp's async steps) */
  perWorker?: number;
}

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
  if (m.code) return new UserError(m.code, m.message);
  return new Error(m.message);
}

export function createWorkerPool(opts: WorkerPoolOptions = {}): CryptoEngine {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const perWorker = Math.max(1, opts.perWorker ?? 2);
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL);
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
      job.lookup(m.keyIds).then(
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
      if (!slot) return;
      const job = queue.shift()!;
      slot.running.set(job.id, job);
      slot.worker.ref();
      const raw = job.body.raw;
      slot.worker.postMessage({ ...job.body, id: job.id } as JobRequest, [raw.buffer as ArrayBuffer]);
    }
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
      const m = await submit(
        {
          op: 'decrypt',
          raw: copyIn(raw),
          decryptionKeys: wire(o.decryptionKeys),
          verificationKeys: wire(o.verificationKeys),
          canLookup: Boolean(o.lookupVerificationKeys),
          ...(o.maxDecompressedSize !== undefined ? { maxDecompressedSize: o.maxDecompressedSize } : {}),
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
