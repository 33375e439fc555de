// Sync against a real Dovecot (+ Postfix): initial sync, IDLE push, flags/moves/deletions in
// both directions, offline edits replayed after a provider restart, UIDVALIDITY reset.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { localFor, localSubjects, msg, remoteSubjects, until, type LocalSide } from './setup.ts';
import type { SyncEngine } from '../../../app/sync/engine.ts';

const alice = 'alice@example.test';
let p: Provider;
let local: LocalSide;
let engine: SyncEngine;

before(async () => {
  p = await startProvider();
  await p.addUser(alice, 'alice-pw');
  for (let i = 1; i <= 120; i++) await p.deliver(msg(i), { to: [alice], via: 'lmtp' });
  await p.appendRaw(alice, 'Sent', msg(1000, { subject: 'sent one' }), ['\\Seen']);
  await p.appendRaw(alice, 'Archive', msg(1001, { subject: 'archived' }), ['\\Seen', '\\Flagged']);
  local = await localFor(p, alice);
  // Marks what is uploaded (APPEND), so the test can tell an upload from a provider-side MOVE.
  engine = local.engine({
    encryptForUpload: async (raw) => Buffer.concat([Buffer.from('X-Test-Uploaded: 1\r\n'), raw]),
  });
  engine.start();
});

after(async () => {
  await local?.close();
  await p?.close();
});

test('initial sync mirrors folders (special-use) and every message', async () => {
  await engine.whenSynced(60_000);
  const { store, accountId } = local;
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  assert.equal(store.mailboxes.status(inbox.id).messages, 120);
  assert.equal(store.mailboxes.getByName(accountId, 'Sent')?.specialUse, '\\Sent');
  assert.equal(store.mailboxes.getByName(accountId, 'Trash')?.specialUse, '\\Trash');
  assert.deepEqual(localSubjects(store, accountId, 'Sent'), ['sent one']);
  const arch = store.mailboxes.getByName(accountId, 'Archive')!;
  const [m] = store.messages.iterateMeta(arch.id);
  assert.deepEqual([...m!.flags].sort(), ['\\Flagged', '\\Seen']);
  assert.deepEqual(localSubjects(store, accountId, 'INBOX'), await remoteSubjects(p, alice, 'INBOX'));
  const st = engine.status();
  assert.equal(st.connection, 'online');
  assert.equal(st.sync.messagesSynced, st.sync.messagesTotal);
  assert.ok(st.sync.messagesTotal >= 122);
});

test('IDLE push: mail delivered through Postfix reaches the local store quickly', async () => {
  const { store, accountId } = local;
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  const before = store.mailboxes.status(inbox.id).messages;
  await p.deliver(msg(2000, { subject: 'pushed' }), { to: [alice] });
  await until(() => store.mailboxes.status(inbox.id).messages === before + 1, 120_000, 'the pushed message');
  assert.ok(localSubjects(store, accountId, 'INBOX').includes('pushed'));
});

test('remote → local: flags, moves and deletions', async () => {
  const { store, accountId } = local;
  const c = await p.imapClient(alice);
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      await c.messageFlagsAdd('1:3', ['\\Seen', '\\Flagged'], { uid: true });
      await c.messageMove('4:5', 'Archive', { uid: true });
      await c.messageDelete('6', { uid: true });
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  engine.kick();
  await engine.whenSynced(30_000);
  const L = localSubjects(store, accountId, 'INBOX');
  const R = await remoteSubjects(p, alice, 'INBOX');
  assert.deepEqual(
    { localOnly: L.filter((x) => !R.includes(x)), remoteOnly: R.filter((x) => !L.includes(x)) },
    { localOnly: [], remoteOnly: [] },
  );
  assert.deepEqual(L, R);
  assert.deepEqual(localSubjects(store, accountId, 'Archive'), await remoteSubjects(p, alice, 'Archive'));
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  const m1 = store.remoteMap.find(
    accountId,
    'INBOX',
    (await p.mailboxStatus(alice, 'INBOX')).uidvalidity!,
    1,
  )!;
  assert.deepEqual([...store.messages.get(inbox.id, m1.uid)!.flags].sort(), ['\\Flagged', '\\Seen']);
});

