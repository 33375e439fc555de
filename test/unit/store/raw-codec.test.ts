/** Body codecs of message_raw: LZ4 (new bodies), deflate (older stores) and as-is, byte-exact. */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import {
  Lz4FormatError,
  lz4Compress,
  lz4Decompress,
  lz4DecompressInto,
} from '../../../app/store/repos/lz4-block.ts';
import {
  LZ4_MAX_BODY,
  RAW_DEFLATE,
  RAW_LZ4,
  RAW_PLAIN,
  decodeRaw,
  joinRaw,
  packBody,
  packBodyAsync,
} from '../../../app/store/repos/raw-codec.ts';
import type { Store } from '../../../app/store/store.ts';
import { fakeAnalysis, makeRaw, msg, newStore, tempDir } from './helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';

/** Deterministic pseudo-random bytes (xorshift). */
function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function sample(r: () => number, n: number, alphabet: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    // mixes literals, short and long repeats, overlapping runs
    const mode = r() % 16;
    if (mode === 0 && i > 8) {
      const back = 1 + (r() % Math.min(i, 70000));
      const len = 1 + (r() % 300);
      for (let k = 0; k < len && i < n; k++, i++) out[i] = out[i - back]!;
      i--;
    } else out[i] = 32 + (r() % alphabet);
  }
  return out;
}

describe('LZ4 block codec', () => {
  it('round-trips every length from 0 to 300 and random mixes up to 200 KB', () => {
    const r = rng(7);
    for (let n = 0; n <= 300; n++) {
      for (const alphabet of [1, 4, 90]) {
        const b = sample(r, n, alphabet);
        assert.deepEqual(lz4Decompress(lz4Compress(b)), b, `n=${n} alphabet=${alphabet}`);
      }
    }
    for (let k = 0; k < 40; k++) {
      const b = sample(r, r() % 200_000, 1 + (r() % 95));
      assert.ok(lz4Decompress(lz4Compress(b)).equals(b));
    }
    for (const period of [1, 3, 7, 8, 9, 16, 31, 64, 1000]) {
      // long matches that overlap their own source (offset = period)
      const b = Buffer.from(Array.from({ length: 20_000 }, (_, i) => 97 + ((i % period) % 26)));
      b[0] = 0x30;
      assert.ok(lz4Decompress(lz4Compress(b)).equals(b), `period ${period}`);
    }
    const zeros = Buffer.alloc(1_000_000); // very long match lengths
    const z = lz4Compress(zeros);
    assert.ok(z.length < 5000);
    assert.ok(lz4Decompress(z).equals(zeros));
  });

  it('decodes into a buffer at an offset, leaving the bytes before alone', () => {
    const body = Buffer.from('hello hello hello hello hello hello world\r\n'.repeat(50));
    const out = Buffer.alloc(10 + body.length, 0x41);
    lz4DecompressInto(lz4Compress(body), out, 10);
    assert.equal(out.subarray(0, 10).toString(), 'AAAAAAAAAA');
    assert.ok(out.subarray(10).equals(body));
  });

  it('rejects damaged input instead of returning wrong bytes', () => {
    const r = rng(99);
    const body = sample(r, 5000, 20);
    const good = lz4Compress(body);
    assert.throws(() => lz4Decompress(good.subarray(0, good.length - 1)), Lz4FormatError);
    assert.throws(() => lz4Decompress(good.subarray(0, 3)), Lz4FormatError);
    const longer = Buffer.from(good);
    longer.writeUInt32LE(body.length + 1, 0);
    assert.throws(() => lz4Decompress(longer), Lz4FormatError);
    // random corruption: either an error or (if the damage is in literal bytes) a same-size result
    for (let k = 0; k < 2000; k++) {
      const bad = Buffer.from(good);
      bad[4 + (r() % (bad.length - 4))] = r() & 0xff;
      try {
        assert.equal(lz4Decompress(bad).length, body.length);
      } catch (err) {
        assert.ok(err instanceof Lz4FormatError, String(err));
      }
    }
  });
});

describe('raw body codec', () => {
  const text = Buffer.from('Dear Alice,\r\nthe quarterly numbers are attached.\r\n'.repeat(60));
  const r = rng(3);
  const random = (n: number) => Buffer.from(Array.from({ length: n }, () => r() & 0xff));
  const base64 = Buffer.from(
    random(30000)
      .toString('base64')
      .replace(/(.{76})/g, '$1\r\n'),
  );

  it('stores small text as LZ4, bigger text and base64 as deflate, tiny or random bodies as is', () => {
    assert.ok(text.length < LZ4_MAX_BODY);
    const big = Buffer.concat([text, text]);
    assert.ok(big.length >= LZ4_MAX_BODY);
    assert.equal(packBody(big).compression, RAW_DEFLATE);
    const t = packBody(text);
    assert.equal(t.compression, RAW_LZ4);
    assert.ok(t.data.length < text.length / 4);
    assert.equal(t.data.buffer.byteLength, t.data.length, 'owns exactly its memory');
    assert.ok(decodeRaw(t.compression, t.data).equals(text));
    const b = packBody(base64);
    assert.equal(b.compression, RAW_DEFLATE);
    assert.ok(decodeRaw(b.compression, b.data).equals(base64));
    assert.equal(packBody(Buffer.from('short body\r\n')).compression, RAW_PLAIN);
    assert.equal(packBody(random(4000)).compression, RAW_PLAIN);
  });

  it('joins the header block and the decoded body for every codec', () => {
    const head = Buffer.from('Subject: x\r\n\r\n');
    for (const [c, data] of [
      [RAW_PLAIN, text],
      [RAW_DEFLATE, deflateRawSync(text)],
      [RAW_LZ4, lz4Compress(text)],
    ] as const) {
      assert.ok(joinRaw(head, c, data).equals(Buffer.concat([head, text])), `codec ${c}`);
      assert.ok(joinRaw(Buffer.alloc(0), c, data).equals(text), `codec ${c}, empty head`);
    }
    assert.throws(() => joinRaw(head, 7, text), /unknown raw compression 7/);
  });
});

