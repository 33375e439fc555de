/**
 * S/MIME benchmark (issue 19): decrypt+verify of signed-then-encrypted S/MIME (openssl cms: RSA
 * or EC P-256 recipient, AES-256-GCM authEnveloped-data, RSA signer) through Lockbridge's decrypt
 * path, in-thread and with the worker pool, next to the OpenPGP decrypt+verify of the same
 * content in-thread and `openssl cms -decrypt` + `-verify` on the same messages (two processes
 * per message, so it includes process start). And the other way: sign+encrypt of the same
 * content as Lockbridge sends it (S/MIME: multipart/signed then AES-256-GCM authEnveloped-data to
 * the recipient and the sender, RSA or EC P-256 keys on both sides), in-thread and on the pool,
 * next to OpenPGP encrypt+sign in-thread and `openssl cms -sign` + `-encrypt`. Messages/s; the
 * ratio column is against the in-thread OpenPGP figure of the same direction.
 */
import * as openpgp from 'openpgp';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { inlineEngine, type CryptoEngine } from '../app/crypto/engine.ts';
import { createWorkerPool } from '../app/crypto/worker-pool.ts';
import type { SmimeMaterial } from '../app/crypto/smime.ts';
import { OpensslCa, type OsslUser } from '../test/helpers/crypto/openssl.ts';

interface Rate {
  perSec: number;
}

async function rate(
  count: number,
  concurrency: number,
  job: () => Promise<unknown> | unknown,
): Promise<Rate> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) await job();
    }),
  );
  return { perSec: count / ((performance.now() - t0) / 1000) };
}

