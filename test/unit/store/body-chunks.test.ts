/**
 * Big bodies in chunks (migration 9): written ahead one chunk per transaction, linked by the
 * message's insert, served byte-exactly, and swept once no message links them (deleted, never
 * inserted, left by a failed insert or a crash) — never while they are being written.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHUNK_SIZE, CHUNKED_FROM, RAW_DEFLATE, RAW_PLAIN } from '../../../app/store/repos/raw-codec.ts';
import type { Store } from '../../../app/store/store.ts';
import { seeded } from '../../helpers/seeded.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { fakeAnalysis, newStore, reopen, tempDir, testAccount } from './helpers.ts';

const random = seeded();

/** A message with a body of `size` bytes: text lines, then base64 of seeded random bytes. */
function bigRaw(subject: string, size: number): Buffer {
  const head = Buffer.from(
    `From: a@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@x>\r\n\r\n`,
  );
  const text = Buffer.from('The quarterly numbers, again and again.\r\n'.repeat(Math.ceil(size / 2 / 42)));
  const bin = Buffer.alloc(Math.ceil(size / 2));
  for (let i = 0; i < bin.length; i++) bin[i] = random.int(256);
  const body = Buffer.concat([text, Buffer.from(bin.toString('base64'))]).subarray(0, size);
  return Buffer.concat([head, body]);
}

function count(s: Store, sql: string): number {
  return (rawDb(s).prepare(sql).pluck().get() as number) ?? 0;
}

/** The served bytes of message `uid`. */
function rawOf(s: Store, box: number, uid: number): Buffer {
  return s.messages.raw(s.messages.get(box, uid)!.blobId);
}

/** Runs the sweep to the end (it runs on timers otherwise). */
function sweep(s: Store): void {
  while (s.messages.chunks.sweepStep());
}

