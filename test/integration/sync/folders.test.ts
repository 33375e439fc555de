// Folder create/rename/delete in both directions, and a folder renamed on both sides at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { localFor, localSubjects, msg, remoteSubjects, type LocalSide } from './setup.ts';
import type { SyncEngine } from '../../../app/sync/engine.ts';

const alice = 'alice@example.test';
let p: Provider;
let local: LocalSide;
let engine: SyncEngine;

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  for (const box of ['Projects', 'Clash', 'Doomed', 'Kept', 'Source', 'Twin']) {
    await p.doveadm('mailbox', 'create', '-u', alice, box);
    await p.appendRaw(alice, box, msg(1, { subject: `${box} one` }));
    await p.appendRaw(alice, box, msg(2, { subject: `${box} two` }));
  }
  local = await localFor(p, alice);
  engine = local.engine();
  engine.start();
  await engine.whenSynced(30_000);
});
after(async () => {
  await local?.close();
  await p?.close();
});

async function remoteFolders(): Promise<string[]> {
  const c = await p.imapClient(alice);
  try {
    return (await c.list()).map((f) => f.path).sort();
  } finally {
    await c.logout();
  }
}

test('a local rename keeps the provider messages (RENAME, no re-upload)', async () => {
  const { store, accountId } = local;
  const before = await p.mailboxStatus(alice, 'Projects');
  store.mailboxes.rename(store.mailboxes.getByName(accountId, 'Projects')!.id, 'Work/Projects');
  await engine.whenSynced(30_000);
  const folders = await remoteFolders();
  assert.ok(folders.includes('Work/Projects') && !folders.includes('Projects'), folders.join(','));
  const after = await p.mailboxStatus(alice, 'Work/Projects');
  assert.equal(after.uidvalidity, before.uidvalidity); // the same mailbox, renamed
  assert.deepEqual(await remoteSubjects(p, alice, 'Work/Projects'), ['Projects one', 'Projects two']);
  assert.deepEqual(localSubjects(store, accountId, 'Work/Projects'), ['Projects one', 'Projects two']);
  assert.equal(store.pending.count(accountId), 0);
});

test('changes queued after a local rename reach the renamed folder (delete, expunge, flags)', async () => {
  // Queued while offline, replayed in order: the rename first, then changes that recorded the
  // folder's provider name before the rename was replayed. A delete used to hit the old name
  // (NONEXISTENT, taken as done) and the folder came back; an expunge left the message there.
  const { store, accountId } = local;
  await engine.stop();
  const doomed = store.mailboxes.getByName(accountId, 'Doomed')!;
  store.mailboxes.rename(doomed.id, 'Doomed-renamed');
  store.mailboxes.delete(doomed.id);
  const kept = store.mailboxes.getByName(accountId, 'Kept')!;
  store.mailboxes.rename(kept.id, 'Kept-renamed');
  const [first, second] = store.messages.uids(kept.id);
  store.messages.storeFlags(kept.id, [first!], 'add', ['\\Deleted']);
  store.messages.expunge(kept.id, [first!]);
  store.messages.storeFlags(kept.id, [second!], 'add', ['\\Flagged']);
  engine.start();
  await engine.whenSynced(30_000);
  const folders = await remoteFolders();
  assert.ok(!folders.some((f) => f.startsWith('Doomed')), folders.join(','));
  assert.ok(folders.includes('Kept-renamed') && !folders.includes('Kept'), folders.join(','));
  assert.deepEqual(await remoteSubjects(p, alice, 'Kept-renamed'), ['Kept two']);
  const out = await p.doveadm('fetch', '-u', alice, 'flags', 'mailbox', 'Kept-renamed', 'all');
  assert.match(out, /\\Flagged/);
  assert.equal(store.pending.count(accountId), 0);
  assert.ok(
    !store.mailboxes.getByName(accountId, 'Doomed-renamed') &&
      !store.mailboxes.getByName(accountId, 'Doomed'),
  );
});