function entity(size: number): string {
  let body = '';
  while (body.length < size)
    body += 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\r\n';
  return `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
}

export async function run(opts: { smoke: boolean; log: (line: string) => void }): Promise<void> {
  const { smoke, log } = opts;
  const ca = new OpensslCa();
  const pool = createWorkerPool({ size: availableParallelism() });
  try {
    const bob = ca.user('bob@example.test', 'rsa');
    const to: Record<'rsa' | 'ec', OsslUser> = { rsa: bob, ec: ca.user('carol@example.test', 'ec') };
    const me: Record<'rsa' | 'ec', OsslUser> = {
      rsa: ca.user('me@example.test', 'rsa'),
      ec: ca.user('me@example.test', 'ec'),
    };
    const der = (args: string[]) => ca.must('openssl', args);
    const material: SmimeMaterial = {
      identities: (['rsa', 'ec'] as const).map((k) => ({
        certificate: me[k].certDer,
        privateKey: der(['pkcs8', '-topk8', '-nocrypt', '-in', me[k].keyPath, '-outform', 'DER']),
      })),
      trustAnchors: [der(['x509', '-in', ca.path('ca.pem'), '-outform', 'DER'])],
    };
    const pgpKey = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: 'me@example.test' }],
      format: 'object',
    });
    const sizes = smoke
      ? [{ label: '2 KB', bytes: 2_000 }]
      : [
          { label: '20 KB', bytes: 20_000 },
          { label: '1 MB', bytes: 1_000_000 },
        ];
    const n = (bytes: number) => (smoke ? 4 : bytes < 100_000 ? 200 : 16);
    const head = 'From: bob@example.test\r\nTo: me@example.test\r\nSubject: bench\r\n';
    log(
      `cores: ${availableParallelism()}; msgs/s, wall clock in this run (other work on the machine skews absolute figures)`,
    );
    log('| operation | size | recipient key | engine | msgs/s | × OpenPGP in-thread |');
    log('|---|---|---|---|---|---|');
    for (const size of sizes) {
      const ent = entity(size.bytes);
      const count = n(size.bytes);
      const pgpMsg = await inlineEngine.encryptMessage(Buffer.from(head + ent), {
        encryptionKeys: [pgpKey.publicKey],
        signingKeys: [pgpKey.privateKey],
      });
      const ref = await rate(count, 1, async () => {
        const r = await inlineEngine.decryptMessage(pgpMsg, {
          decryptionKeys: [pgpKey.privateKey],
          verificationKeys: [pgpKey.publicKey],
        });
        if (r.status !== 'encrypted' || r.signature !== 'valid')
          throw new Error('bench: OpenPGP decrypt failed');
      });
      log(
        `| OpenPGP decrypt+verify | ${size.label} | Curve25519 | in-thread | ${ref.perSec.toFixed(0)} | 1.00 |`,
      );
      for (const kind of ['rsa', 'ec'] as const) {
        const signed = ca.must(
          'openssl',
          ['cms', '-sign', '-signer', bob.certPath, '-inkey', bob.keyPath],
          ent,
        );
        const raw = ca.cms(['-encrypt', '-aes-256-gcm', me[kind].certPath], signed, head);
        const engines: [string, CryptoEngine, number][] = [
          ['in-thread', inlineEngine, 1],
          [`pool×${availableParallelism()}`, pool, availableParallelism() * 4],
        ];
        for (const [name, engine, conc] of engines) {
          // warm up (worker start, module load) untimed
          await Promise.all(
            Array.from({ length: conc }, () =>
              engine.decryptMessage(raw, { decryptionKeys: [], smime: material }),
            ),
          );
          const r = await rate(count, conc, async () => {
            const res = await engine.decryptMessage(raw, { decryptionKeys: [], smime: material });
            if (res.status !== 'encrypted' || res.signature !== 'valid')
              throw new Error(`bench: S/MIME decrypt failed: ${res.reason ?? res.signature}`);
          });
          log(
            `| S/MIME decrypt+verify | ${size.label} | ${kind.toUpperCase()} | ${name} | ${r.perSec.toFixed(0)} | ${(r.perSec / ref.perSec).toFixed(2)} |`,
          );
        }
        const file = ca.path(`bench-${kind}-${size.bytes}.eml`);
        writeFileSync(file, raw);
        const o = await rate(Math.max(2, Math.floor(count / 4)), 1, () => {
          const d = spawnSync(
            'openssl',
            ['cms', '-decrypt', '-in', file, '-recip', me[kind].certPath, '-inkey', me[kind].keyPath],
            { maxBuffer: 64 << 20 },
          );
          const v = spawnSync(
            'openssl',
            ['cms', '-verify', '-CAfile', ca.path('ca.pem'), '-out', '/dev/null'],
            { input: d.stdout, maxBuffer: 64 << 20 },
          );
          if (d.status !== 0 || v.status !== 0)
            throw new Error(`bench: openssl failed: ${d.stderr}${v.stderr}`);
        });
        log(
          `| openssl cms -decrypt + -verify (2 processes) | ${size.label} | ${kind.toUpperCase()} | openssl | ${o.perSec.toFixed(0)} | ${(o.perSec / ref.perSec).toFixed(2)} |`,
        );
      }

      // sign+encrypt, as outgoing mail is built
      const plain = Buffer.from(head + ent);
      const out = await rate(count, 1, () =>
        inlineEngine.encryptMessage(plain, {
          encryptionKeys: [pgpKey.publicKey],
          signingKeys: [pgpKey.privateKey],
        }),
      );
      log(
        `| OpenPGP encrypt+sign | ${size.label} | Curve25519 | in-thread | ${out.perSec.toFixed(0)} | 1.00 |`,
      );
      for (const [i, kind] of (['rsa', 'ec'] as const).entries()) {
        const signer = material.identities[i]!;
        const copies = [{ recipients: [to[kind].certDer, me[kind].certDer], gcm: true }];
        const engines: [string, CryptoEngine, number][] = [
          ['in-thread', inlineEngine, 1],
          [`pool×${availableParallelism()}`, pool, availableParallelism() * 4],
        ];
        for (const [name, engine, conc] of engines) {
          const once = async () => {
            const [msg] = await engine.smimeCopies(plain, { signer, copies });
            if (!msg) throw new Error('bench: S/MIME sign+encrypt made nothing');
          };
          await Promise.all(Array.from({ length: conc }, once)); // warm up, untimed
          const r = await rate(count, conc, once);
          log(
            `| S/MIME sign+encrypt | ${size.label} | ${kind.toUpperCase()} | ${name} | ${r.perSec.toFixed(0)} | ${(r.perSec / out.perSec).toFixed(2)} |`,
          );
        }
        const o = await rate(Math.max(2, Math.floor(count / 4)), 1, () => {
          const sig = spawnSync(
            'openssl',
            ['cms', '-sign', '-signer', me[kind].certPath, '-inkey', me[kind].keyPath],
            { input: ent, maxBuffer: 64 << 20 },
          );
          const enc = spawnSync(
            'openssl',
            ['cms', '-encrypt', '-aes-256-gcm', to[kind].certPath, me[kind].certPath],
            { input: sig.stdout, maxBuffer: 64 << 20 },
          );
          if (sig.status !== 0 || enc.status !== 0)
            throw new Error(`bench: openssl failed: ${sig.stderr}${enc.stderr}`);
        });
        log(
          `| openssl cms -sign + -encrypt (2 processes) | ${size.label} | ${kind.toUpperCase()} | openssl | ${o.perSec.toFixed(0)} | ${(o.perSec / out.perSec).toFixed(2)} |`,
        );
      }
    }
  } finally {
    await pool.close();
    ca.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ smoke: process.argv.includes('--smoke'), log: (l) => console.log(l) });
}
