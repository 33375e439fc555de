/**
 * The bounded body cache (issue 20, migration 15): over the budget, the bodies of the least
 * recently read messages are evicted — only the body bytes: size, structure, header block, flags,
 * the full-text index entry and the provider mapping stay — never a body the provider does not
 * have (local APPENDs not uploaded, queued local changes), one not yet indexed, or a Draft; an
 * evicted body written back with the recorded bytes is served byte-exactly again; eviction runs
 * in the background without holding the event loop.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BodyEvictedError } from '../../../app/store/repos/messages.ts';
import type { NewMessage } from '../../../app/store/repos/messages.ts';
import type { Store } from '../../../app/store/store.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { MIGRATIONS } from '../../../app/store/migrations/index.ts';
import { fakeAnalysis, makeRaw, newStore, reopen, tempDir, testAccount } from './helpers.ts';

let remoteUid = 0;

/** A message as sync stores it: mapped to the provider's INBOX. */
function synced(subject: string, body: string, date = 'Mon, 23 Nov 2026 10:00:00 +0000'): NewMessage {
  const raw = Buffer.from(
    makeRaw({ subject, body })
      .toString('utf8')
      .replace(/^Date: .*$/m, `Date: ${date}`),
    'utf8',
  );
  const sha256 = createHash('sha256').update(raw).digest();
  return {
    raw,
    analysis: fakeAnalysis(raw),
    flags: [],
    internalDate: Date.parse(date),
    sha256,
    remote: { remoteMailbox: 'INBOX', uidvalidity: 7, uid: ++remoteUid, contentHash: sha256 },
  };
}

function evictAll(s: Store): void {
  while (s.messages.bodyCache.evictStep() > 0);
}

function blobOf(s: Store, box: number, uid: number): number {
  return s.messages.get(box, uid)!.blobId;
}