test('a copy whose source folder is gone at the provider is uploaded from the local copy', async () => {
  // Copied here while offline; meanwhile another device deleted the source folder. The queued
  // COPY used to fail on SELECT forever (retried, then dropped: the copy never reached the provider).
  const { store, accountId } = local;
  await engine.stop();
  const src = store.mailboxes.getByName(accountId, 'Source')!;
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  store.messages.copy(src.id, [store.messages.uids(src.id)[0]!], inbox.id);
  store.messages.move(src.id, [store.messages.uids(src.id)[1]!], inbox.id);
  await p.doveadm('mailbox', 'delete', '-u', alice, 'Source');
  engine.start();
  await engine.whenSynced(30_000);
  const subjects = await remoteSubjects(p, alice, 'INBOX');
  assert.ok(subjects.includes('Source one') && subjects.includes('Source two'), subjects.join(','));
  assert.equal(store.pending.count(accountId), 0);
});

test('renamed on both sides: both names exist afterwards and no message is lost', async () => {
  const { store, accountId } = local;
  await engine.stop();
  const c = await p.imapClient(alice);
  try {
    await c.mailboxRename('Clash', 'Clash-there');
  } finally {
    await c.logout();
  }
  store.mailboxes.rename(store.mailboxes.getByName(accountId, 'Clash')!.id, 'Clash-here');
  engine = local.engine();
  engine.start();
  await engine.whenSynced(30_000);
  const folders = await remoteFolders();
  assert.ok(folders.includes('Clash-here') && folders.includes('Clash-there'), folders.join(','));
  for (const box of ['Clash-here', 'Clash-there']) {
    assert.deepEqual(await remoteSubjects(p, alice, box), ['Clash one', 'Clash two'], box);
    assert.deepEqual(localSubjects(store, accountId, box), ['Clash one', 'Clash two'], box);
  }
});

test('renamed here to a name another device made there: merged into it, nothing lost, no loop', async () => {
  // RENAME Twin Twin-b fails (ALREADYEXISTS) while both names exist at the provider: the folder
  // takes the provider's Twin-b and its messages are uploaded there. The re-upload used to write
  // while it read the folder's messages ("database connection is busy"), so the replay failed and
  // was retried forever.
  const { store, accountId } = local;
  await engine.stop();
  await p.doveadm('mailbox', 'create', '-u', alice, 'Twin-b');
  await p.appendRaw(alice, 'Twin-b', msg(3, { subject: 'Twin-b there' }));
  store.mailboxes.rename(store.mailboxes.getByName(accountId, 'Twin')!.id, 'Twin-b');
  engine = local.engine();
  engine.start();
  await engine.whenSynced(30_000);
  await engine.whenSynced(30_000); // the next pass brings what the provider's Twin-b held
  assert.equal(store.pending.count(accountId), 0);
  const there = await remoteSubjects(p, alice, 'Twin-b');
  assert.deepEqual(there, ['Twin one', 'Twin two', 'Twin-b there']);
  assert.deepEqual(localSubjects(store, accountId, 'Twin-b'), there);
  assert.deepEqual(await remoteSubjects(p, alice, 'Twin'), ['Twin one', 'Twin two']);
  assert.deepEqual(localSubjects(store, accountId, 'Twin'), ['Twin one', 'Twin two']);
});

test('folders created and deleted at the provider appear and disappear locally', async () => {
  const { store, accountId } = local;
  const c = await p.imapClient(alice);
  try {
    await c.mailboxCreate('Fresh');
    await c.mailboxDelete('Clash-there');
  } finally {
    await c.logout();
  }
  await engine.whenSynced(30_000);
  assert.ok(store.mailboxes.getByName(accountId, 'Fresh'));
  assert.equal(store.mailboxes.getByName(accountId, 'Clash-there'), null);
});
