import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { MIGRATIONS, type Migration } from '../../../app/store/migrations/index.ts';
import { SchemaTooNewError, latestVersion, schemaVersion } from '../../../app/store/migrations/runner.ts';
import type { Store } from '../../../app/store/store.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { filterHeader, summaryHeader } from '../../../app/mime/header-fields.ts';
import { msg, newStore, reopen, tempDir, testAccount } from './helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';

const V1 = MIGRATIONS.filter((m) => m.version === 1);
const next = latestVersion(MIGRATIONS) + 1;
/** A later step as a future release would add it: a new column with a backfill. */
const addColumn: Migration = {
  version: next,
  name: 'test-add-column',
  up(db) {
    db.exec("ALTER TABLE accounts ADD COLUMN nickname TEXT NOT NULL DEFAULT ''");
    db.exec("UPDATE accounts SET nickname = 'nick-' || email");
  },
};
/** A step that fails half-way: must leave the database at the previous version. */
const broken: Migration = {
  version: next,
  name: 'test-broken',
  up(db) {
    db.exec('CREATE TABLE half_done (x INTEGER)');
    throw new Error('boom');
  },
};

/** A message as the v1 schema stored it (header block and body both in message_raw). */
function insertV1Message(s: Store, mailboxId: number, raw: Buffer, uid = 1): void {
  const split = raw.indexOf('\r\n\r\n') + 4;
  const blob = rawDb(s)
    .prepare(
      "INSERT INTO message_blobs (size, sha256, envelope, body_structure, body, parts) VALUES (?, x'00', 'NIL', 'NIL', 'NIL', ?)",
    )
    .run(
      raw.length,
      JSON.stringify([{ section: '', headerStart: 0, bodyStart: split, bodyEnd: raw.length }]),
    );
  const blobId = Number(blob.lastInsertRowid);
  rawDb(s)
    .prepare('INSERT INTO message_raw (blob_id, compression, head, body) VALUES (?, 1, ?, ?)')
    .run(blobId, raw.subarray(0, split), deflateRawSync(raw.subarray(split)));
  rawDb(s)
    .prepare(
      'INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id) VALUES (?, ?, 1, 0, ?, 0, ?, ?)',
    )
    .run(mailboxId, uid, '', raw.length, blobId);
  rawDb(s)
    .prepare('UPDATE mailboxes SET uidnext = ?, highestmodseq = 1 WHERE id = ?')
    .run(uid + 1, mailboxId);
}

/** Columns today's code writes that a released step added later: [table, column, type]. */
const LATER_COLUMNS: ReadonlyArray<[string, string, string]> = [
  ['messages', 'saved_at', 'INTEGER NOT NULL DEFAULT 0'], // migration 7
  ['mailboxes', 'object_id', 'TEXT'], // migration 8
  ['message_blobs', 'email_id', 'TEXT'], // migration 8
  ['message_blobs', 'thread_id', 'TEXT'], // migration 12
  ['accounts', 'oauth', 'TEXT'], // migration 13
  ['remote_map', 'remote_size', 'INTEGER'], // migration 17
  ['remote_map', 'remote_head', 'BLOB'], // migration 17
  ['fts_queue', 'bytes', 'INTEGER'], // migration 19
  ['accounts', 'signed_out_at', 'INTEGER'], // migration 20
];
/**
 * Tables today's code uses that a released step added later: [table, the step that adds it, or
 * the table's definition where that step also adds columns (they are in LATER_COLUMNS)].
 */
const LATER_TABLES: ReadonlyArray<[string, number | string]> = [
  ['mailbox_ids', 11],
  ['message_threads', '(message_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL) STRICT, WITHOUT ROWID'], // 12
];

/**
 * Runs today's code (creating mailboxes, inserting messages) on a store whose schema is older:
 * the later columns that code writes exist only meanwhile, so the store is left at its old schema
 * and the steps that add them run on reopening.
 */
