// Issue 17 item 6 (repair): a local copy damaged and a local row deleted behind the engine's back
// (raw SQL on the store's own connection: no change event, no pending change); `repairAccount`
// (the control API) re-checks every folder against real Dovecot and restores both from the
// provider, keeps the UIDs and flags of untouched messages and the pending local changes (a flag
// change and an expunge waiting for the provider: the expunged message is NOT fetched back), writes
// nothing at the provider (its state compared before/after), and the pending changes are replayed
// afterwards. An unknown account and an unreachable provider give one clear line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Provider } from '../../helpers/provider.ts';
import type { Bridge } from '../../../app/index.ts';
import { bridgeWithProvider, until, type BridgeSide } from './setup.ts';
import { storeSql } from '../../helpers/store-db.ts';

const ME = 'me@example.test';
let side: BridgeSide;
let p: Provider;
let bridge: Bridge;

function mail(subject: string, bodyBytes: number): string {
  const line = `${subject} body line with some words in it\r\n`;
  return (
    `From: a@example.test\r\nTo: ${ME}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.test>\r\n` +
    `Date: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\n${line.repeat(Math.ceil(bodyBytes / line.length))}`
  );
}

function inboxId(): number {
  const id = bridge.store.accounts.getByEmail(ME)!.id;
  return bridge.store.mailboxes.list(id).find((m) => m.name === 'INBOX')!.id;
}

/** uid → subject of the local INBOX (empty until the first pass has mirrored it). */
function localBySubject(): Map<string, { uid: number; flags: string[]; raw: Buffer }> {
  const out = new Map<string, { uid: number; flags: string[]; raw: Buffer }>();
  const account = bridge.store.accounts.getByEmail(ME)!.id;
  if (!bridge.store.mailboxes.list(account).some((m) => m.name === 'INBOX')) return out;
  const mb = inboxId();
  for (const uid of bridge.store.messages.uids(mb)) {
    const m = bridge.store.messages.get(mb, uid)!;
    const subject = bridge.store.messages.headers(m.blobId)!.subject;
    out.set(subject, { uid, flags: [...m.flags].sort(), raw: bridge.store.messages.raw(m.blobId) });
  }
  return out;
}

/** Every folder at the provider: uid, flags and a digest of the bytes (what "nothing written" compares). */
async function providerState(): Promise<string> {
  const c = await p.imapClient(ME);
  const out: string[] = [];
  try {
    for (const f of (await c.list()).sort((a, b) => a.path.localeCompare(b.path))) {
      const st = await c.status(f.path, { uidValidity: true, uidNext: true, messages: true });
      if (!st) throw new Error(`no STATUS for ${f.path}`);
      out.push(`${f.path} v${st.uidValidity} n${st.uidNext} m${st.messages}`);
      if (!st.messages) continue;
      const lock = await c.getMailboxLock(f.path, { readOnly: true });
      try {
        for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true }))
          out.push(
            `  ${m.uid} [${[...(m.flags ?? [])].sort().join(' ')}] ${createHash('sha256').update(m.source!).digest('hex')}`,
          );
      } finally {
        lock.release();
      }
    }
  } finally {
    await c.logout().catch(() => {});
  }
  return out.join('\n');
}

async function providerFlags(subject: string): Promise<string[] | null> {
  const c = await p.imapClient(ME);
  try {
    const lock = await c.getMailboxLock('INBOX', { readOnly: true });
    try {
      for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true }))
        if (m.envelope?.subject === subject) return [...(m.flags ?? [])].sort();
      return null;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => {});
  }
}

before(async () => {
  side = await bridgeWithProvider(ME, { providerPassword: 'pw', passphrase: 'repair' });
  ({ p, bridge } = side);
  await side.addAccount();
});

after(async () => {
  await side?.close();
});

