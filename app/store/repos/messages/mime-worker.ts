/**
 * Worker thread entry (see mime-worker-pool.ts): the full-text document of a big message
 * (fts-doc.ts), or a big or many-part message made ready to insert (import/prepare.ts).
 */
import { parentPort } from 'node:worker_threads';
import { prepareMessage, toWire } from '../../import/prepare.ts';
import { ftsDocument } from './fts-doc.ts';

export type MimeJob =
  | { id: number; kind: 'doc'; raw: ArrayBuffer }
  | { id: number; kind: 'prepare'; raw: ArrayBuffer; compress: boolean };

parentPort!.on('message', (job: MimeJob) => {
  try {
    if (job.kind === 'doc') {
      parentPort!.postMessage({ id: job.id, doc: ftsDocument(Buffer.from(job.raw)) });
      return;
    }
    const input = Buffer.from(job.raw);
    const { wire, output } = toWire([input], [prepareMessage(input, job.compress)]);
    parentPort!.postMessage({ id: job.id, wire: wire[0], input: job.raw, output }, [job.raw, output]);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message });
  }
});