test('local → remote: flags, move, delete, folder create, append', async () => {
  const { store, accountId } = local;
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  const arch = store.mailboxes.getByName(accountId, 'Archive')!;
  const uids = store.messages.uids(inbox.id);
  const subj = (uid: number) => store.messages.headers(store.messages.get(inbox.id, uid)!.blobId)!.subject;
  const flagged = subj(uids[10]!);
  const moved = subj(uids[11]!);
  const deleted = subj(uids[12]!);
  store.messages.storeFlags(inbox.id, [uids[10]!], 'add', ['\\Answered', '$Label1']);
  store.messages.move(inbox.id, [uids[11]!], arch.id);
  store.messages.storeFlags(inbox.id, [uids[12]!], 'add', ['\\Deleted']);
  store.messages.expunge(inbox.id, [uids[12]!]);
  const box = store.mailboxes.create(accountId, 'Projects/2026');
  const { analyzeMessage } = await import('../../../app/mime/analyze.ts');
  const raw = Buffer.from(msg(3000, { subject: 'local draft' }));
  store.messages.insert(box.id, { raw, analysis: analyzeMessage(raw), flags: ['\\Draft'] });
  await engine.whenSynced(30_000);
  const remoteInbox = await remoteSubjects(p, alice, 'INBOX');
  assert.ok(!remoteInbox.includes(moved) && !remoteInbox.includes(deleted));
  assert.ok((await remoteSubjects(p, alice, 'Archive')).includes(moved));
  assert.deepEqual(await remoteSubjects(p, alice, 'Projects/2026'), ['local draft']);
  const out = await p.doveadm('fetch', '-u', alice, 'flags', 'mailbox', 'INBOX', 'subject', flagged);
  assert.match(out, /\\Answered/);
  assert.match(out, /\$Label1/);
  // the move kept the provider's original message (UID MOVE), not a re-upload
  const archived = await p.doveadm('fetch', '-u', alice, 'hdr', 'mailbox', 'Archive', 'subject', moved);
  assert.match(archived, new RegExp(moved));
  assert.doesNotMatch(archived, /X-Test-Uploaded/);
  const drafted = await p.doveadm('fetch', '-u', alice, 'hdr', 'mailbox', 'Projects/2026', 'all');
  assert.match(drafted, /X-Test-Uploaded: 1/);
  assert.equal(store.pending.count(accountId), 0);
});

test('edits made while Dovecot is stopped are replayed after it restarts', async () => {
  const { store, accountId } = local;
  await p.stopDovecot();
  await until(() => engine.status().connection !== 'online', 15_000, 'the engine to notice');
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  const uids = store.messages.uids(inbox.id);
  const target = store.messages.headers(store.messages.get(inbox.id, uids[20]!)!.blobId)!.subject;
  store.messages.storeFlags(inbox.id, [uids[20]!], 'add', ['\\Flagged']);
  const gone = store.messages.headers(store.messages.get(inbox.id, uids[21]!)!.blobId)!.subject;
  store.messages.storeFlags(inbox.id, [uids[21]!], 'add', ['\\Deleted']);
  store.messages.expunge(inbox.id, [uids[21]!]);
  assert.ok(store.pending.count(accountId) >= 2);
  assert.match(engine.status().lastError ?? '', /cannot reach|lost|refused/);
  await p.startDovecot();
  engine.kick();
  await engine.whenSynced(60_000);
  assert.equal(store.pending.count(accountId), 0);
  const out = await p.doveadm('fetch', '-u', alice, 'flags', 'mailbox', 'INBOX', 'subject', target);
  assert.match(out, /\\Flagged/);
  assert.ok(!(await remoteSubjects(p, alice, 'INBOX')).includes(gone));
});