describe('big bodies in chunks', () => {
  const t = tempDir();
  let s: Store;
  let box: number;
  let other: number;
  before(async () => {
    s = await newStore(t.dir);
    const acc = testAccount(s, 'c@example.org');
    box = s.mailboxes.create(acc.id, 'INBOX').id;
    other = s.mailboxes.create(acc.id, 'Archive').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('are written ahead, linked by the insert and served byte-exactly; the sweep deletes them after the last copy goes', () =>
    random.report(async () => {
      const raw = bigRaw('big', 3 * 1024 * 1024 + 12345);
      const m = await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
      const [res] = await s.messages.staged([m], (msgs) => {
        // while the insert runs, the body is whole and not yet linked: never swept
        assert.equal(count(s, 'SELECT count(*) FROM loose_bodies'), 1);
        assert.equal(s.messages.chunks.sweepStep(), false);
        return s.messages.insertBatch(box, msgs, 'local');
      });
      assert.equal(count(s, 'SELECT count(*) FROM loose_bodies'), 0);
      const chunks = rawDb(s)
        .prepare('SELECT compression, length(data) AS n FROM body_chunks ORDER BY body_id, seq')
        .all() as Array<{ compression: number; n: number }>;
      assert.equal(chunks.length, Math.ceil((raw.length - raw.indexOf('\r\n\r\n') - 4) / CHUNK_SIZE));
      assert.ok(chunks.every((c) => c.n <= CHUNK_SIZE));
      // text slices deflate, slices of base64 of random bytes too; the stored row holds no body
      assert.ok(chunks.some((c) => c.compression === RAW_DEFLATE));
      assert.equal(count(s, 'SELECT length(body) FROM message_raw WHERE chunks IS NOT NULL'), 0);

      assert.ok(rawOf(s, box, res!.uid).equals(raw));
      const [row] = s.messages.fetchRows(box, [res!.uid], { raw: true, head: true });
      assert.ok(row!.raw!.equals(raw));
      assert.equal(row!.head!.toString(), raw.subarray(0, raw.indexOf('\r\n\r\n') + 4).toString());
      assert.ok(await s.messages.intact(row!.blobId));

      const copyUid = s.messages.copy(box, [res!.uid], other, 'local')[0]![1];
      s.messages.remove(box, [res!.uid], 'local');
      sweep(s);
      assert.equal(count(s, 'SELECT count(*) FROM body_chunks'), chunks.length, 'the copy still has them');
      assert.ok(rawOf(s, other, copyUid).equals(raw));
      s.messages.remove(other, [copyUid], 'local');
      assert.equal(count(s, 'SELECT count(*) FROM loose_bodies'), 1);
      sweep(s);
      assert.equal(count(s, 'SELECT count(*) FROM body_chunks'), 0);
      assert.equal(count(s, 'SELECT count(*) FROM loose_bodies'), 0);
    }));

  it('are swept when the insert fails or skips the message; an insert without staging writes them itself', () =>
    random.report(async () => {
      const raw = bigRaw('failed', CHUNKED_FROM + 1);
      const m = await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
      await assert.rejects(
        s.messages.staged([m], (msgs) => s.messages.insertBatch(999_999, msgs, 'local')),
        /mailbox 999999 does not exist/,
      );
      await s.messages.staged([m], () => 0); // e.g. sync found it stored already
      assert.equal(count(s, 'SELECT count(*) FROM loose_bodies'), 2);
      sweep(s);
      assert.equal(count(s, 'SELECT count(*) FROM body_chunks'), 0);
      assert.equal(count(s, 'SELECT count(*) FROM loose_bodies'), 0);

      // not staged (a caller that cannot wait): the insert's own transaction writes the chunks
      const [res] = s.messages.insertBatch(box, [m], 'sync');
      assert.equal(count(s, 'SELECT count(*) FROM body_chunks'), 5);
      assert.ok(rawOf(s, box, res!.uid).equals(raw));
      // no compression: the slices are stored as they are
      const plain = await newStoreWithoutCompression();
      try {
        const pm = await plain.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
        const acc = testAccount(plain, 'p@example.org');
        const pbox = plain.mailboxes.create(acc.id, 'INBOX').id;
        const [pr] = await plain.messages.staged([pm], (msgs) =>
          plain.messages.insertBatch(pbox, msgs, 'sync'),
        );
        assert.deepEqual(rawDb(plain).prepare('SELECT DISTINCT compression FROM body_chunks').pluck().all(), [
          RAW_PLAIN,
        ]);
        assert.ok(rawOf(plain, pbox, pr!.uid).equals(raw));
      } finally {
        plain.close();
      }
    }));

  it('a damaged chunked body is restored in place; the old chunks are swept', () =>
    random.report(async () => {
      const raw = bigRaw('restore', 2 * CHUNKED_FROM);
      const m = await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
      const [res] = await s.messages.staged([m], (msgs) => s.messages.insertBatch(box, msgs, 'sync'));
      const blob = s.messages.get(box, res!.uid)!.blobId;
      const before = count(s, 'SELECT count(*) FROM body_chunks');
      rawDb(s)
        .prepare(
          "UPDATE body_chunks SET data = x'00' WHERE seq = 3 AND body_id = (SELECT chunks FROM message_raw WHERE blob_id = ?)",
        )
        .run(blob);
      assert.equal(await s.messages.intact(blob), false);
      assert.equal(
        await s.messages.restoreRaw(blob, await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) })),
        true,
      );
      assert.ok(await s.messages.intact(blob));
      assert.ok(rawOf(s, box, res!.uid).equals(raw));
      sweep(s);
      assert.equal(count(s, 'SELECT count(*) FROM body_chunks'), before, 'the damaged body is gone');
    }));

  it('restoreRaw of a message not prepacked (repair) writes its body in chunks, never as one row', () =>
    random.report(async () => {
      const raw = bigRaw('restore-unpacked', 2 * CHUNKED_FROM);
      const m = await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
      const [res] = await s.messages.staged([m], (msgs) => s.messages.insertBatch(box, msgs, 'sync'));
      const blob = s.messages.get(box, res!.uid)!.blobId;
      rawDb(s)
        .prepare(
          "UPDATE body_chunks SET data = x'00' WHERE seq = 1 AND body_id = (SELECT chunks FROM message_raw WHERE blob_id = ?)",
        )
        .run(blob);
      assert.equal(await s.messages.intact(blob), false);
      assert.equal(await s.messages.restoreRaw(blob, { raw, analysis: fakeAnalysis(raw) }), true);
      assert.notEqual(count(s, `SELECT chunks FROM message_raw WHERE blob_id = ${blob}`), 0, 'in chunks');
      assert.equal(count(s, `SELECT length(body) FROM message_raw WHERE blob_id = ${blob}`), 0);
      assert.ok(await s.messages.intact(blob));
      assert.ok(rawOf(s, box, res!.uid).equals(raw));
    }));

  it('a big message inserted without prepack is still stored in chunks', () =>
    random.report(async () => {
      const raw = bigRaw('unprepacked', 2 * CHUNKED_FROM);
      const res = s.messages.insert(box, { raw, analysis: fakeAnalysis(raw) }, 'sync');
      const blob = s.messages.get(box, res.uid)!.blobId;
      assert.notEqual(count(s, `SELECT chunks FROM message_raw WHERE blob_id = ${blob}`), 0, 'in chunks');
      assert.ok(rawOf(s, box, res.uid).equals(raw));
      assert.ok(await s.messages.intact(blob));
    }));

  it('a chunked body is read a range at a time, only the chunks the range covers', () =>
    random.report(async () => {
      const raw = bigRaw('ranges', 3 * CHUNKED_FROM);
      const m = await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
      const [res] = await s.messages.staged([m], (msgs) => s.messages.insertBatch(box, msgs, 'sync'));
      const [row] = s.messages.fetchRows(box, [res!.uid], { raw: true, lazy: true });
      assert.equal(row!.raw, undefined, 'not read');
      const src = row!.lazyRaw!;
      const read = async (a: number, b: number): Promise<Buffer> => {
        const pieces: Buffer[] = [];
        for await (const p of src.read(a, b)) pieces.push(p);
        return Buffer.concat(pieces);
      };
      assert.ok((await src.whole()).equals(raw));
      const head = raw.indexOf('\r\n\r\n') + 4;
      for (const [a, b] of [
        [0, 10],
        [head - 3, head + 5],
        [head + CHUNK_SIZE - 2, head + CHUNK_SIZE + 2],
        [raw.length - 100, raw.length + 100],
        [raw.length, raw.length + 1],
      ] as const)
        assert.ok((await read(a, b)).equals(raw.subarray(a, b)), `[${a}, ${b})`);
      // a range past the first chunks never reads them: damaged ones do not matter to it
      rawDb(s)
        .prepare(
          'DELETE FROM body_chunks WHERE seq < 2 AND body_id = (SELECT chunks FROM message_raw WHERE blob_id = ?)',
        )
        .run(row!.blobId);
      const a = head + 2 * CHUNK_SIZE + 7;
      assert.ok((await read(a, a + CHUNK_SIZE)).equals(raw.subarray(a, a + CHUNK_SIZE)));
      await assert.rejects(read(0, raw.length), /chunk 0 of message body \d+ is missing/);
    }));

  function newStoreWithoutCompression(): Promise<Store> {
    return newStore(join(t.dir, 'plain'), { compressBodies: false });
  }
});

