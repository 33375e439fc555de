/**
 * Seeded randomness for tests: every random choice comes from one seed, taken from
 * LOCKBRIDGE_TEST_SEED when set (to replay a failure), else made up and reported on failure.
 */
import { randomInt } from 'node:crypto';

export interface Seeded {
  readonly seed: number;
  /** A float in [0, 1) (mulberry32: small, fast, and enough for choosing test timings). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** Runs `fn`; a failure is rethrown with the seed, so the run can be replayed. */
  report<T>(fn: () => Promise<T>): Promise<T>;
}

export function seeded(): Seeded {
  const env = process.env.LOCKBRIDGE_TEST_SEED;
  const seed = env !== undefined && env !== '' ? Number(env) >>> 0 : randomInt(2 ** 31);
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
    async report(fn) {
      try {
        return await fn();
      } catch (err) {
        const note = `(random choices from seed ${seed}: replay with LOCKBRIDGE_TEST_SEED=${seed})`;
        if (err instanceof Error) err.message = `${err.message}\n${note}`;
        throw err;
      }
    },
  };
}