test('UIDVALIDITY reset at the provider keeps every local UID', async () => {
  const { store, accountId } = local;
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  const before = new Map<number, string>();
  for (const m of store.messages.iterateMeta(inbox.id))
    before.set(m.uid, store.messages.headers(m.blobId)!.subject);
  const uvBefore = store.mailboxes.require(inbox.id).uidValidity;
  const r = await p.recreateMailbox(alice, 'INBOX');
  assert.notEqual(r.newUidValidity, r.oldUidValidity);
  engine.kick();
  await engine.whenSynced(60_000);
  const afterMap = new Map<number, string>();
  for (const m of store.messages.iterateMeta(inbox.id))
    afterMap.set(m.uid, store.messages.headers(m.blobId)!.subject);
  assert.deepEqual(afterMap, before);
  assert.equal(store.mailboxes.require(inbox.id).uidValidity, uvBefore);
  // every local message is mapped to the new UIDVALIDITY
  for (const m of store.messages.iterateMeta(inbox.id)) {
    const map = store.remoteMap.forMessage(m.id);
    assert.equal(map?.remoteUidValidity, r.newUidValidity);
  }
  assert.equal((await p.mailboxStatus(alice, 'INBOX')).messages, before.size);
});

test('an upload interrupted after APPEND is found by its token on retry, not uploaded twice', async () => {
  const { store, accountId } = local;
  await engine.stop();
  const drafts = store.mailboxes.getByName(accountId, 'Drafts')!;
  const { analyzeMessage } = await import('../../../app/mime/analyze.ts');
  const raw = Buffer.from(msg(4000, { subject: 'half uploaded' }));
  const { id, uid } = store.messages.insert(drafts.id, {
    raw,
    analysis: analyzeMessage(raw),
    flags: ['\\Draft'],
  });
  // the earlier attempt recorded its token, its APPEND reached the provider, then the process died
  const { newUploadToken, withUploadToken } = await import('../../../app/sync/upload-token.ts');
  const row = store.pending
    .list(accountId)
    .find((r) => r.change.kind === 'append' && r.change.mailboxId === drafts.id && r.change.uid === uid)!;
  const token = newUploadToken();
  store.pending.setAttempt(row.id, { kind: 'upload', token, remoteMailbox: 'Drafts' });
  await p.appendRaw(alice, 'Drafts', withUploadToken(raw, token), ['\\Draft']);
  engine = local.engine();
  engine.start();
  await engine.whenSynced(30_000);
  assert.deepEqual(await remoteSubjects(p, alice, 'Drafts'), ['half uploaded']);
  assert.ok(store.remoteMap.forMessage(id));
  assert.equal(store.mailboxes.status(drafts.id).messages, 1);
});

test('deleted at the provider while flagged here: the message is kept and uploaded again', async () => {
  const { store, accountId } = local;
  await engine.stop();
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  const uid = store.messages.uids(inbox.id)[30]!;
  const meta = store.messages.get(inbox.id, uid)!;
  const subject = store.messages.headers(meta.blobId)!.subject;
  const map = store.remoteMap.forMessage(meta.id)!;
  const c = await p.imapClient(alice);
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      await c.messageDelete(String(map.remoteUid), { uid: true });
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  store.messages.storeFlags(inbox.id, [uid], 'add', ['\\Flagged']);
  engine = local.engine();
  engine.start();
  await engine.whenSynced(30_000);
  assert.ok(store.messages.get(inbox.id, uid), 'the local message (same UID) is still there');
  const out = await p.doveadm('fetch', '-u', alice, 'flags', 'mailbox', 'INBOX', 'subject', subject);
  assert.match(out, /\\Flagged/);
  assert.notEqual(store.remoteMap.forMessage(meta.id)?.remoteUid, map.remoteUid);
});
