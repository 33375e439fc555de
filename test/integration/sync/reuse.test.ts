// Issue 20, point 4 (no full resync ever): what the provider moves around is matched back to what
// is stored here instead of being downloaded again. Bodies are counted at the provider's side of
// the wire: the engine talks to Dovecot through a TCP proxy that sees every `* n FETCH (... BODY[]
// {size}` the provider sends.
// - a folder renamed at the provider (with a child folder): the local mailboxes follow under the
//   new names with their local UIDs, and no body is fetched again;
// - a restored backup (the folder's messages deleted and put back with the same bytes under new
//   UIDs, UIDVALIDITY unchanged): every local message kept with its local UID, no body fetched
//   again — they are recognised from RFC822.SIZE and BODY[HEADER] only;
// - a copy made at the provider by another device: a local copy of the stored body, no download;
// - a UIDVALIDITY change (the provider rebuilt the mailbox's index): local UIDs kept, no body fetched
//   again — messages with a Message-ID unique on both sides are matched by it, the others (a
//   Message-ID twice in the folder, none at all) by RFC822.SIZE and BODY[HEADER].
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { localFor, localSubjects, msg, until, type LocalSide } from './setup.ts';
import type { SyncEngine } from '../../../app/sync/engine.ts';

const alice = 'alice@example.test';
let p: Provider;
let proxy: FaultProxy;
let local: LocalSide;
let engine: SyncEngine;
let bodies = 0;

/** Local mailbox name → [local UID, subject] of each message, by UID. */
function localUids(name: string): Array<[number, string]> {
  const { store, accountId } = local;
  const mb = store.mailboxes.getByName(accountId, name);
  if (!mb) return [];
  return [...store.messages.iterateMeta(mb.id)].map((m) => [
    m.uid,
    store.messages.headers(m.blobId)?.subject ?? '',
  ]);
}

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  await p.doveadm('mailbox', 'create', '-u', alice, 'Projects');
  await p.doveadm('mailbox', 'create', '-u', alice, 'Projects/Old');
  for (let i = 1; i <= 6; i++) {
    await p.appendRaw(alice, 'Projects', msg(i, { subject: `Projects ${i}`, body: 'x'.repeat(2000) }));
    await p.appendRaw(alice, 'INBOX', msg(100 + i, { subject: `Inbox ${i}` }));
  }
  await p.appendRaw(alice, 'Projects/Old', msg(50, { subject: 'Old one' }));
  proxy = await startFaultProxy(p.imapPort);
  proxy.onServerLine((line) => {
    if (/^\* \d+ FETCH \(.*BODY\[\] \{\d+\}$/.test(line)) bodies++;
  });
  local = await localFor(p, alice, undefined, { port: proxy.port });
  engine = local.engine();
  engine.start();
  await engine.whenSynced(60_000);
  assert.equal(bodies, 6 + 6 + 1, 'the first sync fetched every body once (what the proxy counts)');
});

after(async () => {
  await local?.close();
  await proxy?.close();
  await p?.close();
});

test('a folder renamed at the provider is followed here: same local UIDs, no body downloaded again', async () => {
  const before = localUids('Projects');
  const child = localUids('Projects/Old');
  assert.equal(before.length, 6);
  const c = await p.imapClient(alice);
  try {
    await c.mailboxRename('Projects', 'Work');
  } finally {
    await c.logout();
  }
  bodies = 0;
  await until(
    () => localUids('Work').length === 6 && localUids('Projects').length === 0,
    60_000,
    'the rename to reach the local side',
  );
  await engine.whenSynced(60_000);
  assert.deepEqual(localUids('Work'), before, 'the same local messages under the new name');
  assert.deepEqual(localUids('Work/Old'), child, 'the child folder followed');
  assert.equal(local.store.mailboxes.getByName(local.accountId, 'Projects'), null);
  assert.equal(bodies, 0, `bodies downloaded again after the rename: ${bodies}`);
  // still in sync: a message added at the provider under the new name arrives
  await p.appendRaw(alice, 'Work', msg(7, { subject: 'Projects 7' }));
  await until(() => localUids('Work').length === 7, 60_000, 'a new message in the renamed folder');
  assert.equal(bodies, 1);
  assert.equal(local.store.pending.count(local.accountId), 0, 'nothing queued for the provider');
});