describe('chunks left by a crash mid-write', () => {
  const t = tempDir();
  after(t.cleanup);

  it('are swept at the next open; nothing of them is visible meanwhile', () =>
    random.report(async () => {
      const s = await newStore(t.dir);
      const acc = testAccount(s, 'c@example.org');
      const box = s.mailboxes.create(acc.id, 'INBOX').id;
      const raw = bigRaw('crash', CHUNKED_FROM * 2);
      // what a process killed between two chunk writes leaves: a loose body with some chunks
      const m = await s.messages.prepack({ raw, analysis: fakeAnalysis(raw) });
      rawDb(s).exec('INSERT INTO loose_bodies DEFAULT VALUES');
      const id = count(s, 'SELECT max(body_id) FROM loose_bodies');
      const ins = rawDb(s).prepare(
        'INSERT INTO body_chunks (body_id, seq, compression, data) VALUES (?, ?, ?, ?)',
      );
      const slices = (m.packedBody as { slices: Array<{ compression: number; data: Buffer }> }).slices;
      for (let i = 0; i < 3; i++) ins.run(id, i, slices[i]!.compression, slices[i]!.data);
      s.close();

      const again = await reopen(t.dir);
      try {
        assert.equal(again.mailboxes.status(box).messages, 0);
        // the sweep starts at open, on a timer
        const deadline = Date.now() + 30_000;
        while (count(again, 'SELECT count(*) FROM loose_bodies') > 0) {
          assert.ok(Date.now() < deadline, 'the loose body was not swept');
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(count(again, 'SELECT count(*) FROM body_chunks'), 0);
        // body ids are never handed out twice
        const [res] = await again.messages.staged([m], (msgs) =>
          again.messages.insertBatch(box, msgs, 'sync'),
        );
        assert.ok(count(again, 'SELECT chunks FROM message_raw') > id);
        assert.ok(rawOf(again, box, res!.uid).equals(raw));
      } finally {
        again.close();
      }
    }));
});