function asBefore<T>(s: Store, fn: () => T): T {
  const has = (table: string, column: string): boolean =>
    (rawDb(s).prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).some(
      (c) => c.name === column,
    );
  const added = LATER_COLUMNS.filter(([table, column]) => !has(table, column));
  for (const [table, column, type] of added)
    rawDb(s).exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  const exists = (table: string): boolean =>
    rawDb(s).prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(table) !== undefined;
  const tables = LATER_TABLES.filter(([table]) => !exists(table));
  for (const [table, step] of tables)
    if (typeof step === 'number') MIGRATIONS.find((m) => m.version === step)!.up(rawDb(s));
    else rawDb(s).exec(`CREATE TABLE ${table} ${step}`);
  try {
    return fn();
  } finally {
    for (const [table, column] of added) rawDb(s).exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
    for (const [table] of tables) rawDb(s).exec(`DROP TABLE ${table}`);
  }
}

describe('store migrations', () => {
  const t = tempDir();
  after(t.cleanup);
  const dir = join(t.dir, 's');

  it('migrates a v1 database forward, keeping its data', async () => {
    const s = await newStore(dir, { migrations: V1 });
    assert.equal(schemaVersion(rawDb(s)), 1);
    const acc = asBefore(s, () => testAccount(s, 'm@example.org'));
    const box = asBefore(s, () => s.mailboxes.create(acc.id, 'INBOX'));
    insertV1Message(s, box.id, msg('kept', 'data').raw);
    s.close();

    const migrations = [...MIGRATIONS, addColumn];
    await assert.rejects(reopen(dir, { migrations: [...MIGRATIONS, broken] }), /boom/);
    const mid = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(mid)), latestVersion(MIGRATIONS));
    assert.deepEqual(
      rawDb(mid).prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get(),
      { n: 0 },
    );
    mid.close();

    const s2 = await reopen(dir, { migrations });
    assert.equal(schemaVersion(rawDb(s2)), next);
    assert.deepEqual(rawDb(s2).prepare('SELECT nickname FROM accounts').get(), {
      nickname: 'nick-m@example.org',
    });
    assert.equal(s2.mailboxes.status(box.id).messages, 1);
    s2.close();
  });

  it('leaves nothing behind when creating a store fails', async () => {
    const { existsSync } = await import('node:fs');
    const d = join(t.dir, 'failed-init');
    await assert.rejects(newStore(d, { migrations: [...MIGRATIONS, broken] }), /boom/);
    assert.equal(existsSync(join(d, 'store.db')), false);
    assert.equal(existsSync(join(d, 'keywrap.json')), false);
    (await newStore(d)).close();
  });

  it('refuses a database written by a newer version', async () => {
    await assert.rejects(reopen(dir, { migrations: MIGRATIONS }), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.equal(
        err.message,
        `this store was written by a newer Lockbridge (schema ${next} > ${latestVersion(MIGRATIONS)}); upgrade Lockbridge`,
      );
      return true;
    });
    // the refusal released the lock and changed nothing: the newer version still opens
    const s = await reopen(dir, { migrations: [...MIGRATIONS, addColumn] });
    assert.equal(schemaVersion(rawDb(s)), next);
    s.close();
  });
});

describe('migration 3: outbox bytes in their own table', () => {
  const t = tempDir();
  after(t.cleanup);
  const dir = join(t.dir, 'o');

  it('moves queued messages over intact; state changes and account removal still work', async () => {
    const V2 = MIGRATIONS.filter((m) => m.version <= 2);
    const s = await newStore(dir, { migrations: V2 });
    const acc = asBefore(s, () => testAccount(s, 'o@example.org'));
    const raw = Buffer.from('Subject: queued before the upgrade\r\n\r\n' + 'x'.repeat(5000));
    rawDb(s)
      .prepare(
        "INSERT INTO outbox (account_id, envelope, raw, state, next_attempt, created_at) VALUES (?, ?, ?, 'queued', 1, 1)",
      )
      .run(acc.id, JSON.stringify({ from: 'o@example.org', to: ['b@example.org'] }), raw);
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    const [item] = up.outbox.list();
    assert.ok(item);
    assert.equal(item.size, raw.length);
    assert.deepEqual(item.envelope.to, ['b@example.org']);
    assert.deepEqual(up.outbox.raw(item.id), raw);
    up.outbox.setState(item.id, 'sent', {});
    assert.equal(up.outbox.get(item.id)?.state, 'sent');
    assert.deepEqual(up.outbox.raw(item.id), raw, 'a state change leaves the bytes alone');
    const fresh = up.outbox.enqueue(acc.id, { from: 'o@example.org', to: ['c@example.org'] }, raw);
    assert.equal(up.outbox.get(fresh)?.size, raw.length);
    up.accounts.remove(acc.id);
    assert.equal(up.outbox.list().length, 0);
    const left = rawDb(up).prepare('SELECT count(*) AS n FROM outbox_raw').get() as { n: number };
    assert.equal(left.n, 0, 'removing the account removes the queued bytes too');
    up.close();
  });
});