describe('body cache', () => {
  const t = tempDir();
  let s: Store;
  let inbox: number;
  let drafts: number;
  let accountId: number;
  before(async () => {
    s = await newStore(t.dir);
    const acc = testAccount(s, 'cache@example.org');
    accountId = acc.id;
    inbox = s.mailboxes.create(acc.id, 'INBOX').id;
    drafts = s.mailboxes.create(acc.id, 'Drafts', { specialUse: '\\Drafts' }).id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('evicts only body bytes of synced mail, least recently read first, and never unsynced data', async () => {
    // bodies of about the same stored size (base64 of hash chains: compress alike)
    const body = (n: number) => {
      const parts: Buffer[] = [];
      let h = Buffer.from(`seed ${n}`);
      for (let i = 0; i < 64; i++) parts.push((h = createHash('sha256').update(h).digest()));
      return `word${n} ` + Buffer.concat(parts).toString('base64') + ` needle${n}zz\r\n`;
    };
    // oldest Date first: 0 is the oldest
    const msgs = Array.from({ length: 8 }, (_, i) =>
      synced(
        `subject-m${i}`,
        body(i),
        new Date(Date.UTC(2026, 0, 1 + i)).toUTCString().replace('GMT', '+0000'),
      ),
    );
    const uids = s.messages.insertBatch(inbox, msgs, 'sync').map((r) => r.uid);
    // a local APPEND (not at the provider yet), and a synced message with a queued flag change
    const { remote: _remote, ...unmapped } = synced('local', body(100));
    const local = s.messages.insert(inbox, unmapped, 'local').uid;
    const flagged = uids[1]!;
    s.messages.storeFlags(inbox, [flagged], 'add', ['\\Flagged'], { origin: 'local' });
    // a synced draft
    const draft = s.messages.insert(drafts, { ...synced('draft', body(200)) }, 'sync').uid;
    // not indexed yet: kept
    s.messages.bodyCache.setBudget(0);
    evictAll(s);
    assert.equal(s.messages.bodyCache.status().evicted, 0, 'nothing is evicted before it is indexed');
    s.flushIndex();

    const before = new Map(
      [...uids, local].map((u) => [u, s.messages.fetchRows(inbox, [u], { analysis: true, raw: true })[0]!]),
    );
    // m0 (the oldest) is read now: it goes last
    s.messages.bodyCache.setBudget(null);
    s.messages.bodyCache.setBudget(Number.MAX_SAFE_INTEGER);
    s.messages.fetchRows(inbox, [uids[0]!], { raw: true });
    const total = s.messages.bodyCache.status().storedBytes;
    const per = total / 10;
    // room for about four bodies: the three protected ones and m0
    s.messages.bodyCache.setBudget(Math.floor(per * 4.5));
    evictAll(s);
    const st = s.messages.bodyCache.status();
    assert.ok(st.storedBytes <= st.budgetBytes!, `stored ${st.storedBytes} within ${st.budgetBytes}`);
    assert.equal(st.evicted, 6, 'm2..m7 evicted');
    assert.ok(!s.messages.bodyEvicted(blobOf(s, inbox, uids[0]!)), 'the one read last is kept');
    assert.ok(!s.messages.bodyEvicted(blobOf(s, inbox, local)), 'a local APPEND is never evicted');
    assert.ok(!s.messages.bodyEvicted(blobOf(s, inbox, flagged)), 'a queued local change keeps its body');
    assert.ok(!s.messages.bodyEvicted(blobOf(s, drafts, draft)), 'Drafts are kept');
    for (const u of uids.slice(2))
      assert.ok(s.messages.bodyEvicted(blobOf(s, inbox, u)), `m${uids.indexOf(u)}`);

    // what is served about an evicted message does not change; its body is not there
    const u5 = uids[5]!;
    const row = s.messages.fetchRows(inbox, [u5], { analysis: true, raw: true, head: true })[0]!;
    const was = before.get(u5)!;
    assert.equal(row.evicted, true);
    assert.equal(row.raw, undefined);
    assert.equal(row.size, was.size);
    assert.equal(row.bodyStructure, was.bodyStructure);
    assert.equal(row.envelope, was.envelope);
    assert.deepEqual(row.head, was.raw!.subarray(0, was.headLength));
    const headOnly = s.messages.fetchRows(inbox, [u5], { head: true })[0]!;
    assert.deepEqual(headOnly.head, row.head);
    assert.throws(() => s.messages.raw(row.blobId), BodyEvictedError);
    assert.equal(
      await s.messages.intact(row.blobId),
      true,
      'an evicted body is not damaged (repair leaves it)',
    );
    assert.ok(s.remoteMap.forMessage(row.id), 'the provider mapping stays');
    // the full-text index still finds it (its header block is checked exactly)
    assert.deepEqual(s.messages.searchText(inbox, 'needle5zz', 'text'), [u5]);
    assert.deepEqual(s.messages.searchText(inbox, 'subject-m5', 'headers'), [u5]);

    // written back with the recorded bytes: served byte-exactly again; other bytes are refused
    const m5 = msgs[5]!;
    const { sha256: _recorded, ...other } = m5;
    assert.equal(
      await s.messages.restoreRaw(row.blobId, { ...other, raw: Buffer.concat([m5.raw, Buffer.from('x')]) }),
      false,
    );
    assert.ok(s.messages.bodyEvicted(row.blobId));
    assert.equal(await s.messages.restoreRaw(row.blobId, m5), true);
    const back = s.messages.fetchRows(inbox, [u5], { analysis: true, raw: true })[0]!;
    assert.equal(back.evicted, undefined);
    assert.deepEqual(back.raw, was.raw);
    assert.equal(back.bodyStructure, was.bodyStructure);
    assert.equal(s.messages.bodyCache.status().evicted, 5);

    // once the flag change reached the provider, that body may go too
    s.pending.list(accountId, 100).forEach((p) => s.pending.done(p.id));
    s.messages.bodyCache.setBudget(0);
    evictAll(s);
    assert.ok(s.messages.bodyEvicted(blobOf(s, inbox, flagged)));
    assert.ok(!s.messages.bodyEvicted(blobOf(s, inbox, local)), 'still not at the provider');
    s.messages.bodyCache.setBudget(null);
  });

  it('evicts big chunked bodies (their chunks are swept) and keeps the totals right through deletes', () => {
    s.messages.bodyCache.setBudget(null);
    const big = synced('big', 'The quarterly numbers, again and again.\r\n'.repeat(40_000));
    const { uid } = s.messages.insert(inbox, big, 'sync');
    s.flushIndex();
    const chunks = () => rawDb(s).prepare('SELECT count(*) FROM body_chunks').pluck().get() as number;
    assert.ok(chunks() > 0);
    const stored = s.messages.bodyCache.status().storedBytes;
    s.messages.bodyCache.setBudget(0);
    evictAll(s);
    while (s.messages.chunks.sweepStep());
    assert.equal(chunks(), 0, 'the chunks of the evicted body are deleted');
    assert.ok(s.messages.bodyCache.status().storedBytes < stored);
    assert.equal(s.messages.fetchRows(inbox, [uid], { raw: true, lazy: true })[0]!.evicted, true);
    // the sums always equal the rows
    const sums = () =>
      rawDb(s)
        .prepare(
          'SELECT coalesce(sum(bytes), 0) AS stored, coalesce(sum(evicted), 0) AS evicted FROM body_cache',
        )
        .get() as { stored: number; evicted: number };
    const st = s.messages.bodyCache.status();
    assert.deepEqual({ stored: st.storedBytes, evicted: st.evicted }, sums());
    s.messages.storeFlags(inbox, [uid], 'add', ['\\Deleted'], { origin: 'sync' });
    s.messages.expunge(inbox, [uid], 'sync');
    const st2 = s.messages.bodyCache.status();
    assert.deepEqual({ stored: st2.storedBytes, evicted: st2.evicted }, sums());
    s.messages.bodyCache.setBudget(null);
  });

  it('evicts thousands of bodies in the background without holding the event loop', async () => {
    s.messages.bodyCache.setBudget(null);
    const box = s.mailboxes.create(accountId, 'Bulk').id;
    for (let i = 0; i < 6; i++)
      s.messages.insertBatch(
        box,
        Array.from({ length: 500 }, (_, k) => synced(`bulk ${i}-${k}`, `bulk text ${i} ${k} `.repeat(200))),
        'sync',
      );
    s.flushIndex();
    const budget = Math.floor(s.messages.bodyCache.status().storedBytes / 10);
    const r = await measureLoop(async () => {
      s.messages.bodyCache.setBudget(budget);
      const deadline = Date.now() + 120_000;
      while (s.messages.bodyCache.status().storedBytes > budget) {
        if (Date.now() > deadline) throw new Error('eviction did not reach the budget');
        await new Promise((res) => setTimeout(res, 20));
      }
    });
    assertLoop(r, 'background eviction of ~2,700 bodies');
    assert.ok(s.messages.bodyCache.status().evicted >= 2500);
    s.messages.bodyCache.setBudget(null);
  });
});

describe('migration 15: the body cache of a store written before it', () => {
  const t = tempDir();
  after(t.cleanup);

  it('counts every stored body, inline and in chunks', async () => {
    const dir = `${t.dir}/old`;
    const old = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 14) });
    const box = old.mailboxes.create(testAccount(old, 'old@example.org').id, 'INBOX').id;
    // without the provider mapping: today's repositories write remote_map columns a version-14
    // schema does not have (migration 17); the body counts do not depend on it
    const local = (m: NewMessage): NewMessage => ({ ...m, remote: undefined });
    old.messages.insertBatch(
      box,
      [local(synced('small', 'hello')), local(synced('text', 'a line of text\r\n'.repeat(500)))],
      'sync',
    );
    old.messages.insert(
      box,
      local(synced('big', 'The quarterly numbers, again.\r\n'.repeat(50_000))),
      'sync',
    );
    const expected = rawDb(old)
      .prepare(
        `SELECT sum(length(body)) + (SELECT coalesce(sum(length(data)), 0) FROM body_chunks) FROM message_raw`,
      )
      .pluck()
      .get() as number;
    old.close();
    const s = await reopen(dir);
    try {
      assert.deepEqual(s.messages.bodyCache.status(), {
        storedBytes: expected,
        budgetBytes: null,
        evicted: 0,
      });
      assert.equal(rawDb(s).prepare('SELECT count(*) FROM body_cache').pluck().get(), 3);
      // and the sums follow new writes
      s.messages.insert(box, synced('new', 'more text'), 'sync');
      assert.ok(s.messages.bodyCache.status().storedBytes > expected);
    } finally {
      s.close();
    }
  });
});

