/**
 * Worker thread entry: `PRAGMA integrity_check` on a copy of the store's database file (see
 * health.ts), opened with the store's key like the store itself (nothing is decrypted to disk:
 * temp_store=MEMORY, and the check writes nothing).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openEncryptedDatabase } from '../../native/sqlcipher.ts';
import { silentLogger } from '../shared/logger.ts';

const job = workerData as { file: string; key: Uint8Array; maxErrors: number };
const key = Buffer.from(job.key.buffer, job.key.byteOffset, job.key.byteLength);
let reply: { rows: string[] } | { error: string };
try {
  const db = openEncryptedDatabase(job.file, key, silentLogger, { cacheKiB: 4096 });
  try {
    reply = {
      rows: db.prepare(`PRAGMA integrity_check(${job.maxErrors})`).pluck().all() as string[],
    };
  } finally {
    db.close();
  }
} catch (err) {
  // a page that does not decrypt (damaged) fails the read itself: that is the check's answer too
  const e = err as Error;
  reply = { error: (e.cause instanceof Error ? e.cause : e).message };
} finally {
  key.fill(0);
}
parentPort!.postMessage(reply);