describe('migration 4: header blocks in their own table', () => {
  const t = tempDir();
  after(t.cleanup);
  const dir = join(t.dir, 'h');

  it('serves messages stored before the upgrade byte-exactly; new and copied ones too; expunge cleans up', async () => {
    const V3 = MIGRATIONS.filter((m) => m.version <= 3);
    const s = await newStore(dir, { migrations: V3 });
    const acc = asBefore(s, () => testAccount(s, 'h@example.org'));
    const box = asBefore(s, () => s.mailboxes.create(acc.id, 'INBOX'));
    const old = msg('stored before the upgrade', 'old body line\r\n'.repeat(200)).raw;
    insertV1Message(s, box.id, old);
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    const fresh = msg('stored after the upgrade', 'new body line\r\n'.repeat(100));
    const [added] = up.messages.insertBatch(box.id, [fresh], 'sync');
    const [row1, row2] = up.messages.fetchRows(box.id, [1, added!.uid], { raw: true, head: true });
    assert.deepEqual(row1!.raw, old);
    assert.deepEqual(row1!.head, old.subarray(0, old.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(row2!.raw, fresh.raw);
    const [h1, h2] = up.messages.fetchRows(box.id, [1, added!.uid], { head: true });
    assert.deepEqual(h1!.head, row1!.head);
    assert.deepEqual(h2!.head, fresh.raw.subarray(0, fresh.raw.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(up.messages.raw(row1!.blobId), old);
    assert.deepEqual(up.messages.header(row2!.blobId), h2!.head);
    const other = up.mailboxes.create(acc.id, 'Other');
    up.messages.copy(box.id, [1, added!.uid], other.id, 'sync');
    assert.deepEqual(
      up.messages.fetchRows(other.id, [1, 2], { raw: true }).map((r) => r.raw),
      [old, fresh.raw],
    );
    up.messages.remove(box.id, [1, added!.uid], 'sync');
    up.messages.remove(other.id, [1, 2], 'sync');
    for (const table of ['message_heads', 'message_raw', 'message_blobs']) {
      const n = rawDb(up).prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
      assert.equal(n.n, 0, `${table} is empty once no message uses the blob`);
    }
    up.close();
  });
});

describe('migration 5: summary header blocks', () => {
  const t = tempDir();
  after(t.cleanup);
  const dir = join(t.dir, 's');

  it('fills summaries for messages stored before it; new ones get theirs; both serve the summary fields', async () => {
    const s = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 5) });
    const acc = asBefore(s, () => testAccount(s, 's@example.org'));
    const box = asBefore(s, () => s.mailboxes.create(acc.id, 'INBOX'));
    const withNoise = (subject: string): ReturnType<typeof msg> => {
      const m = msg(subject, 'body\r\n');
      const raw = Buffer.concat([
        Buffer.from(
          'Received: from a\r\n\tby b; Mon, 1 Jan 2024 00:00:00 +0000\r\nDKIM-Signature: v=1;\r\n b=xyz\r\n',
        ),
        m.raw,
      ]);
      return { ...m, raw, analysis: analyzeMessage(raw) };
    };
    const before = Array.from({ length: 2500 }, (_, i) => withNoise(`before ${i}`)); // > one batch
    // headers that test the line rules: folding, space before the colon, case, lines that are
    // not fields, a continuation before any field, bare LF, 8-bit names and values
    const tricky = [
      ' leading: continuation\r\nFROM : a@b\r\n\tfolded\r\nX-Junk: 1\r\n more junk\r\nSubject:x\r\n',
      'not a field line\r\nTo: c@d\nReceived: x\n\ty\nList-Id: <l>\r\nDate:\r\n',
      'X-Caf\xe9: 1\r\nSubject\t: t\xe9st\r\n\r\nFrom: body@line\r\n',
      ':no name\r\nmessage-id: <m@x>\r\nMessage-IDs: <n>\r\nuser-agent: ua\r\n',
    ].map((h) => {
      const raw = Buffer.from(h + '\r\nbody\r\n', 'latin1');
      return { raw, analysis: analyzeMessage(raw), flags: [] };
    });
    asBefore(s, () => s.messages.insertBatch(box.id, [...before, ...tricky], 'sync'));
    // what a version-4 store holds: the same, less the summaries
    rawDb(s).exec('DROP TABLE message_summaries');
    rawDb(s).pragma('user_version = 4');
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    const [added] = up.messages.insertBatch(box.id, [withNoise('after')], 'sync');
    const n = rawDb(up).prepare('SELECT count(*) AS n FROM message_summaries').get() as { n: number };
    assert.equal(n.n, 2505);
    // what the frozen migration wrote is, byte for byte, what the live code writes today
    const rows = rawDb(up)
      .prepare(
        'SELECT h.head AS head, s.head AS summary FROM message_heads h JOIN message_summaries s USING (blob_id)',
      )
      .all() as Array<{ head: Buffer; summary: Buffer }>;
    assert.equal(rows.length, 2505);
    for (const r of rows) assert.deepEqual(r.summary, summaryHeader(r.head), r.head.toString('latin1'));
    const uids = [1, 1250, 2500, added!.uid];
    const full = up.messages.fetchRows(box.id, uids, { head: true });
    const summ = up.messages.fetchRows(box.id, uids, { summary: true });
    assert.equal(summ.length, 4);
    for (let i = 0; i < 4; i++) {
      const head = full[i]!.head!;
      const sum = summ[i]!.head!;
      assert.ok(head.includes('Received: from a\r\n\tby b') && !sum.includes('Received'), sum.toString());
      assert.ok(!sum.includes('DKIM') && !sum.includes(' b=xyz'));
      assert.ok(sum.includes('Subject: '), sum.toString());
      assert.deepEqual(filterHeader(sum, TB, false), filterHeader(head, TB, false));
    }
    up.close();
  });
  it('keeps mailbox counts (migration 6): filled for existing mail, then right after every kind of change', async () => {
    const d6 = join(t.dir, 'counts');
    const s = await newStore(d6, { migrations: MIGRATIONS.filter((m) => m.version <= 5) });
    const acc = asBefore(s, () => testAccount(s, 'c@example.org'));
    const a = asBefore(s, () => s.mailboxes.create(acc.id, 'INBOX'));
    const b = asBefore(s, () => s.mailboxes.create(acc.id, 'Archive'));
    const flagSets = [[], ['\\Seen'], ['\\Deleted'], ['\\Seen', '\\Deleted'], ['\\Flagged', 'custom']];
    asBefore(s, () =>
      s.messages.insertBatch(
        a.id,
        Array.from({ length: 30 }, (_, i) =>
          msg(`old ${i}`, 'x'.repeat(i * 7), flagSets[i % flagSets.length]),
        ),
        'sync',
      ),
    );
    s.close();

    const up = await reopen(d6, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    const slow = (id: number) =>
      rawDb(up)
        .prepare(
          `SELECT count(*) AS messages, coalesce(sum((flags & 1) = 0), 0) AS unseen,
                  coalesce(sum((flags & 8) != 0), 0) AS deleted, coalesce(sum(size), 0) AS size
           FROM messages WHERE mailbox_id = ?`,
        )
        .get(id) as { messages: number; unseen: number; deleted: number; size: number };
    const check = (what: string) => {
      for (const id of [a.id, b.id]) {
        const st = up.mailboxes.status(id);
        assert.deepEqual(
          { messages: st.messages, unseen: st.unseen, deleted: st.deleted, size: st.size },
          slow(id),
          `${what} (mailbox ${id})`,
        );
      }
    };
    check('after the migration');
    assert.equal(up.mailboxes.status(a.id).messages, 30);

    // a seeded random walk over every operation that changes messages
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = (id: number) => {
      const uids = up.messages.uids(id);
      return uids.filter(() => rnd(3) === 0);
    };
    const ops = ['insert', 'batch', 'flags', 'copy', 'move', 'expunge', 'remove'] as const;
    for (let step = 0; step < 300; step++) {
      const [src, dst] = rnd(2) ? [a.id, b.id] : [b.id, a.id];
      const op = ops[rnd(ops.length)]!;
      const f = flagSets[rnd(flagSets.length)]!;
      if (op === 'insert') up.messages.insert(src, msg(`n ${step}`, 'y'.repeat(rnd(500)), f));
      else if (op === 'batch')
        up.messages.insertBatch(
          src,
          Array.from({ length: 1 + rnd(5) }, (_, i) => msg(`b ${step}.${i}`, 'z'.repeat(rnd(300)), f)),
        );
      else if (op === 'flags')
        up.messages.storeFlags(src, pick(src), (['add', 'remove', 'replace'] as const)[rnd(3)]!, f);
      else if (op === 'copy') up.messages.copy(src, pick(src), dst);
      else if (op === 'move') up.messages.move(src, pick(src), dst);
      else if (op === 'expunge') up.messages.expunge(src);
      else up.messages.remove(src, pick(src));
      check(`step ${step} (${op})`);
    }
    // a deleted mailbox takes its messages along; the other keeps its counts
    up.mailboxes.delete(b.id);
    assert.deepEqual({ messages: up.mailboxes.status(a.id).messages }, { messages: slow(a.id).messages });
    assert.throws(() => up.mailboxes.status(b.id), /mailbox/);
    up.close();
  });
});

describe('migration 7: save dates', () => {
  const t = tempDir();
  after(t.cleanup);

  it('gives messages stored before it their internal date; new rows, copies and moves the time they came in', async () => {
    const dir = join(t.dir, 'saved');
    const s = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 6) });
    const acc = asBefore(s, () => testAccount(s, 'd@example.org'));
    const box = asBefore(s, () => s.mailboxes.create(acc.id, 'INBOX'));
    const old = Date.UTC(2020, 0, 1, 10);
    asBefore(s, () => s.messages.insertBatch(box.id, [{ ...msg('old', 'body'), internalDate: old }], 'sync'));
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    assert.equal(up.messages.get(box.id, 1)!.savedAt, old);
    const before = Date.now();
    const [added] = up.messages.insertBatch(box.id, [{ ...msg('new', 'body'), internalDate: old }], 'sync');
    const other = up.mailboxes.create(acc.id, 'Other');
    up.messages.copy(box.id, [1], other.id, 'sync');
    up.messages.move(box.id, [added!.uid], other.id, 'sync');
    const after = Date.now();
    const rows = up.messages.fetchRows(other.id, [1, 2], {});
    for (const r of [up.messages.get(box.id, 1)!, ...rows]) assert.equal(r.internalDate, old);
    for (const r of rows) assert.ok(r.savedAt >= before && r.savedAt <= after, `saved at ${r.savedAt}`);
    assert.equal(up.messages.get(box.id, 1)!.savedAt, old, 'the original keeps its save date');
    up.close();
  });
});

