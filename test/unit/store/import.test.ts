import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../app/shared/logger.ts';
import { importFiles, type ImportProgress } from '../../../app/store/import/importer.ts';
import { MboxSplitter } from '../../../app/mime/mbox.ts';
import { separatorDate } from '../../../app/store/import/separator-date.ts';
import type { Store } from '../../../app/store/store.ts';
import { newStore, tempDir } from './helpers.ts';
import { base64Lines, randomBytesFrom } from '../../helpers/big-mail.ts';
import { seeded } from '../../helpers/seeded.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';

const MBOX = [
  'From alice@example.org Mon Nov 23 10:00:00 2026',
  'From: alice@example.org',
  'Subject: first',
  '',
  'Hello',
  '>From the start, quoted',
  '>>From twice quoted',
  'From inside a line is not a separator when not after a blank line',
  '',
  'From bob@example.org Tue Nov 24 11:30:05 2026',
  'From: bob@example.org',
  'Subject: second',
  '',
  'Bye',
  '',
].join('\n');

describe('mbox splitting as the importer uses it (app/mime/mbox.ts)', () => {
  it('splits, unquotes mboxrd and drops the separator blank line, across any chunking', () => {
    for (const size of [1, 3, 7, 64, 100000]) {
      const sp = new MboxSplitter();
      const out = [];
      const buf = Buffer.from(MBOX);
      for (let i = 0; i < buf.length; i += size) out.push(...sp.push(buf.subarray(i, i + size)));
      out.push(...sp.end());
      assert.equal(out.length, 2, `chunk ${size}`);
      assert.equal(
        out[0]!.raw.toString(),
        'From: alice@example.org\nSubject: first\n\nHello\nFrom the start, quoted\n>From twice quoted\nFrom inside a line is not a separator when not after a blank line\n',
      );
      assert.equal(out[1]!.raw.toString(), 'From: bob@example.org\nSubject: second\n\nBye\n');
      assert.equal(separatorDate(out[1]!.separator), Date.UTC(2026, 10, 24, 11, 30, 5));
    }
  });

  it('round-trips random mboxrd content (CRLF and LF, tricky lines) at random chunk sizes', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const lineKinds = ['From here on', '>From quoted', '>>From twice', '', 'plain text', 'From:', ' From x'];
    for (let round = 0; round < 30; round++) {
      const eol = round % 2 ? '\r\n' : '\n';
      const msgs: string[] = [];
      for (let m = 0; m < 1 + rnd(4); m++) {
        const lines = ['Subject: m' + m, ''];
        for (let l = 0; l < rnd(8); l++) lines.push(lineKinds[rnd(lineKinds.length)]!);
        msgs.push(lines.join(eol) + eol);
      }
      const quote = (msg: string) => msg.replace(/^(>*From )/gm, '>$1');
      const mbox = msgs.map((msg) => `From x@y Mon Nov 23 10:00:00 2026${eol}${quote(msg)}${eol}`).join('');
      const buf = Buffer.from(mbox);
      const sp = new MboxSplitter();
      const out = [];
      for (let i = 0; i < buf.length;) {
        const n = 1 + rnd(40);
        out.push(...sp.push(buf.subarray(i, i + n)));
        i += n;
      }
      out.push(...sp.end());
      assert.deepEqual(
        out.map((o) => o.raw.toString()),
        msgs,
        `round ${round}`,
      );
    }
  });
});