test('repair restores a damaged and a deleted local copy from the provider and changes nothing else', async () => {
  // A: large (deflated body), B: small (LZ4 body), C: gets a pending flag change, D: a pending expunge.
  for (const [s, n] of [
    ['A-damaged', 20_000],
    ['B-deleted', 600],
    ['C-flagged', 800],
    ['D-expunged', 700],
    ['E-untouched', 9_000],
  ] as const)
    await p.deliver(mail(s, n), { via: 'lmtp' });
  await until(() => localBySubject().size === 5, 60_000, 'five messages synced');
  const original = localBySubject();

  // Sync paused: the local changes stay queued while repair runs.
  await bridge.api.pauseSync(ME);
  const mb = inboxId();
  bridge.store.messages.storeFlags(mb, [original.get('C-flagged')!.uid], 'add', ['\\Flagged']);
  bridge.store.messages.storeFlags(mb, [original.get('D-expunged')!.uid], 'add', ['\\Deleted']);
  bridge.store.messages.expunge(mb, [original.get('D-expunged')!.uid]);
  const pendingBefore = bridge.store.pending.count(bridge.store.accounts.getByEmail(ME)!.id);
  assert.ok(pendingBefore >= 2, `local changes queued (${pendingBefore})`);

  // Behind the engine's back: A's stored body truncated, B's row deleted.
  const sql = storeSql(bridge.store);
  const a = bridge.store.messages.get(mb, original.get('A-damaged')!.uid)!;
  sql
    .prepare('UPDATE message_raw SET body = substr(body, 1, length(body) / 2) WHERE blob_id = ?')
    .run(a.blobId);
  sql
    .prepare('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?')
    .run(mb, original.get('B-deleted')!.uid);
  assert.throws(
    () =>
      assert.deepEqual(
        bridge.store.messages.raw(bridge.store.messages.get(mb, a.uid)!.blobId),
        original.get('A-damaged')!.raw,
      ),
    'A is damaged',
  );

  const providerBefore = await providerState();
  const steps: Array<{ folder: string | null; done: number; total: number }> = [];
  const off = bridge.events.subscribe((e) => {
    if (e.type === 'repair-progress' && e.email === ME)
      steps.push({ folder: e.folder, done: e.done, total: e.total });
  });
  const report = await bridge.api.repairAccount(ME);
  off();
  const inbox = report.folders.find((f) => f.folder === 'INBOX');
  assert.ok(inbox, JSON.stringify(report));
  // Live progress, folder by folder, in the order the report lists them, then "all done".
  const n = report.folders.length;
  assert.deepEqual(steps, [
    ...report.folders.map((f, i) => ({ folder: f.folder, done: i, total: n })),
    { folder: null, done: n, total: n },
  ]);
  assert.equal(inbox.refetched, 1, JSON.stringify(inbox));
  assert.equal(inbox.repaired, 1, JSON.stringify(inbox));
  assert.equal(inbox.unrepaired, 0, JSON.stringify(inbox));
  assert.equal(inbox.provider, 5, 'D is still at the provider (its expunge waits)');

  assert.equal(await providerState(), providerBefore, 'nothing written at the provider');
  const now = localBySubject();
  assert.deepEqual([...now.keys()].sort(), ['A-damaged', 'B-deleted', 'C-flagged', 'E-untouched']);
  // A repaired in place: same UID, same bytes as before the damage.
  assert.equal(now.get('A-damaged')!.uid, original.get('A-damaged')!.uid);
  assert.ok(now.get('A-damaged')!.raw.equals(original.get('A-damaged')!.raw), 'A restored byte for byte');
  // B back with the same bytes (a new UID: its old one is gone for clients).
  assert.ok(now.get('B-deleted')!.raw.equals(original.get('B-deleted')!.raw), 'B restored byte for byte');
  // C and E untouched: UID, flags (C's local \Flagged kept), bytes.
  for (const s of ['C-flagged', 'E-untouched']) {
    assert.equal(now.get(s)!.uid, original.get(s)!.uid, `${s} keeps its UID`);
    assert.ok(now.get(s)!.raw.equals(original.get(s)!.raw));
  }
  assert.deepEqual(now.get('C-flagged')!.flags, ['\\Flagged']);
  assert.equal(
    bridge.store.pending.count(bridge.store.accounts.getByEmail(ME)!.id),
    pendingBefore,
    'pending local changes kept',
  );

  // Resumed: the kept changes reach the provider; no duplicate anywhere.
  await bridge.api.resumeSync(ME);
  await until(
    async () => (await providerFlags('C-flagged'))?.includes('\\Flagged') === true,
    60_000,
    'C flagged',
  );
  await until(async () => (await providerFlags('D-expunged')) === null, 60_000, 'D expunged');
  await until(() => localBySubject().size === 4, 60_000, 'four local');
  const st = await p.mailboxStatus(ME, 'INBOX');
  assert.equal(st.messages, 4, 'no duplicate at the provider');
});

test('repair: a damaged copy whose provider message no longer gives the recorded bytes becomes a new message with its flags', async () => {
  await bridge.api.resumeSync(ME);
  const mb = inboxId();
  const e = localBySubject().get('E-untouched')!;
  bridge.store.messages.storeFlags(mb, [e.uid], 'add', ['\\Seen']);
  await until(
    async () => (await providerFlags('E-untouched'))?.includes('\\Seen') === true,
    60_000,
    'E seen',
  );
  await until(
    () => bridge.store.pending.count(bridge.store.accounts.getByEmail(ME)!.id) === 0,
    60_000,
    'nothing waits',
  );
  // The recorded digest no longer matches (as when the keyring changed the served form): the
  // stored bytes count as damaged, and the provider's message cannot restore them in place.
  const blobId = bridge.store.messages.get(mb, e.uid)!.blobId;
  storeSql(bridge.store).prepare('UPDATE message_blobs SET sha256 = zeroblob(32) WHERE id = ?').run(blobId);
  const providerBefore = await providerState();
  const report = await bridge.api.repairAccount(ME);
  const inbox = report.folders.find((f) => f.folder === 'INBOX')!;
  assert.equal(inbox.repaired, 1, JSON.stringify(inbox));
  assert.equal(inbox.refetched, 0, JSON.stringify(inbox));
  const now = localBySubject().get('E-untouched')!;
  assert.ok(now.uid > e.uid, 'a new UID: clients fetch the new bytes');
  assert.ok(now.raw.equals(e.raw));
  assert.deepEqual(now.flags, ['\\Seen'], 'flags kept');
  assert.equal(localBySubject().size, 4, 'no duplicate');
  assert.equal(await providerState(), providerBefore, 'nothing written at the provider');
  const again = (await bridge.api.repairAccount(ME)).folders.find((f) => f.folder === 'INBOX')!;
  assert.deepEqual(
    [again.refetched, again.repaired, again.unrepaired],
    [0, 0, 0],
    'a second repair finds nothing',
  );
});

test('repair: an unknown account and an unreachable provider give one clear line', async () => {
  await assert.rejects(bridge.api.repairAccount('nobody@example.test'), /account nobody@example\.test/);
  await bridge.api.pauseSync(ME);
  await p.stopDovecot();
  try {
    await assert.rejects(bridge.api.repairAccount(ME), (err: Error) => {
      assert.match(err.message, /127\.0\.0\.1:\d+/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  } finally {
    await p.startDovecot();
    await bridge.api.resumeSync(ME);
  }
});
