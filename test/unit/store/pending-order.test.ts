// The queue of local changes replays in order where order matters: nothing overtakes a folder
// change (create, rename, delete) that waits for its retry; a waiting message change holds nothing up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msg, newStore, tempDir, testAccount } from './helpers.ts';

test('changes queued behind a folder change waiting for its retry wait too; behind a message change they do not', async () => {
  // A rename refused once and retried later must not be overtaken by the next rename of the same
  // folder (RENAME A C, then the retry renamed C back to B); a refused flag change holds nothing up.
  const { dir, cleanup } = tempDir('lb-order-');
  const s = await newStore(dir);
  try {
    const acc = testAccount(s, 'me@example.test');
    const a = s.mailboxes.create(acc.id, 'A', { remoteName: 'A', origin: 'sync' });
    const m = s.messages.insert(a.id, msg('one', 'x'), 'sync');
    s.messages.storeFlags(a.id, [m.uid], 'add', ['\\Seen']);
    s.mailboxes.rename(a.id, 'B');
    s.mailboxes.rename(a.id, 'C');
    const rows = s.pending.list(acc.id);
    assert.deepEqual(
      rows.map((r) => r.change.kind),
      ['flags', 'mailbox-rename', 'mailbox-rename'],
    );
    const later = Date.now() + 60_000;
    s.pending.failed(rows[0]!.id, 'refused', later);
    assert.deepEqual(
      s.pending.list(acc.id).map((r) => r.id),
      [rows[1]!.id, rows[2]!.id],
      'a waiting flag change holds nothing up',
    );
    s.pending.failed(rows[1]!.id, 'refused', later);
    assert.deepEqual(s.pending.list(acc.id), [], 'nothing runs before the waiting rename');
    assert.equal(s.pending.list(acc.id, 500, later).length, 3, 'all of them once it is due');
  } finally {
    s.close();
    cleanup();
  }
});