describe('migration 19: a body joins the body cache when it is indexed', () => {
  const t = tempDir();
  after(t.cleanup);
  const rows = (s: Store): number =>
    rawDb(s).prepare('SELECT count(*) FROM body_cache').pluck().get() as number;
  const sums = (s: Store) =>
    rawDb(s)
      .prepare(
        `SELECT (SELECT coalesce(sum(bytes), 0) FROM body_cache) + (SELECT coalesce(sum(bytes), 0) FROM fts_queue) AS stored,
                (SELECT coalesce(sum(evicted), 0) FROM body_cache) AS evicted`,
      )
      .get() as { stored: number; evicted: number };
  const stored = (s: Store): number =>
    rawDb(s)
      .prepare(
        'SELECT sum(length(body)) + (SELECT coalesce(sum(length(data)), 0) FROM body_chunks) FROM message_raw',
      )
      .pluck()
      .get() as number;

  it('counts a queued body in the status, and moves it to the cache (with a read noted meanwhile) at indexing', async () => {
    const s = await newStore(`${t.dir}/new`);
    try {
      const box = s.mailboxes.create(testAccount(s, 'q@example.org').id, 'INBOX').id;
      s.messages.insertBatch(box, [synced('one', 'first body'), synced('two', 'second body')], 'sync');
      s.messages.insert(box, synced('big', 'The quarterly numbers, again.\r\n'.repeat(50_000)), 'sync');
      assert.equal(rows(s), 0, 'not indexed yet: no body_cache row');
      const st = s.messages.bodyCache.status();
      assert.deepEqual(st, { storedBytes: stored(s), budgetBytes: null, evicted: 0 });
      // a read of a body not yet indexed is written once it has a row
      s.messages.bodyCache.setBudget(Number.MAX_SAFE_INTEGER);
      const read = s.messages.get(box, 2)!.blobId;
      const at = Date.now();
      s.messages.bodyCache.noteRead([read]);
      s.messages.bodyCache.flushReads();
      s.flushIndex();
      assert.equal(rows(s), 3);
      assert.deepEqual(s.messages.bodyCache.status(), { ...st, budgetBytes: Number.MAX_SAFE_INTEGER });
      assert.deepEqual(sums(s), { stored: st.storedBytes, evicted: 0 });
      s.messages.bodyCache.flushReads();
      const readAt = rawDb(s).prepare('SELECT read_at FROM body_cache WHERE blob_id = ?').pluck().get(read);
      assert.ok((readAt as number) >= at, 'the read noted before indexing is kept');
      s.messages.bodyCache.setBudget(null);
    } finally {
      s.close();
    }
  });

  it('counts the queued bodies of a store written before it once', async () => {
    const dir = `${t.dir}/old`;
    const old = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 18) });
    const box = old.mailboxes.create(testAccount(old, 'o@example.org').id, 'INBOX').id;
    // fts_queue has no bytes column at version 18: the code of today inserts only blob_id there
    old.messages.insertBatch(box, [synced('a', 'queued before'), synced('b', 'also queued')], 'sync');
    const before = { storedBytes: stored(old), budgetBytes: null, evicted: 0 };
    assert.equal(rows(old), 2, 'version 18 gives every body its row at once');
    old.close();
    const s = await reopen(dir);
    try {
      assert.deepEqual(s.messages.bodyCache.status(), before);
      s.messages.insert(box, synced('c', 'queued after'), 'sync');
      assert.equal(rows(s), 2);
      assert.equal(s.messages.bodyCache.status().storedBytes, stored(s));
      s.flushIndex();
      assert.equal(rows(s), 3);
      assert.deepEqual(s.messages.bodyCache.status(), {
        storedBytes: stored(s),
        budgetBytes: null,
        evicted: 0,
      });
      assert.deepEqual(sums(s), { stored: stored(s), evicted: 0 });
    } finally {
      s.close();
    }
  });
});