describe('import pipeline', () => {
  const t = tempDir();
  let s: Store;
  let accountId: number;
  before(async () => {
    s = await newStore(join(t.dir, 'store'));
    accountId = s.accounts.create({
      email: 'imp@example.org',
      imap: { host: 'h', port: 1 },
      smtp: { host: 'h', port: 2 },
      security: 'none',
      providerPassword: 'x',
    }).id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('imports mbox and .eml files (and directories), normalising CRLF, reporting progress', async () => {
    const src = join(t.dir, 'src');
    mkdirSync(join(src, 'more'), { recursive: true });
    writeFileSync(join(src, 'a.mbox'), MBOX);
    writeFileSync(
      join(src, 'more', 'b.eml'),
      'From: carol@example.org\r\nSubject: third\r\n\r\nLine\nbare lf\r\n',
    );
    writeFileSync(join(src, 'more', 'empty.eml'), '');
    const seen: ImportProgress[] = [];
    const res = await importFiles({
      store: s,
      accountId,
      mailbox: 'Imported/Old',
      files: [src],
      logger: silentLogger,
      batchSize: 2,
      onProgress: (p) => seen.push(p),
    });
    assert.equal(res.imported, 3);
    assert.equal(res.skipped, 1);
    assert.match(res.errors[0]!, /empty/);
    const box = s.mailboxes.getByName(accountId, 'Imported/Old')!;
    const rows = s.messages.metaFor(box.id, s.messages.uids(box.id));
    assert.equal(rows.length, 3);
    const raws = rows.map((r) => s.messages.raw(r.blobId));
    assert.ok(
      raws.every((r) => !/[^\r]\n/.test(r.toString('latin1'))),
      'stored with CRLF only',
    );
    assert.deepEqual(
      rows.map((r) => r.size),
      raws.map((r) => r.length),
    );
    assert.equal(raws[2]!.toString(), 'From: carol@example.org\r\nSubject: third\r\n\r\nLine\r\nbare lf\r\n');
    assert.equal(rows[1]!.internalDate, Date.UTC(2026, 10, 24, 11, 30, 5));
    assert.equal(
      s.messages.fetchRows(box.id, [rows[0]!.uid], { analysis: true })[0]!.envelope!.includes('"first"'),
      true,
    );
    const last = seen[seen.length - 1]!;
    assert.equal(last.count, 3);
    assert.equal(last.bytes, last.totalBytes);
    assert.ok(seen.length >= 2);

    // importing again skips identical messages
    const again = await importFiles({
      store: s,
      accountId,
      mailbox: 'Imported/Old',
      files: [src],
      logger: silentLogger,
    });
    assert.equal(again.imported, 0);
    assert.equal(again.skipped, 4);
  });

  it('imports through the worker (transferred buffers), a message with thousands of parts included', async () => {
    // ~9k tiny MIME parts: more than the import workers' small heaps hold (on the store's MIME worker).
    let bomb =
      'From: x@example.org\nSubject: parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n';
    while (bomb.length < 1_000_000) bomb += '--B\nContent-Type: text/plain\n\npart\n';
    bomb += '--B--\n';
    const msgs = [bomb];
    for (let i = 0; i < 150; i++)
      msgs.push(`From: n${i}@example.org\nSubject: n${i}\n\n${'body line\n'.repeat(200 + i)}`);
    const file = join(t.dir, 'many.mbox');
    writeFileSync(file, msgs.map((m) => `From x@example.org Mon Nov 23 10:00:00 2026\n${m}\n`).join(''));
    const res = await importFiles({
      store: s,
      accountId,
      mailbox: 'Many',
      files: [file],
      logger: silentLogger,
      threads: 1,
    });
    assert.deepEqual(res, { imported: 151, skipped: 0, errors: [] });
    const box = s.mailboxes.getByName(accountId, 'Many')!;
    const rows = s.messages.metaFor(box.id, s.messages.uids(box.id));
    assert.ok(s.messages.fetchRows(box.id, [rows[0]!.uid], { analysis: true })[0]!.parts!.length > 8000);
    const raw = s.messages.raw(rows[150]!.blobId).toString();
    assert.equal(raw, `From: n149@example.org\r\nSubject: n149\r\n\r\n${'body line\r\n'.repeat(349)}`);
  });

  it('imports a 20 MB message through the worker into chunks written ahead, byte-exact, the event loop free meanwhile', async () => {
    const random = seeded();
    await random.report(async () => {
      const big = Buffer.concat([
        Buffer.from(
          'From: big@example.org\r\nSubject: scans\r\nMIME-Version: 1.0\r\n' +
            'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
        ),
        base64Lines(randomBytesFrom(random, 15 * 1024 * 1024)),
      ]);
      const file = join(t.dir, 'big.eml');
      writeFileSync(file, big);
      const { value: res, ...loop } = await measureLoop(() =>
        importFiles({
          store: s,
          accountId,
          mailbox: 'Big',
          files: [file],
          logger: silentLogger,
          threads: 1,
        }),
      );
      console.log(`# importing 20 MB: max event-loop delay ${loop.maxMs.toFixed(0)} ms`);
      assert.deepEqual(res, { imported: 1, skipped: 0, errors: [] });
      const box = s.mailboxes.getByName(accountId, 'Big')!;
      const [row] = s.messages.fetchRows(box.id, s.messages.uids(box.id), { raw: true });
      assert.ok(row!.raw!.equals(big));
      const chunks = rawDb(s)
        .prepare('SELECT chunks FROM message_raw WHERE blob_id = ?')
        .pluck()
        .get(row!.blobId);
      assert.equal(typeof chunks, 'number', 'stored in chunks');
      assertLoop(loop, 'importing 20 MB');
    });
  });

  it('reports a missing file as a user error', async () => {
    await assert.rejects(
      importFiles({ store: s, accountId, files: [join(t.dir, 'nope.mbox')], logger: silentLogger }),
      /cannot read .*nope\.mbox/,
    );
  });
});
