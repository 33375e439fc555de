/**
 * bench/million.ts's measured process: the bridge as `serve` runs it (createBridge + serve), on a
 * home whose account was just added. It loads only the product (and peak-rss.ts), so its RSS is
 * the product's: run from bench/million.ts itself, the bench's own modules (the provider harness,
 * the other benches) added ~7 MB of heap and ~18 MB of RSS to what was measured.
 *
 * stdout: one JSON line per event (ChildLine); stdin: `rss`, `backlog`, `exit`, one per line.
 * `--warm <home>` only starts and stops the bridge on a home without an account, first: Node's
 * compile cache (scripts/lockbridge-node) then holds every module type-stripped, as it does for
 * every start of the product but its first. A measured start with a cold cache also loaded the
 * TypeScript stripper: ~27 MB more RSS (importing app/index.ts: 125 MB cold, 96-99 MB warm).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createBridge } from '../app/index.ts';
import { LogRing } from '../app/config/logging.ts';
import { silentLogger } from '../app/shared/logger.ts';
import { peakRssBytes, resetPeakRss } from './peak-rss.ts';

export const CHILD = fileURLToPath(import.meta.url);
export const PASSPHRASE = 'million bench';

/** The bridge child's lines on stdout, one JSON object each. */
export interface ChildLine {
  event: 'serving' | 'synced' | 'rss' | 'backlog';
  n?: number;
  imap?: number;
  ms?: number;
  peakRssMb?: number;
  unlockRssMb?: number;
}

/** The bridge on `home` as `serve` creates it (the bench's passphrase, logs kept in memory). */
export function openBridge(home: string): ReturnType<typeof createBridge> {
  return createBridge({ home, passphrase: PASSPHRASE, logger: silentLogger, logs: new LogRing() });
}

function debug(line: string): void {
  if (process.env.LB_BENCH_DEBUG)
    process.stderr.write(`child ${(performance.now() / 1000).toFixed(1)} s: ${line}\n`);
}

/** Where the resident memory is (LB_BENCH_DEBUG): V8's 256 KiB pages, malloc's heap, the rest. */
function memory(what: string): void {
  if (!process.env.LB_BENCH_DEBUG) return;
  const kib = { v8: 0, malloc: 0, anon: 0, files: 0 };
  let kind: keyof typeof kib = 'anon';
  for (const l of readFileSync('/proc/self/smaps', 'latin1').split('\n')) {
    const map = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(\S*)/.exec(l);
    if (map) {
      const size = (parseInt(map[2]!, 16) - parseInt(map[1]!, 16)) / 1024;
      kind = map[3] === '[heap]' ? 'malloc' : map[3] ? 'files' : size === 256 ? 'v8' : 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(l);
    if (rss) kib[kind] += Number(rss[1]);
  }
  const m = process.memoryUsage();
  const mb = (n: number) => (n / 1048576).toFixed(0);
  debug(
    `${what}: rss ${mb(m.rss)} (V8 pages ${mb(kib.v8 * 1024)}, malloc ${mb(kib.malloc * 1024)}, other anon ${mb(kib.anon * 1024)}, files ${mb(kib.files * 1024)}) heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} arrayBuffers ${mb(m.arrayBuffers)}`,
  );
}

async function main(home: string, total: number): Promise<void> {
  const bridge = await openBridge(home);
  const say = (l: ChildLine) => process.stdout.write(JSON.stringify(l) + '\n');
  // the unlock's key derivation (Argon2id, 64 MiB, once at start) is reported apart
  const unlockRssMb = peakRssBytes() / 1048576;
  memory('unlocked');
  const ticks = setInterval(() => memory('tick'), 30_000).unref();
  resetPeakRss();
  const t0 = performance.now();
  const ports = await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
  say({ event: 'serving', imap: ports.imap });
  const account = bridge.store.accounts.list()[0]!;
  for (let polls = 0; ; polls++) {
    let stored = 0;
    const boxes = bridge.store.mailboxes.list(account.id);
    for (const mb of boxes) stored += bridge.store.mailboxes.status(mb.id).messages;
    if (stored >= total) break;
    if (polls % 10 === 0)
      debug(boxes.map((b) => `${b.name} ${bridge.store.mailboxes.status(b.id).messages}`).join(', '));
    await new Promise((r) => setTimeout(r, 200));
  }
  say({ event: 'synced', ms: performance.now() - t0 });
  memory('synced');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'rss') {
      memory('end');
      say({ event: 'rss', peakRssMb: peakRssBytes() / 1048576, unlockRssMb });
    }
    if (line === 'backlog') say({ event: 'backlog', n: bridge.store.messages.ftsBacklog() });
    if (line === 'exit') break;
  }
  clearInterval(ticks);
  await bridge.close();
}

async function warm(home: string): Promise<void> {
  const bridge = await openBridge(home);
  await bridge.serve({ imapPort: 0, smtpPort: 0, control: false });
  await bridge.close();
}

if (process.argv[1] === CHILD) {
  if (process.argv[2] === '--warm') await warm(process.argv[3]!);
  else await main(process.argv[2]!, Number(process.argv[3]));
}
