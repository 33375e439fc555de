/** Worker thread entry: prepares groups of messages (see prepare.ts, prepare-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { prepareMessage, toWire } from './prepare.ts';

interface Job {
  id: number;
  /** One buffer per message, transferred (each holds exactly that message). */
  inputs: ArrayBuffer[];
  compress: boolean;
}

parentPort!.on('message', (job: Job) => {
  const inputs = job.inputs.map((ab) => Buffer.from(ab));
  const results = inputs.map((b) => prepareMessage(b, job.compress));
  const { wire, output } = toWire(inputs, results);
  parentPort!.postMessage({ id: job.id, wire, inputs: job.inputs, output }, [...job.inputs, output]);
});
