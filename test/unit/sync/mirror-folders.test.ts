// mirrorFolders (app/sync/folders.ts) runs on the provider's folder list while local folder changes
// may still wait in the queue (a replay stopped at a refused change, or a client renamed or deleted a
// folder while the pass listed the provider's folders). A queued change must win: the folder list
// shows the provider as it was *before* that change reaches it. Real store (SQLCipher).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mirrorFolders, type RemoteFolder } from '../../../app/sync/folders.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { Store } from '../../../app/store/store.ts';
import { msg, newStore, tempDir, testAccount } from '../store/helpers.ts';

function folder(path: string): RemoteFolder {
  return { path, delimiter: '/', specialUse: null, subscribed: true, selectable: true, messages: 0 };
}

async function withSyncedFolder(fn: (s: Store, accountId: number, mailboxId: number) => void): Promise<void> {
  const { dir, cleanup } = tempDir('lb-mirror-');
  const s = await newStore(dir);
  try {
    const acc = testAccount(s, 'me@example.test');
    s.mailboxes.ensure(acc.id, 'INBOX', { remoteName: 'INBOX', origin: 'sync' });
    const a = s.mailboxes.create(acc.id, 'A', { remoteName: 'A', origin: 'sync' });
    const m = s.messages.insert(a.id, msg('kept', 'body'), 'sync');
    s.messages.setRemote(m.id, acc.id, { remoteMailbox: 'A', uidvalidity: 7, uid: 1 });
    fn(s, acc.id, a.id);
  } finally {
    s.close();
    cleanup();
  }
}

test('a folder renamed twice locally, the first rename done at the provider but its reply lost: kept, not re-mirrored', async () => {
  await withSyncedFolder((s, accountId, id) => {
    s.mailboxes.rename(id, 'B');
    s.mailboxes.rename(id, 'C');
    // the provider already has B (our RENAME A B went through; the reply was lost), not yet C
    mirrorFolders(s, accountId, [folder('INBOX'), folder('B')], silentLogger);
    const names = s.mailboxes.list(accountId).map((b) => b.name);
    assert.deepEqual(names.sort(), ['C', 'INBOX'], 'no second folder B mirrored beside the renamed one');
    assert.equal(
      s.mailboxes.get(id)?.name,
      'C',
      'the renamed folder is not taken for one deleted at the provider',
    );
    assert.equal([...s.messages.iterateMeta(id)].length, 1, 'its message stays');
  });
});

test('a folder deleted locally while the provider still has it is not brought back', async () => {
  await withSyncedFolder((s, accountId, id) => {
    s.mailboxes.delete(id);
    mirrorFolders(s, accountId, [folder('INBOX'), folder('A')], silentLogger);
    const names = s.mailboxes.list(accountId).map((b) => b.name);
    assert.deepEqual(names, ['INBOX'], 'the queued DELETE reaches the provider first');
  });
});

test('a folder created locally whose CREATE reply was lost and that was then renamed is not mirrored twice', async () => {
  await withSyncedFolder((s, accountId) => {
    const n = s.mailboxes.create(accountId, 'N');
    s.mailboxes.rename(n.id, 'M');
    mirrorFolders(s, accountId, [folder('INBOX'), folder('A'), folder('N')], silentLogger);
    const names = s.mailboxes.list(accountId).map((b) => b.name);
    assert.deepEqual(names.sort(), ['A', 'INBOX', 'M']);
  });
});

test('a folder with no queued change that vanished at the provider is still removed locally', async () => {
  await withSyncedFolder((s, accountId) => {
    mirrorFolders(s, accountId, [folder('INBOX')], silentLogger);
    assert.deepEqual(
      s.mailboxes.list(accountId).map((b) => b.name),
      ['INBOX'],
    );
  });
});