test('a restored backup (same bytes under new UIDs) and a copy made at the provider download no body', async () => {
  const before = localUids('Work');
  assert.equal(before.length, 7);
  await engine.stop();
  const c = await p.imapClient(alice);
  try {
    const lock = await c.getMailboxLock('Work');
    try {
      const saved: Array<{ source: Buffer; flags: string[]; date: Date }> = [];
      for await (const m of c.fetch('1:*', { source: true, flags: true, internalDate: true }))
        saved.push({ source: m.source!, flags: [...(m.flags ?? [])], date: m.internalDate as Date });
      await c.messageDelete('1:*');
      for (const m of saved) await c.append('Work', m.source, m.flags, m.date);
      // another device copies one of them to INBOX
      await c.messageCopy('1', 'INBOX');
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  const inboxBefore = localUids('INBOX').length;
  bodies = 0;
  engine.start();
  await engine.whenSynced(60_000);
  await until(() => localUids('INBOX').length === inboxBefore + 1, 60_000, 'the copy in INBOX');
  assert.deepEqual(localUids('Work'), before, 'the same local messages, the same local UIDs');
  assert.equal(bodies, 0, `bodies downloaded again: ${bodies}`);
  assert.equal(local.store.pending.count(local.accountId), 0, 'nothing queued for the provider');
});

test('a UIDVALIDITY change at the provider keeps local UIDs and downloads no body again', async () => {
  const before = localUids('INBOX');
  const r = await p.recreateMailbox(alice, 'INBOX');
  assert.notEqual(r.newUidValidity, r.oldUidValidity);
  bodies = 0;
  await until(
    () => {
      const st = local.store.syncState.get<{ uidValidity: number }>(local.accountId, 'INBOX');
      return st?.uidValidity === r.newUidValidity;
    },
    60_000,
    'the new UIDVALIDITY to be seen',
  );
  await engine.whenSynced(60_000);
  assert.deepEqual(localUids('INBOX'), before);
  assert.equal(localSubjects(local.store, local.accountId, 'INBOX').length, before.length);
  assert.equal(bodies, 0, `bodies downloaded again after the UIDVALIDITY change: ${bodies}`);
});

test('a UIDVALIDITY change: messages without a unique Message-ID are matched by size and header block, not downloaded', async () => {
  const raw = (subject: string, id: string | null, body: string) =>
    `From: list@outside.test\r\nTo: ${alice}\r\nSubject: ${subject}\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n` +
    (id ? `Message-ID: <${id}>\r\n` : '') +
    `MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`;
  await p.doveadm('mailbox', 'create', '-u', alice, 'Lists');
  await p.appendRaw(alice, 'Lists', raw('twice a', 'same@outside.test', 'the list copy'));
  await p.appendRaw(alice, 'Lists', raw('twice b', 'same@outside.test', 'the direct copy, longer'));
  await p.appendRaw(alice, 'Lists', raw('no id', null, 'a message without a Message-ID'));
  await until(() => localUids('Lists').length === 3, 60_000, 'Lists synced');
  await engine.whenSynced(60_000);
  const before = localUids('Lists');
  const r = await p.recreateMailbox(alice, 'Lists');
  assert.notEqual(r.newUidValidity, r.oldUidValidity);
  bodies = 0;
  await until(
    () =>
      local.store.syncState.get<{ uidValidity: number }>(local.accountId, 'Lists')?.uidValidity ===
      r.newUidValidity,
    60_000,
    'the new UIDVALIDITY to be seen',
  );
  await engine.whenSynced(60_000);
  assert.deepEqual(localUids('Lists'), before, 'local UIDs kept');
  assert.equal(bodies, 0, `bodies downloaded again: ${bodies}`);
  assert.equal(local.store.pending.count(local.accountId), 0, 'nothing uploaded again');
});

test('messages moved between folders at the provider by another device are not downloaded again', async () => {
  // INBOX is synced before Work in a pass and watched by IDLE: a move out of INBOX is seen as an
  // expunge there before the message shows up in Work; a move into INBOX the other way round.
  await engine.whenSynced(60_000);
  const inbox = localUids('INBOX');
  const work = localUids('Work');
  const subjectsOf = (xs: Array<[number, string]>) => xs.map(([, s]) => s).sort();
  const c = await p.imapClient(alice);
  bodies = 0;
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      await c.messageMove('1:2', 'Work');
    } finally {
      lock.release();
    }
    const lock2 = await c.getMailboxLock('Work');
    try {
      await c.messageMove('1', 'INBOX');
    } finally {
      lock2.release();
    }
  } finally {
    await c.logout();
  }
  const out = inbox.slice(0, 2).map(([, s]) => s);
  const back = work[0]![1];
  const wantInbox = [...inbox.slice(2).map(([, s]) => s), back].sort();
  const wantWork = [...work.slice(1).map(([, s]) => s), ...out].sort();
  await until(
    () =>
      JSON.stringify(subjectsOf(localUids('INBOX'))) === JSON.stringify(wantInbox) &&
      JSON.stringify(subjectsOf(localUids('Work'))) === JSON.stringify(wantWork),
    60_000,
    'the moves to reach the local side',
  );
  await engine.whenSynced(60_000);
  assert.deepEqual(subjectsOf(localUids('INBOX')), wantInbox);
  assert.deepEqual(subjectsOf(localUids('Work')), wantWork);
  assert.equal(bodies, 0, `bodies downloaded again after the moves: ${bodies}`);
  assert.equal(local.store.pending.count(local.accountId), 0, 'nothing queued for the provider');
});
