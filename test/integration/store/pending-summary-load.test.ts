/**
 * Issue 14 "no single request may freeze the bridge", for `status` (control API, CLI, the UI polls
 * it): what waits for the provider is summed over pending_changes, which an import of a million
 * messages not yet uploaded fills with a million rows. The sums read every row: 635-678 ms of CPU in
 * one turn of the event loop at 1,000,000 rows (measured). Now they are taken in slices of the
 * account's rows with the event loop free in between; the sums are the same.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { measureLoop } from '../../helpers/event-loop.ts';
import { STORE_SQL } from '../../../app/store/sql.ts';
import type { Store } from '../../../app/store/store.ts';
import { addLocalAccount, newStore, tempDir } from '../../unit/store/helpers.ts';

/** The most CPU time of one turn while the sums are taken (the FETCH and SEARCH tests' bound). */
const TURN_CPU_MS = 100;
const ROWS = 1_000_000;

describe('status sums a million pending changes without holding the event loop (issue 14)', () => {
  const t = tempDir('lb-pending-load-');
  let store: Store;
  let accountId: number;

  before(async () => {
    store = await newStore(t.dir);
    accountId = addLocalAccount(store, 'me@example.test', 'pw').id;
    const other = addLocalAccount(store, 'other@example.test', 'pw').id;
    // test-only: the rows an import of a million messages queues, made by SQL (every 3rd a flag
    // change; the 600,000th met an error, and one of the other account's rows later)
    store[STORE_SQL].db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
      INSERT INTO pending_changes (account_id, kind, payload, last_error, created_at)
      SELECT ${accountId}, CASE WHEN i % 3 = 0 THEN 'flags' ELSE 'append' END,
             '{"mailboxId":1,"uid":' || i || '}',
             CASE WHEN i = 600000 THEN 'NO [OVERQUOTA] quota exceeded' END, 1700000000000 + i FROM n;
      INSERT INTO pending_changes (account_id, kind, payload, last_error, created_at)
      VALUES (${other}, 'append', '{}', 'not this one', 1600000000000);`);
    // the rows into the database now, not by the store's checkpoint in a turn during the test
    store[STORE_SQL].db.pragma('wal_checkpoint(TRUNCATE)');
  });
  after(() => {
    store?.close();
    t.cleanup();
  });

  it('the summary of 1,000,000 pending changes', async () => {
    const r = await measureLoop(async () => store.pending.summary(accountId));
    console.log(
      `# summary of ${ROWS} pending changes: max event-loop delay ${r.maxMs.toFixed(0)} ms, longest turn ${r.cpuMs.toFixed(0)} ms of CPU`,
    );
    assert.deepEqual(r.value, {
      changes: ROWS,
      uploads: ROWS - Math.floor(ROWS / 3),
      oldestAt: 1700000000001,
      lastError: 'NO [OVERQUOTA] quota exceeded',
    });
    assert.ok(r.cpuMs <= TURN_CPU_MS, `${r.cpuMs.toFixed(0)} ms of CPU in one turn`);
  });
});
