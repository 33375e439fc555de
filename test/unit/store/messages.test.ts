import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { StoreEvent } from '../../../app/store/change-feed.ts';
import type { Store } from '../../../app/store/store.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { summaryHeader } from '../../../app/mime/header-fields.ts';
import { msg, newStore, tempDir, testAccount } from './helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';

describe('store messages and mailboxes', () => {
  const t = tempDir();
  let s: Store;
  let accountId: number;
  const events: StoreEvent[] = [];
  before(async () => {
    s = await newStore(t.dir);
    s.changes.on((e) => events.push(e));
    accountId = testAccount(s, 'u@example.org').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('creates mailboxes with parents, canonical INBOX, unique UIDVALIDITY', () => {
    const inbox = s.mailboxes.create(accountId, 'inbox');
    assert.equal(inbox.name, 'INBOX');
    const deep = s.mailboxes.create(accountId, 'Work/Projects/Ärger', { specialUse: null });
    const parent = s.mailboxes.getByName(accountId, 'Work/Projects')!;
    assert.equal(deep.parentId, parent.id);
    assert.ok(s.mailboxes.getByName(accountId, 'Work'));
    const validities = s.mailboxes.list(accountId).map((m) => m.uidValidity);
    assert.equal(new Set(validities).size, validities.length);
    assert.throws(() => s.mailboxes.create(accountId, 'Work'), /already exists/);
    assert.throws(() => s.mailboxes.create(accountId, 'a//b'), /empty level/);
    assert.throws(() => s.mailboxes.delete(parent.id), /has children/);
    assert.throws(() => s.mailboxes.delete(inbox.id), /INBOX cannot be deleted/);
  });

  it('renames a mailbox with its children and deletes leaves', () => {
    const work = s.mailboxes.getByName(accountId, 'Work')!;
    events.length = 0;
    s.mailboxes.rename(work.id, 'Job');
    assert.deepEqual(
      s.mailboxes.list(accountId).map((m) => m.name),
      ['INBOX', 'Job', 'Job/Projects', 'Job/Projects/Ärger'],
    );
    assert.equal(events.filter((e) => e.type === 'mailbox-renamed').length, 3);
    const leaf = s.mailboxes.getByName(accountId, 'Job/Projects/Ärger')!;
    s.mailboxes.delete(leaf.id);
    assert.equal(s.mailboxes.getByName(accountId, 'Job/Projects/Ärger'), null);
  });

  it('allocates UIDs, MODSEQs and emits events after commit', () => {
    const inbox = s.mailboxes.getByName(accountId, 'INBOX')!;
    events.length = 0;
    const res = s.messages.insertBatch(inbox.id, [
      msg('one', 'first body'),
      msg('two', 'second body', ['\\Seen', 'Work']),
    ]);
    assert.deepEqual(
      res.map((r) => r.uid),
      [1, 2],
    );
    const mb = s.mailboxes.get(inbox.id)!;
    assert.equal(mb.uidNext, 3);
    assert.equal(mb.highestModseq, res[0]!.modseq);
    assert.deepEqual(events, [
      { type: 'messages-added', mailboxId: inbox.id, uids: [1, 2], modseq: res[0]!.modseq },
    ]);
    assert.deepEqual(s.messages.get(inbox.id, 2)!.flags, ['\\Seen', 'Work']);
    const st = s.mailboxes.status(inbox.id);
    assert.equal(st.messages, 2);
    assert.equal(st.unseen, 1);
  });

  it('rolls back a failed transaction and emits nothing', () => {
    const inbox = s.mailboxes.getByName(accountId, 'INBOX')!;
    events.length = 0;
    assert.throws(() =>
      s.transaction(() => {
        s.messages.insert(inbox.id, msg('three', 'x'));
        throw new Error('abort');
      }),
    );
    assert.equal(events.length, 0);
    assert.equal(s.mailboxes.status(inbox.id).messages, 2);
    assert.equal(s.mailboxes.get(inbox.id)!.uidNext, 3);
  });

  it('stores flags with add/remove/replace and CONDSTORE unchangedSince', () => {
    const inbox = s.mailboxes.getByName(accountId, 'INBOX')!;
    const before = s.mailboxes.get(inbox.id)!.highestModseq;
    events.length = 0;
    const r = s.messages.storeFlags(inbox.id, [1, 2], 'add', ['\\Flagged', '$Label1']);
    assert.equal(r.changed.length, 2);
    assert.ok(r.changed.every((c) => c.modseq === before + 1));
    assert.deepEqual(s.messages.get(inbox.id, 2)!.flags, ['\\Seen', '\\Flagged', 'Work', '$Label1']);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'flags-changed');
    // no-op change: no new modseq, no event
    const noop = s.messages.storeFlags(inbox.id, [1], 'add', ['\\Flagged']);
    assert.equal(noop.changed.length, 0);
    assert.equal(s.mailboxes.get(inbox.id)!.highestModseq, before + 1);
    // unchangedSince below the current modseq → reported as modified
    const cond = s.messages.storeFlags(inbox.id, [1, 2], 'remove', ['\\Flagged'], { unchangedSince: before });
    assert.deepEqual(cond.modified, [1, 2]);
    assert.equal(cond.changed.length, 0);
    const rep = s.messages.storeFlags(inbox.id, [1], 'replace', ['\\Deleted', 'work']);
    assert.deepEqual(rep.changed[0]!.flags, ['\\Deleted', 'work']);
    assert.deepEqual(
      [...s.messages.iterateMeta(inbox.id)].filter((m) => m.modseq > before + 1).map((m) => m.uid),
      [1],
    );
  });

  it('copies sharing the blob, moves and expunges with the expunge log', () => {
    const inbox = s.mailboxes.getByName(accountId, 'INBOX')!;
    const arch = s.mailboxes.create(accountId, 'Archive', { specialUse: '\\Archive' });
    const pairs = s.messages.copy(inbox.id, [1, 2], arch.id);
    assert.deepEqual(pairs, [
      [1, 1],
      [2, 2],
    ]);
    const a = s.messages.get(inbox.id, 2)!;
    const b = s.messages.get(arch.id, 2)!;
    assert.equal(a.blobId, b.blobId);
    assert.deepEqual(s.messages.raw(a.blobId), msgRawOf(s, inbox.id, 2));
    const blobs = () =>
      (rawDb(s).prepare('SELECT count(*) AS n FROM message_blobs').get() as { n: number }).n;
    const nBlobs = blobs();
    // expunge only \Deleted (uid 1)
    events.length = 0;
    const gone = s.messages.expunge(inbox.id);
    assert.deepEqual(gone, [1]);
    assert.equal(blobs(), nBlobs, 'blob still referenced by the copy');
    assert.deepEqual(s.messages.expungedSince(inbox.id, 0), [1]);
    assert.equal(events[0]!.type, 'messages-expunged');
    // move uid 2 to Archive → new uid 3 there
    const moved = s.messages.move(inbox.id, [2], arch.id);
    assert.deepEqual(moved, [[2, 3]]);
    assert.equal(s.mailboxes.status(inbox.id).messages, 0);
    // remove everything from Archive → blobs are garbage-collected
    s.messages.remove(arch.id, s.messages.uids(arch.id));
    assert.equal(blobs(), 0);
    assert.equal(s.mailboxes.get(inbox.id)!.uidNext, 3, 'UIDs are never reused');
  });

  it('finds text through the trigram prefilter, the backlog, and short needles', () => {
    const inbox = s.mailboxes.getByName(accountId, 'INBOX')!;
    const r = s.messages.insertBatch(inbox.id, [
      msg('Quarterly report', 'The Wonderful Widget sold well'),
      msg('Lunch', 'wonder where we eat? Café Über'),
      msg('Other', 'nothing to see'),
    ]);
    const [u1, u2] = [r[0]!.uid, r[1]!.uid];
    // before indexing: found by scanning the backlog
    assert.deepEqual(s.messages.searchText(inbox.id, 'wonder'), [u1, u2]);
    assert.ok(s.messages.ftsBacklog() >= 3);
    s.flushIndex();
    assert.equal(s.messages.ftsBacklog(), 0);
    assert.deepEqual(s.messages.searchText(inbox.id, 'WONDERFUL widget'), [u1]);
    assert.deepEqual(s.messages.searchText(inbox.id, 'wonder'), [u1, u2]);
    assert.deepEqual(s.messages.searchText(inbox.id, 'café über'), [u2]);
    assert.deepEqual(s.messages.searchText(inbox.id, 'report', 'body'), []);
    assert.deepEqual(s.messages.searchText(inbox.id, 'report', 'headers'), [u1]);
    assert.deepEqual(s.messages.searchText(inbox.id, 'Ca'), [u2]);
    assert.deepEqual(s.messages.searchText(inbox.id, 'absent-needle'), []);
  });

  it('queues local changes for the provider, but not sync-originated ones', () => {
    const inbox = s.mailboxes.getByName(accountId, 'INBOX')!;
    const before = s.pending.count(accountId);
    s.messages.insert(inbox.id, msg('from sync', 'x'), 'sync');
    assert.equal(s.pending.count(accountId), before);
    const r = s.messages.insert(inbox.id, msg('local', 'y'));
    const rows = s.pending.list(accountId, 1000);
    assert.deepEqual(rows[rows.length - 1]!.change, { kind: 'append', mailboxId: inbox.id, uid: r.uid });
  });

  it('removes an account with all its mail', () => {
    s.accounts.remove(accountId);
    assert.equal(s.accounts.list().length, 0);
    assert.equal((rawDb(s).prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n, 0);
    assert.equal((rawDb(s).prepare('SELECT count(*) AS n FROM message_blobs').get() as { n: number }).n, 0);
  });

  it('reads header and summary blocks of a batch byte-exactly: NUL and 8-bit bytes, gaps, inside a write', () => {
    const acc = testAccount(s, 'heads@example.org');
    const box = s.mailboxes.create(acc.id, 'Heads');
    const odd = (i: number): ReturnType<typeof msg> => {
      const m = msg(`odd ${i}`, 'body\r\n');
      const raw = Buffer.concat([
        // a long field besides the summary's: worth a summary row (blobs.ts summaryOf)
        Buffer.from(`X-Junk: ${i} ${'j'.repeat(300)}\r\nSubject: bin `),
        Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00]),
        Buffer.from('\r\n'),
        m.raw,
      ]);
      return { ...m, raw, analysis: analyzeMessage(raw) };
    };
    const batch = Array.from({ length: 40 }, (_, i) => odd(i));
    const added = s.messages.insertBatch(box.id, batch);
    const raws = new Map(added.map((a, i) => [a.uid, batch[i]!.raw]));
    const headOf = (raw: Buffer): Buffer => raw.subarray(0, raw.indexOf('\r\n\r\n') + 4);
    for (const uids of [added.map((a) => a.uid), [3, 4, 17, 40, 999], [5]]) {
      const heads = s.messages.fetchRows(box.id, uids, { head: true });
      const sums = s.messages.fetchRows(box.id, uids, { summary: true });
      assert.deepEqual(
        heads.map((r) => r.uid),
        uids.filter((u) => raws.has(u)),
      );
      for (let k = 0; k < heads.length; k++) {
        const raw = raws.get(heads[k]!.uid)!;
        assert.deepEqual(heads[k]!.head, headOf(raw));
        assert.deepEqual(sums[k]!.head, summaryHeader(headOf(raw)));
        assert.ok(sums[k]!.head!.includes(Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00])));
        assert.ok(!sums[k]!.head!.includes('X-Junk'));
      }
    }
    assert.deepEqual(s.messages.fetchRows(box.id, [500, 501], { summary: true }), []);
    // without its summary row, a message's summary is read from its header block (blobs.ts
    // stores none when it would save little over the header block)
    const blob4 = '(SELECT blob_id FROM messages WHERE mailbox_id = ? AND uid = 4)';
    rawDb(s).prepare(`DELETE FROM message_summaries WHERE blob_id = ${blob4}`).run(box.id);
    assert.deepEqual(
      s.messages.fetchRows(box.id, [3, 4, 5], { summary: true }).map((r) => r.head),
      [3, 4, 5].map((u) => (u === 4 ? headOf(raws.get(u)!) : summaryHeader(headOf(raws.get(u)!)))),
    );
    // a message whose header block is missing is refused, never served with its neighbours' bytes
    rawDb(s).prepare(`DELETE FROM message_heads WHERE blob_id = ${blob4}`).run(box.id);
    assert.throws(
      () => s.messages.fetchRows(box.id, [3, 4, 5], { summary: true }),
      /header block of message 4 is missing/,
    );
    assert.equal(s.messages.fetchRows(box.id, [3, 5], { summary: true }).length, 2);
    // fetchRows reads rows as arrays from statements other readers share: they still get objects
    const meta = s.messages.iterateMeta(box.id, 1, 2);
    assert.equal(meta.next().value?.uid, 1);
    meta.return(undefined);
    // inside a write transaction (nested read), and seeing that transaction's own rows
    rawDb(s).transaction(() => {
      const m = odd(99);
      const [extra] = s.messages.insertBatch(box.id, [m]);
      const rows = s.messages.fetchRows(box.id, [1, extra!.uid], { summary: true });
      assert.deepEqual(rows[1]!.head, summaryHeader(headOf(m.raw)));
    })();
  });
  it("lists a folder's remote UIDs in order, past its first 1,024 (sortedRemoteUidsIn)", () => {
    const box = s.mailboxes.create(accountId, 'Remote UIDs');
    // 3,000 synced messages whose remote UIDs are inserted out of order (every 7th of 1..21,000)
    const uids = Array.from({ length: 3000 }, (_, i) => ((i * 1543) % 3000) * 7 + 7);
    for (let at = 0; at < uids.length; at += 500)
      s.messages.insertBatch(
        box.id,
        uids.slice(at, at + 500).map((uid) => ({
          ...msg(`r${uid}`, 'x'),
          remote: { remoteMailbox: 'Remote UIDs', uidvalidity: 5, uid, contentHash: Buffer.alloc(32, 1) },
        })),
        'sync',
      );
    const all = s.remoteMap.sortedRemoteUidsIn(accountId, 'Remote UIDs', 5, 1, 1_000_000);
    assert.deepEqual(
      [...all],
      [...uids].sort((a, b) => a - b),
    );
    assert.deepEqual(
      [...s.remoteMap.sortedRemoteUidsIn(accountId, 'Remote UIDs', 5, 14, 35)],
      [14, 21, 28, 35],
    );
    assert.equal(s.remoteMap.sortedRemoteUidsIn(accountId, 'Remote UIDs', 6, 1, 1_000_000).length, 0);
  });
});

function msgRawOf(s: Store, mailboxId: number, uid: number): Buffer {
  return s.messages.raw(s.messages.get(mailboxId, uid)!.blobId);
}