describe('migration 8: object ids', () => {
  const t = tempDir();
  after(t.cleanup);

  it('gives every mailbox and stored message its own random id; copies share theirs; new ones get one', async () => {
    const dir = join(t.dir, 'ids');
    const s = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 7) });
    const acc = asBefore(s, () => testAccount(s, 'e@example.org'));
    const [a, b] = asBefore(s, () => {
      const a = s.mailboxes.create(acc.id, 'INBOX');
      const b = s.mailboxes.create(acc.id, 'Archive/2024');
      s.messages.insertBatch(a.id, [msg('one', 'x'), msg('two', 'x'), msg('two', 'x')], 'sync');
      s.messages.copy(a.id, [1, 2], b.id, 'sync');
      return [a, b];
    });
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    const boxes = up.mailboxes.list(acc.id);
    assert.equal(boxes.length, 3, 'INBOX, Archive and Archive/2024');
    for (const m of boxes) assert.match(m.objectId, /^F[0-9a-f]{24}$/);
    assert.equal(new Set(boxes.map((m) => m.objectId)).size, 3);
    const ids = (box: number, uids: number[]) =>
      up.messages.fetchRows(box, uids, { emailId: true }).map((r) => r.emailId!);
    const inInbox = ids(a!.id, [1, 2, 3]);
    for (const id of inInbox) assert.match(id, /^M[0-9a-f]{24}$/);
    assert.equal(new Set(inInbox).size, 3, 'the same bytes stored twice are two messages');
    assert.deepEqual(ids(b!.id, [1, 2]), inInbox.slice(0, 2), 'a copy shares its original id');
    // after the upgrade: new mailboxes and messages get ids, a move keeps the message's
    const c = up.mailboxes.create(acc.id, 'New');
    assert.ok(!boxes.some((m) => m.objectId === c.objectId));
    const [added] = up.messages.insertBatch(a!.id, [msg('new', 'x')], 'sync');
    const fresh = ids(a!.id, [added!.uid])[0]!;
    assert.ok(!inInbox.includes(fresh));
    up.messages.move(a!.id, [3, added!.uid], c.id, 'sync');
    assert.deepEqual(ids(c.id, [1, 2]), [inInbox[2], fresh]);
    up.mailboxes.rename(b!.id, 'Archive/2025');
    assert.equal(up.mailboxes.get(b!.id)!.objectId, boxes.find((m) => m.id === b!.id)!.objectId);
    up.close();
  });
});

