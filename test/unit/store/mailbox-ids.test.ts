// A mailbox id is never given to another mailbox, even after the newest one is deleted and the
// store reopened: queued provider changes name messages by (mailbox id, UID), and a folder deleted
// and another created in its place (ids reused by SQLite's max(rowid)+1) made the seed-257274
// soak upload a message of the deleted folder's queue into the new folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msg, newStore, reopen, tempDir, testAccount } from './helpers.ts';

test('mailbox ids are never reused: not after deleting the newest, not after reopening', async () => {
  const { dir, cleanup } = tempDir('lb-mbids-');
  try {
    const s = await newStore(dir);
    const acc = testAccount(s, 'me@example.test');
    const a = s.mailboxes.create(acc.id, 'A');
    s.messages.insert(a.id, msg('one', 'x'));
    s.mailboxes.delete(a.id);
    const b = s.mailboxes.create(acc.id, 'B');
    assert.ok(b.id > a.id, `B got id ${b.id}, A had ${a.id}`);
    assert.deepEqual(
      s.pending.folderChanges(acc.id).map((c) => [c.kind, c.mailboxId]),
      [
        ['mailbox-create', a.id],
        ['mailbox-delete', a.id],
        ['mailbox-create', b.id],
      ],
    );
    s.mailboxes.delete(b.id);
    s.close();
    const again = await reopen(dir);
    try {
      const c = again.mailboxes.create(acc.id, 'C');
      assert.ok(c.id > b.id, `C got id ${c.id}, B had ${b.id}`);
      const child = again.mailboxes.create(acc.id, 'C/child');
      assert.ok(child.id > c.id);
    } finally {
      again.close();
    }
  } finally {
    cleanup();
  }
});
