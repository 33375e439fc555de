import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdSmallCache } from '../../../app/store/cache-hold.ts';
import type { Store } from '../../../app/store/store.ts';
import { newStore, tempDir } from './helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';

describe('holdSmallCache (write bursts: import, sync batches)', () => {
  const t = tempDir();
  let s: Store;
  before(async () => {
    s = await newStore(join(t.dir, 'store'));
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('shrinks the page cache while held, nested and overlapping, and restores it after the last', () => {
    const cache = () => rawDb(s).pragma('cache_size', { simple: true }) as number;
    const before = cache();
    assert.ok(before < -4096, 'the default is bigger than the burst cache');
    const a = holdSmallCache(s);
    assert.equal(cache(), -4096);
    const b = holdSmallCache(s);
    a();
    a(); // idempotent
    assert.equal(cache(), -4096, 'still held by b');
    b();
    assert.equal(cache(), before);
  });
});
