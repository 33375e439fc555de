/** Worker thread entry: full-text documents of big messages (see fts-doc-pool.ts, fts-doc.ts). */
import { parentPort } from 'node:worker_threads';
import { ftsDocument } from './fts-doc.ts';

parentPort!.on('message', (job: { id: number; raw: ArrayBuffer }) => {
  try {
    parentPort!.postMessage({ id: job.id, doc: ftsDocument(Buffer.from(job.raw)) });
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message });
  }
});
