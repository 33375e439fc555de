// The long run of the two-sided randomized sync test (issue 13): repeats
// test/integration/sync/two-sided-random.test.ts with a new seed each round for
// LB_SOAK_MINUTES (default 30), LB_RANDOM_OPS operations a round (default 120), and prints the
// operation and fault counts of every round; exits 1 at the first violation, with its seed.
//   npm run soak:sync            LB_SOAK_MINUTES=5 npm run soak:sync
// LB_WORLD_LOG=FILE LB_WORLD_DEBUG=1 keeps the last round's bridge log (debug level) in FILE.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const minutes = Number(process.env.LB_SOAK_MINUTES ?? 30);
const ops = process.env.LB_RANDOM_OPS ?? '120';
const until = Date.now() + minutes * 60_000;
let seed = Number(process.env.LB_SEED ?? Date.now() % 1_000_000);
const total = {
  rounds: 0,
  ops: 0,
  resets: 0,
  swallows: 0,
  blackholes: 0,
  kills: 0,
  lost250: 0,
  sentTwice: 0,
};
while (Date.now() < until) {
  // LB_WORLD_LOG keeps the bridge's log of the round (of the failing one when it stops)
  if (process.env.LB_WORLD_LOG) writeFileSync(process.env.LB_WORLD_LOG, '');
  const res = spawnSync(
    process.execPath,
    ['--test', '--test-reporter=tap', 'test/integration/sync/two-sided-random.test.ts'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, LB_SEED: String(seed), LB_RANDOM_OPS: ops } },
  );
  const line = /# (seed \d+ .*)$/m.exec(res.stdout ?? '')?.[1] ?? '';
  if (res.status !== 0) {
    process.stdout.write(res.stdout + res.stderr);
    console.error(`soak: violation with seed ${seed} after ${total.rounds} clean rounds`);
    process.exit(1);
  }
  const counts = JSON.parse(/(\{.*\})/.exec(line)?.[1] ?? '{}');
  total.rounds++;
  for (const k of ['ops', 'resets', 'swallows', 'blackholes', 'kills', 'lost250', 'sentTwice'])
    total[k] += counts[k] ?? 0;
  console.log(`round ${total.rounds}: ${line}`);
  seed++;
}
console.log(`soak: ${JSON.stringify(total)}, 0 violations in ${minutes} min`);