describe('migration 12: thread ids', () => {
  const t = tempDir();
  after(t.cleanup);

  /** Message-ID <id@example.org>, replying to `parents` (References in order, In-Reply-To the last). */
  const threaded = (id: string, parents: string[], inReplyToOnly = false) => {
    const refs = parents.map((p) => `<${p}@example.org>`);
    const raw = Buffer.from(
      [
        'From: Alice <alice@example.org>',
        `Subject: ${parents.length ? 'Re: ' : ''}plans`,
        `Message-ID: <${id}@example.org>`,
        ...(refs.length ? [`In-Reply-To: ${refs[refs.length - 1]}`] : []),
        ...(refs.length && !inReplyToOnly ? [`References: ${refs.join(' ')}`] : []),
        '',
        id,
        '',
      ].join('\r\n'),
    );
    return { raw, analysis: analyzeMessage(raw), flags: [] };
  };

  it('threads the messages stored before it by their headers, in every mailbox; new ones join their thread', async () => {
    const dir = join(t.dir, 'threads');
    const s = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 11) });
    const acc = asBefore(s, () => testAccount(s, 't@example.org'));
    const [inbox, sent] = asBefore(s, () => {
      const inbox = s.mailboxes.create(acc.id, 'INBOX');
      const sent = s.mailboxes.create(acc.id, 'Sent');
      s.messages.insertBatch(
        inbox.id,
        [
          threaded('root', []),
          threaded('other', []),
          // a reply stored before the message it answers
          threaded('late-reply', ['late-root']),
          threaded('late-root', []),
        ],
        'sync',
      );
      s.messages.insertBatch(
        sent.id,
        [threaded('reply', ['root']), threaded('reply2', ['reply'], true)],
        'sync',
      );
      s.messages.copy(inbox.id, [2], sent.id, 'sync');
      return [inbox, sent];
    });
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    const threads = (box: number, uids: number[]) =>
      up.messages.fetchRows(box, uids, { threadId: true }).map((r) => r.threadId!);
    const [root, other, lateReply, lateRoot] = threads(inbox!.id, [1, 2, 3, 4]);
    const [reply, reply2, copy] = threads(sent!.id, [1, 2, 3]);
    for (const id of [root, other, lateReply, lateRoot]) assert.match(id!, /^T[0-9a-f]{24}$/);
    assert.equal(reply, root, 'a reply in another mailbox');
    assert.equal(reply2, root, 'In-Reply-To alone');
    assert.equal(lateRoot, lateReply, 'a parent stored after its reply');
    assert.equal(copy, other, 'a copy shares its thread');
    assert.equal(new Set([root, other, lateRoot]).size, 3);
    // after the upgrade: a new reply joins the thread it answers, a new message starts its own
    up.messages.insertBatch(
      inbox!.id,
      [threaded('new-reply', ['root', 'reply']), threaded('new', [])],
      'sync',
    );
    const [newReply, fresh] = threads(inbox!.id, [5, 6]);
    assert.equal(newReply, root);
    assert.ok(![root, other, lateRoot].includes(fresh));
    up.close();
  });
});

