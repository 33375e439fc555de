/** Issue 14 item 15: store.db and its -wal/-shm files are readable by the owner only (0600). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { newStore, reopen, tempDir } from './helpers.ts';

function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    const st = statSync(join(dir, f));
    if (st.isFile()) out[f] = (st.mode & 0o777).toString(8);
  }
  return out;
}

describe('store file modes', () => {
  it('creates every store file 0600, and an older store is set to 0600 at open', async () => {
    const t = tempDir();
    const old = process.umask(0o022);
    try {
      const store = await newStore(t.dir);
      store.settings.set('encryptPolicy', 'when-possible');
      assert.ok(existsSync(join(t.dir, 'store.db-wal')), 'the WAL file exists while the store is open');
      for (const [f, mode] of Object.entries(modes(t.dir)))
        if (f.startsWith('store.db') || f.endsWith('.json')) assert.equal(mode, '600', f);
      store.close();
      chmodSync(join(t.dir, 'store.db'), 0o644);
      const again = await reopen(t.dir);
      again.settings.set('encryptPolicy', 'when-possible');
      for (const [f, mode] of Object.entries(modes(t.dir)))
        if (f.startsWith('store.db')) assert.equal(mode, '600', f);
      again.close();
    } finally {
      process.umask(old);
      t.cleanup();
    }
  });
});
