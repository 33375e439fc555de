/**
 * A smaller SQLite page cache for the duration of a write burst (an import, a sync's batches).
 * The pages such a burst writes are not read again, so a small cache costs nothing measurable,
 * while the store's default (16 MiB, native/sqlcipher.ts) fills up with them: ~12 MB of peak RSS
 * (the goals: < 200 MB importing 100k messages, <= 300 MB syncing). Holds nest and may
 * overlap; the cache is restored when the last one is released.
 */
import { PAGE_SIZE } from '../../native/sqlcipher.ts';
import { STORE_SQL } from './sql.ts';
import type { Store } from './store.ts';

export const WRITE_BURST_CACHE_KIB = 4096;

const holds = new WeakMap<Store, { count: number; restore: number }>();

/** Shrinks the store's page cache; the returned function restores it (idempotent). */
export function holdSmallCache(store: Store, kib = WRITE_BURST_CACHE_KIB): () => void {
  let hold = holds.get(store);
  if (!hold) {
    const restore = store[STORE_SQL].db.pragma('cache_size', { simple: true }) as number;
    const current = restore < 0 ? -restore : (restore * PAGE_SIZE) / 1024;
    if (current > kib) store[STORE_SQL].db.pragma(`cache_size = -${kib}`);
    hold = { count: 0, restore };
    holds.set(store, hold);
  }
  hold.count++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--hold.count > 0) return;
    holds.delete(store);
    if (!store.closed) store[STORE_SQL].db.pragma(`cache_size = ${hold.restore}`);
  };
}