const TB =
  'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To'.split(
    ' ',
  );

describe('migration 17: what a provider message looked like at the provider', () => {
  const t = tempDir();
  after(t.cleanup);

  it('keeps mappings made before it (no identity: never matched) and records it for new ones', async () => {
    const dir = join(t.dir, 'identity');
    const s = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 16) });
    const acc = asBefore(s, () => testAccount(s, 'r@example.org'));
    const head = Buffer.alloc(32, 7);
    const remote = (uid: number) => ({
      remoteMailbox: 'INBOX',
      uidvalidity: 9,
      uid,
      contentHash: Buffer.alloc(32, 1),
      identity: { size: 1234, head },
    });
    const inbox = asBefore(s, () => {
      const inbox = s.mailboxes.create(acc.id, 'INBOX');
      s.messages.insertBatch(inbox.id, [{ ...msg('old', 'b'), remote: remote(1) }], 'sync');
      return inbox;
    });
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    assert.equal(up.remoteMap.find(acc.id, 'INBOX', 9, 1)?.contentHash?.equals(Buffer.alloc(32, 1)), true);
    assert.deepEqual(up.remoteMap.findByIdentity(acc.id, 1234, head), [], 'stored before: nothing recorded');
    assert.equal(up.remoteMap.knownSizes(acc.id, [1234]).size, 0);
    up.messages.insertBatch(inbox.id, [{ ...msg('new', 'b'), remote: remote(2) }], 'sync');
    assert.deepEqual(
      up.remoteMap.findByIdentity(acc.id, 1234, head).map((m) => m.remoteUid),
      [2],
    );
    assert.deepEqual([...up.remoteMap.knownSizes(acc.id, [1234, 99])], [1234]);
    // a new place of the same message keeps what it looked like
    const id = up.remoteMap.find(acc.id, 'INBOX', 9, 2)!.messageId;
    up.messages.setRemote(id, acc.id, { remoteMailbox: 'INBOX', uidvalidity: 10, uid: 5 });
    assert.deepEqual(
      up.remoteMap.findByIdentity(acc.id, 1234, head).map((m) => [m.remoteUidValidity, m.remoteUid]),
      [[10, 5]],
    );
    up.close();
  });
});

