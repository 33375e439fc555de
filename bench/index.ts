/**
 * `npm run bench [-- --smoke] [-- store imap ...]`: runs each area's benchmark and prints its table.
 * Areas report figures as ratios against a reference measured in the same run (Dovecot, mbsync, …).
 * `--smoke` runs tiny sizes so CI keeps every benchmark working without taking long.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface BenchOptions {
  smoke: boolean;
  log: (line: string) => void;
}

const AREAS = [
  'store',
  'mime',
  'imap',
  'imap-consistency',
  'imap-memory',
  'crypto',
  'smime',
  'smtp',
  'sync',
  'search',
  'million',
] as const;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const smoke = argv.includes('--smoke') || process.env.LOCKBRIDGE_BENCH_SMOKE === '1';
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const here = dirname(fileURLToPath(import.meta.url));
  const areas = AREAS.filter((a) => wanted.length === 0 || wanted.includes(a));
  let failed = 0;
  for (const area of areas) {
    const file = join(here, `${area}.ts`);
    if (!existsSync(file)) continue;
    const mod = (await import(file)) as { run?: (o: BenchOptions) => Promise<void> };
    if (typeof mod.run !== 'function') continue;
    console.log(`\n## ${area}${smoke ? ' (smoke size)' : ''}`);
    const t0 = Date.now();
    try {
      await mod.run({ smoke, log: (line) => console.log(line) });
      console.log(`(${area}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed++;
      console.error(`bench ${area} failed: ${(err as Error).stack ?? String(err)}`);
    }
  }
  if (failed) process.exit(1);
}

await main();
