/** Worker thread entry: prepares batches of messages (see prepare.ts). */
import { parentPort } from 'node:worker_threads';
import { prepareMessage, type PrepareResult } from './prepare.ts';

interface Job {
  id: number;
  raws: Uint8Array[];
  compress: boolean;
}

parentPort!.on('message', (job: Job) => {
  const results: PrepareResult[] = job.raws.map((u) =>
    prepareMessage(Buffer.from(u.buffer, u.byteOffset, u.byteLength), job.compress),
  );
  parentPort!.postMessage({ id: job.id, results });
});