describe('migration 21: an index of the unseen messages', () => {
  const t = tempDir();
  after(t.cleanup);

  it('holds the messages stored before it: the first unseen UID is right in every mailbox, and after changes', async () => {
    const dir = join(t.dir, 'unseen');
    const s = await newStore(dir, { migrations: MIGRATIONS.filter((m) => m.version <= 20) });
    const acc = testAccount(s, 'u@example.org');
    const [a, b, c] = ['INBOX', 'Read', 'Empty'].map((name) => s.mailboxes.create(acc.id, name).id);
    const seen = (subject: string) => msg(subject, 'x', ['\\Seen']);
    s.messages.insertBatch(a!, [seen('1'), seen('2'), msg('3', 'x'), seen('4'), msg('5', 'x')], 'sync');
    s.messages.insertBatch(b!, [seen('1'), seen('2')], 'sync');
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(rawDb(up)), latestVersion(MIGRATIONS));
    assert.deepEqual(
      [a!, b!, c!].map((m) => up.messages.firstUnseenUid(m)),
      [3, null, null],
    );
    up.messages.storeFlags(a!, [3], 'add', ['\\Seen']);
    up.messages.storeFlags(b!, [1], 'remove', ['\\Seen']);
    assert.deepEqual(
      [a!, b!].map((m) => up.messages.firstUnseenUid(m)),
      [5, 1],
    );
    up.close();
  });
});

describe('migrations', () => {
  it('import no app code (a released step must not change when the code it would import does)', () => {
    const dir = resolve(import.meta.dirname, '../../../app/store/migrations');
    const steps = readdirSync(dir).filter((f) => /^\d{4}-.*\.ts$/.test(f));
    assert.ok(steps.length >= 6);
    for (const f of steps) {
      const src = readFileSync(join(dir, f), 'utf8');
      const specs = [
        ...src.matchAll(
          /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]?([^'")]+)/gm,
        ),
      ];
      for (const m of specs) {
        const spec = m[3] ?? m[4]!;
        const typeOnly = Boolean(m[2]);
        const ok = spec.startsWith('node:') || (spec === './types.ts' && typeOnly);
        assert.ok(
          ok,
          `${f} imports ${spec}: a migration may import only node: modules and 'import type' ./types.ts`,
        );
      }
    }
  });
});