describe('packing a big body for a request', () => {
  it('packBodyAsync packs like packBody, and a 24 MB attachment body leaves the event loop free meanwhile', async () => {
    const r = rng(11);
    for (const n of [0, 500, 3000, 70_000]) {
      const b = sample(r, n, 20);
      assert.deepEqual(await packBodyAsync(b), packBody(b), `n=${n}`);
    }
    // an attachment: base64 of incompressible bytes (deflate still saves ~25%)
    const bin = Buffer.allocUnsafe(18 * 1024 * 1024);
    for (let i = 0; i < bin.length; i += 4) bin.writeUInt32LE(r(), i);
    const big = Buffer.from(bin.toString('base64'));
    const { value: packed, ...loop } = await measureLoop(() => packBodyAsync(big));
    process.stdout.write(`# max loop delay while packing 24 MB: ${loop.maxMs.toFixed(0)} ms\n`);
    assert.equal(packed.compression, RAW_DEFLATE);
    assert.ok(decodeRaw(packed.compression, packed.data).equals(big));
    // deflating it on this thread takes 0.3-1.7 s; on the thread pool the loop keeps turning
    assertLoop(loop, 'packing 24 MB');
  });
});

describe('stored bodies of every codec are served byte-exactly', () => {
  const t = tempDir();
  let s: Store;
  let box: number;
  before(async () => {
    s = await newStore(t.dir);
    const acc = s.accounts.create({
      email: 'c@example.org',
      imap: { host: 'imap', port: 143 },
      smtp: { host: 'smtp', port: 25 },
      security: 'starttls',
      providerPassword: 'pw',
    });
    box = s.mailboxes.create(acc.id, 'INBOX').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('reads LZ4, deflate (an older store) and plain bodies through fetchRows and raw()', () => {
    const bodies = ['tiny', 'a longer body line that repeats\r\n'.repeat(100), 'x'.repeat(3000)];
    const raws = bodies.map((b, i) => makeRaw({ subject: `m${i}`, body: b }));
    const res = s.messages.insertBatch(
      box,
      raws.map((raw, i) => ({ ...msg(`m${i}`, bodies[i]!), raw })),
      'sync',
    );
    // as an older Lockbridge stored it: deflate
    const deflated = res[1]!;
    const blob = s.messages.get(box, deflated.uid)!.blobId;
    const row = rawDb(s)
      .prepare('SELECT head, body, compression FROM message_raw WHERE blob_id = ?')
      .get(blob) as { head: Buffer; body: Buffer; compression: number };
    assert.equal(row.compression, RAW_LZ4);
    const plainBody = decodeRaw(row.compression, row.body);
    rawDb(s)
      .prepare('UPDATE message_raw SET compression = ?, body = ? WHERE blob_id = ?')
      .run(RAW_DEFLATE, deflateRawSync(plainBody), blob);
    const codecs = rawDb(s)
      .prepare('SELECT compression FROM message_raw ORDER BY blob_id')
      .pluck()
      .all() as number[];
    assert.deepEqual(codecs, [RAW_PLAIN, RAW_DEFLATE, RAW_LZ4]);

    const uids = res.map((r) => r.uid);
    const rows = s.messages.fetchRows(box, uids, { raw: true, head: true });
    assert.equal(rows.length, 3);
    rows.forEach((r, i) => {
      assert.ok(r.raw!.equals(raws[i]!), `message ${i}`);
      assert.equal(r.size, raws[i]!.length);
      assert.ok(r.head!.equals(raws[i]!.subarray(0, r.headLength)));
      assert.ok(s.messages.raw(r.blobId).equals(raws[i]!));
    });
    // binary bodies (NUL, 0xff, invalid UTF-8), compressible (LZ4) and not (as is)
    const pattern = Buffer.from(Array.from({ length: 256 * 12 }, (_, i) => i & 0xff));
    const r = rng(42);
    const noise = Buffer.from(Array.from({ length: 3000 }, () => r() & 0xff));
    const bins = [pattern, noise].map((b) => Buffer.concat([Buffer.from('Subject: bin\r\n\r\n'), b]));
    const binRes = s.messages.insertBatch(
      box,
      bins.map((raw) => ({ ...msg('bin', ''), raw, analysis: fakeAnalysis(raw) })),
      'sync',
    );
    const binRows = s.messages.fetchRows(
      box,
      binRes.map((x) => x.uid),
      { raw: true },
    );
    binRows.forEach((row, i) => assert.ok(row.raw!.equals(bins[i]!), `binary message ${i}`));
    assert.deepEqual(
      rawDb(s)
        .prepare(
          'SELECT r.compression FROM messages m JOIN message_raw r ON r.blob_id = m.blob_id WHERE m.mailbox_id = ? AND m.uid >= ? ORDER BY m.uid',
        )
        .pluck()
        .all(box, binRes[0]!.uid) as number[],
      [RAW_LZ4, RAW_PLAIN],
    );
    // non-contiguous UID lists take the json_each path
    const some = s.messages.fetchRows(box, [uids[2]!, uids[0]!], { raw: true });
    assert.deepEqual(
      some.map((r) => r.uid),
      [uids[0], uids[2]],
    );
    assert.ok(some[1]!.raw!.equals(raws[2]!));
  });
});
