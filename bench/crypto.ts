/**
 * Crypto benchmark: encrypt+sign and decrypt+verify of 20 KB and 1 MB messages to 1 and 10
 * recipients, in messages/s, in-thread and with the worker pool. Reference measured in the same
 * run: bare openpgp.js decrypt+verify of the same OpenPGP payload in this thread (no MIME work),
 * so the ratio shows what the PGP/MIME layer and the pool add or cost.
 * Target (issue 4): decrypt+verify of 20 KB ≥ 450 messages/s on a 2-core machine.
 */
import * as openpgp from 'openpgp';
import { availableParallelism } from 'node:os';
import { inlineEngine } from '../app/crypto/engine.ts';
import type { CryptoEngine } from '../app/crypto/engine.ts';
import { createWorkerPool } from '../app/crypto/worker-pool.ts';

interface Key {
  priv: openpgp.PrivateKey;
  pub: openpgp.PublicKey;
}

async function key(i: number): Promise<Key> {
  const k = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: `user${i}@example.test` }],
    format: 'object',
  });
  return { priv: k.privateKey, pub: k.publicKey };
}

function message(size: number): Buffer {
  const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor Grüße'.split(
    ' ',
  );
  let body = '';
  let line = '';
  let n = 0;
  while (body.length < size) {
    line += words[n++ % words.length] + ' ';
    if (line.length > 70) {
      body += line.trimEnd() + '\r\n';
      line = '';
    }
  }
  return Buffer.from(
    'From: Sender <user0@example.test>\r\nTo: Recipient <user1@example.test>\r\nSubject: bench\r\n' +
      'Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@example.test>\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      body,
  );
}

interface Rate {
  /** messages per wall-clock second */
  perSec: number;
  /** process CPU time (all threads, incl. workers) per message, ms: insensitive to other load */
  cpuMs: number;
}

/** Run `count` jobs with `concurrency` in flight. */
async function rate(count: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<Rate> {
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { perSec: count / wall, cpuMs: (cpu.user + cpu.system) / 1000 / count };
}

/** A table row; capacity = msgs/s this engine would do on `threads` otherwise idle cores (CPU-bound). */
function row(
  op: string,
  size: string,
  rec: number,
  engine: string,
  r: Rate,
  ref: Rate,
  threads: number,
): string {
  const capacity = (1000 / r.cpuMs) * threads;
  return (
    `| ${op} | ${size} | ${rec} | ${engine} | ${r.perSec.toFixed(0)} | ${(r.perSec / ref.perSec).toFixed(2)} ` +
    `| ${r.cpuMs.toFixed(2)} | ${capacity.toFixed(0)} |`
  );
}

export async function run(opts: { smoke: boolean; log: (line: string) => void }): Promise<void> {
  const { smoke, log } = opts;
  const keys = await Promise.all(Array.from({ length: 11 }, (_, i) => key(i)));
  const sender = keys[0]!;
  const recipient = keys[1]!;
  const sizes = smoke
    ? [{ label: '2 KB', bytes: 2_000 }]
    : [
        { label: '20 KB', bytes: 20_000 },
        { label: '1 MB', bytes: 1_000_000 },
      ];
  const counts = (bytes: number) => (smoke ? 6 : bytes < 100_000 ? 600 : 24);
  const pool = createWorkerPool({ size: availableParallelism() });
  const engines: [string, CryptoEngine][] = [
    ['in-thread', inlineEngine],
    [`pool×${availableParallelism()}`, pool],
  ];
  // warm the pool (thread start, module load, key parse) so it is not timed
  const warm = await inlineEngine.encryptMessage(message(1000), {
    encryptionKeys: [recipient.pub],
    signingKeys: [sender.priv],
  });
  await Promise.all(
    Array.from({ length: availableParallelism() * 4 }, () =>
      pool.decryptMessage(warm, { decryptionKeys: [recipient.priv], verificationKeys: [sender.pub] }),
    ),
  );
  log(`cores: ${availableParallelism()} (other work on the machine skews absolute figures; compare ratios)`);
  log('msgs/s = wall clock in this run; CPU ms/msg = process CPU (all threads) per message; capacity =');
  log('(1000 / CPU ms) × threads usable by the engine, i.e. msgs/s on otherwise idle cores.');
  log('| operation | size | recipients | engine | msgs/s | × reference | CPU ms/msg | capacity msgs/s |');
  log('|---|---|---|---|---|---|---|---|');
  try {
    for (const size of sizes) {
      const raw = message(size.bytes);
      const n = counts(size.bytes);
      // reference: bare openpgp.js decrypt+verify of the same payload, this thread
      const bin = (await openpgp.encrypt({
        message: await openpgp.createMessage({ binary: raw }),
        encryptionKeys: [recipient.pub, sender.pub],
        signingKeys: sender.priv,
        format: 'armored',
      })) as string;
      const ref = await rate(Math.max(4, Math.floor(n / 2)), 1, async () => {
        const m = await openpgp.readMessage({ armoredMessage: bin });
        const r = await openpgp.decrypt({
          message: m,
          decryptionKeys: recipient.priv,
          verificationKeys: sender.pub,
          format: 'binary',
        });
        await r.signatures[0]!.verified;
      });
      log(row('openpgp.js decrypt+verify (reference)', size.label, 2, 'in-thread', ref, ref, 1));
      for (const nrec of [1, 10]) {
        const encKeys = [...keys.slice(1, 1 + nrec).map((k) => k.pub), sender.pub];
        const encrypted = await inlineEngine.encryptMessage(raw, {
          encryptionKeys: encKeys,
          signingKeys: [sender.priv],
        });
        for (const [name, engine] of engines) {
          const conc = engine === inlineEngine ? 1 : availableParallelism() * 4;
          const e = await rate(n, conc, () =>
            engine.encryptMessage(raw, { encryptionKeys: encKeys, signingKeys: [sender.priv] }),
          );
          const threads = engine === inlineEngine ? 1 : availableParallelism();
          log(row('encrypt+sign', size.label, nrec, name, e, ref, threads));
          const d = await rate(n, conc, async () => {
            const r = await engine.decryptMessage(encrypted, {
              decryptionKeys: [recipient.priv],
              verificationKeys: [sender.pub],
            });
            if (r.status !== 'encrypted' || r.signature !== 'valid') throw new Error('bench: decrypt failed');
          });
          log(row('decrypt+verify', size.label, nrec, name, d, ref, threads));
        }
      }
    }
  } finally {
    await pool.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ smoke: process.argv.includes('--smoke'), log: (l) => console.log(l) });
}
