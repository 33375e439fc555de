/**
 * Worker-thread entry for worker-pool.ts. Loads only pure crypto code (no file or network I/O);
 * keys arrive serialized and are parsed once per worker (keys-input.ts cache).
 */
import { parentPort } from 'node:worker_threads';
import { decryptMessage } from './decrypt.ts';
import { encryptMessage } from './pgp-mime-encrypt.ts';
import { signMessage } from './pgp-mime-sign.ts';
import { smimeCopies } from './smime-write.ts';
import type { JobRequest, LookupReply, WireKey, WorkerMessage } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('crypto-worker.ts must run in a worker thread');

const pendingLookups = new Map<number, (keys: WireKey[]) => void>();

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function handle(job: JobRequest): Promise<void> {
  try {
    if (job.op === 'decrypt') {
      const r = await decryptMessage(asBuffer(job.raw), {
        decryptionKeys: job.decryptionKeys,
        verificationKeys: job.verificationKeys,
        ...(job.maxDecompressedSize !== undefined ? { maxDecompressedSize: job.maxDecompressedSize } : {}),
        ...(job.smime ? { smime: job.smime } : {}),
        ...(job.canLookup
          ? {
              lookupVerificationKeys: (keyIds: string[], attached: string[]) =>
                new Promise<WireKey[]>((resolve) => {
                  pendingLookups.set(job.id, resolve);
                  post({ id: job.id, kind: 'lookup', keyIds, attached });
                }),
            }
          : {}),
      });
      const mime = new Uint8Array(r.mime);
      post({ id: job.id, kind: 'done', decrypt: { ...r, mime } }, [mime.buffer as ArrayBuffer]);
      return;
    }
    if (job.op === 'smime') {
      const copies = smimeCopies(asBuffer(job.raw), {
        signer: job.signer,
        copies: job.copies,
        ...(job.date !== undefined ? { date: new Date(job.date) } : {}),
      }).map((c) => new Uint8Array(c)); // own buffers (a small Buffer may sit in node's shared pool)
      post(
        { id: job.id, kind: 'done', copies },
        copies.map((c) => c.buffer as ArrayBuffer),
      );
      return;
    }
    const out =
      job.op === 'encrypt'
        ? await encryptMessage(asBuffer(job.raw), {
            encryptionKeys: job.encryptionKeys,
            signingKeys: job.signingKeys,
            ...(job.gossip ? { gossip: job.gossip } : {}),
            ...(job.obscureSubject !== undefined ? { obscureSubject: job.obscureSubject } : {}),
            ...(job.date !== undefined ? { date: new Date(job.date) } : {}),
          })
        : await signMessage(asBuffer(job.raw), {
            signingKeys: job.signingKeys,
            ...(job.protectedHeaders !== undefined ? { protectedHeaders: job.protectedHeaders } : {}),
            ...(job.date !== undefined ? { date: new Date(job.date) } : {}),
          });
    const bytes = new Uint8Array(out);
    post({ id: job.id, kind: 'done', bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err as Error & { code?: string };
    post({
      id: job.id,
      kind: 'error',
      name: e.name ?? 'Error',
      code: e.code,
      message: e.message ?? String(err),
    });
  }
}

port.on('message', (msg: JobRequest | LookupReply) => {
  if (msg.op === 'lookup-reply') {
    pendingLookups.get(msg.id)?.(msg.keys);
    pendingLookups.delete(msg.id);
    return;
  }
  void handle(msg);
});
