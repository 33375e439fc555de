/**
 * What a message costs on disk (issue 20: a store of 1,000,000 messages of ~1 KB within 2.5 GB),
 * and the compact forms that keep it there reading back exactly as analysed: no summary row when
 * it would save less than a quarter of the header block, LZ4 from 256-byte bodies on, one part stored for a message
 * that is not multipart, a BODY kept as its BODYSTRUCTURE's length, an envelope whose sender
 * and reply-to repeat the from list kept without the repeats.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { inlineEngine } from '../../../app/crypto/engine.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { summaryHeader } from '../../../app/mime/header-fields.ts';
import { decodeEnvelope, encodeEnvelope } from '../../../app/store/repos/messages/rows.ts';
import type { Store } from '../../../app/store/store.ts';
import { prng } from '../../helpers/imap-consistency.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { newStore, tempDir, testAccount } from './helpers.ts';

const WORDS = (
  'meeting project report budget quarter release schedule review design customer invoice delivery ' +
  'server mailbox message encryption signature keyring protocol network latency storage database'
).split(' ');

/** Message i: ~1.1 KB of text/plain, the header fields of small everyday mail. */
function small(i: number, rand: () => number): Buffer {
  const w = (): string => WORDS[Math.floor(rand() * WORDS.length)]!;
  const lines: string[] = [];
  for (let l = 0; l < 12; l++) {
    let line = '';
    while (line.length < 66) line += w() + ' ';
    lines.push(line);
  }
  return Buffer.from(
    `From: Sender ${i % 500} <sender${i % 500}@example.org>\r\nTo: me@example.net\r\n` +
      `Subject: ${w()} ${w()} ${w()} #${i}\r\nDate: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}\r\n` +
      `Message-ID: <size-${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
      lines.join('\r\n') +
      '\r\n',
  );
}

/** What the sync stores of plain mail: the message as served, with its status lines (inbound.ts). */
async function plainServed(raw: Buffer): Promise<Buffer> {
  return buildServedMessage(
    raw,
    await inlineEngine.decryptMessage(raw, { decryptionKeys: [], verificationKeys: [] }),
  );
}

describe('store size per message (issue 20)', () => {
  const t = tempDir();
  let s: Store;
  let accountId: number;
  before(async () => {
    s = await newStore(t.dir);
    accountId = testAccount(s, 'size@example.org').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  const usedBytes = (): number => {
    const db = rawDb(s);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pages =
      (db.pragma('page_count', { simple: true }) as number) -
      (db.pragma('freelist_count', { simple: true }) as number);
    return pages * (db.pragma('page_size', { simple: true }) as number);
  };

  it('a synced 1 KB message takes at most 2,300 bytes, its full-text index included', async () => {
    const box = s.mailboxes.create(accountId, 'Synced');
    const N = 3000;
    const rand = prng(20);
    const before = usedBytes();
    let raw = 0;
    for (let at = 0; at < N; at += 500) {
      const served = await Promise.all(
        Array.from({ length: 500 }, (_, k) => plainServed(small(at + k, rand))),
      );
      const batch = served.map((m, k) => {
        raw += m.length;
        const remote = {
          remoteMailbox: 'Synced',
          uidvalidity: 7,
          uid: at + k + 1,
          contentHash: createHash('sha256').update(m).digest(),
        };
        return { raw: m, analysis: analyzeMessage(m), flags: ['\\Seen'], remote };
      });
      s.messages.insertBatch(box.id, batch, 'sync');
    }
    while (s.messages.indexBatch(25, 20) > 0);
    const perMessage = (usedBytes() - before) / N;
    assert.ok(raw / N > 1000, `messages of ${raw / N} bytes`);
    // 3,285 bytes before (dbstat: summaries repeating the header block 250, bodies under 1 KiB
    // stored as is 380, parts and BODY repeated 180)
    // stored as served (with the status lines): 2,534 before sender and reply-to stopped repeating
    // the from list in the stored envelope and a summary row was kept only where it saves a
    // quarter of the header block (2,283 after)
    assert.ok(perMessage <= 2300, `${perMessage.toFixed(0)} bytes per message`);
  });

  it('stores any envelope-like text so that it reads back the same (seeded)', () => {
    const seed = 20_261_208;
    const rand = prng(seed);
    const bits = ['(', ')', '((', '))', '"', '\\', ' ', 'NIL', '{3}\r\n', 'a', '=1,2,', ' ((x y) (z))'];
    const pick = (): string => bits[Math.floor(rand() * bits.length)]!;
    let compacted = 0;
    for (let n = 0; n < 3000; n++) {
      let from = '((';
      for (let k = Math.floor(rand() * 8); k > 0; k--) from += pick();
      from += '))';
      let head = '(';
      for (let k = Math.floor(rand() * 6); k > 0; k--) head += pick();
      let tail = '';
      for (let k = Math.floor(rand() * 6); k > 0; k--) tail += pick();
      const envelope = rand() < 0.7 ? `${head} ${from} ${from} ${from}${tail})` : `${head}${from}${tail})`;
      const stored = encodeEnvelope(envelope);
      if (stored !== envelope) compacted++;
      assert.equal(
        decodeEnvelope(stored),
        envelope,
        `seed ${seed}, envelope ${n}: ${JSON.stringify(envelope)}`,
      );
    }
    assert.ok(compacted > 500, `${compacted} of 3,000 compacted`);
  });

  it('reads every compact form back as analysed and as stored', () => {
    const box = s.mailboxes.create(accountId, 'Shapes');
    const rand = prng(7);
    const text = (n: number): string => {
      let out = '';
      while (out.length < n)
        out += WORDS[Math.floor(rand() * WORDS.length)] + (out.length % 70 > 60 ? '\r\n' : ' ');
      return out.slice(0, n);
    };
    const noise = (n: number): string =>
      Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(rand() * 90))).join('');
    const head = 'From: a@example.org\r\nTo: b@example.org\r\nSubject: shapes\r\nMIME-Version: 1.0\r\n';
    const shapes: Array<[string, string]> = [
      ['summary fields only, empty body', `${head}\r\n`],
      ['summary fields only, 255-byte body', `${head}\r\n${text(255)}`],
      ['summary fields only, 256-byte body', `${head}\r\n${text(256)}`],
      ['a 600-byte body LZ4 does not shrink', `${head}\r\n${noise(600)}`],
      ['a 3,000-byte body', `${head}Content-Type: text/plain; charset=us-ascii\r\n\r\n${text(3000)}`],
      [
        'another field besides',
        `X-Mailer: test\r\nReceived: from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\n${head}\r\n${text(400)}`,
      ],
      ['a header block without a body', head.slice(0, -2)],
      [
        'a long trace above (a summary row)',
        `${'Received: from relay.example.org by mx.example.net with ESMTPS id x; Mon, 1 Jan 2026 00:00:00 +0000\r\n'.repeat(6)}${head}\r\n${text(300)}`,
      ],
      ['line feeds only', `${head}\n${text(300)}`.replace(/\r\n/g, '\n')],
      [
        'extension data in its BODYSTRUCTURE',
        `${head}Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline\r\nContent-Language: en\r\n\r\n${text(500)}`,
      ],
      [
        'multipart',
        `${head}Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${text(300)}\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>${text(300)}</p>\r\n--b--\r\n`,
      ],
      [
        'sender and reply-to their own',
        `Sender: s@example.org\r\nReply-To: "R" <r@example.org>\r\n${head}\r\nx`,
      ],
      ['reply-to the same as from', `Reply-To: a@example.org\r\n${head}\r\nx`],
      [
        'parentheses and quotes in the name and the subject',
        `From: "A (b) c((( d" <a@example.org>\r\nSubject: ((x)) y ((\r\nTo: b@example.org\r\n\r\nx`,
      ],
      ['a group', `From: team: a@example.org, b@example.org;\r\nSubject: group\r\n\r\nx`],
      ['an 8-bit name (a literal)', `From: J\u00f6rg <a@example.org>\r\nSubject: lit (( \r\n\r\nx`],
      ['a literal with a quote and a parenthesis', `From: "A \\" (" <a@example.org>\r\n\r\nx`],
      ['no from', `Subject: ((a)) ((a)) ((a))\r\n\r\nx`],
      [
        'message/rfc822',
        `${head}Content-Type: message/rfc822\r\n\r\nFrom: c@example.org\r\nSubject: inner\r\nContent-Type: text/plain\r\nContent-Language: de\r\n\r\n${text(300)}\r\n`,
      ],
    ];
    const raws = shapes.map(([, m]) => Buffer.from(m, 'latin1'));
    const compact = raws.map((raw) => encodeEnvelope(analyzeMessage(raw).envelope)[0] === '=');
    // the from list was left out twice where sender and reply-to repeat it, and only there
    assert.deepEqual(
      shapes.filter((_, i) => !compact[i]).map(([what]) => what),
      ['sender and reply-to their own', 'a literal with a quote and a parenthesis', 'no from'],
    );
    const added = s.messages.insertBatch(
      box.id,
      raws.map((raw) => ({ raw, analysis: analyzeMessage(raw) })),
    );
    const uids = added.map((a) => a.uid);
    const hasSummary = (what: string): boolean => {
      const blob = s.messages.get(box.id, uids[shapes.findIndex(([w]) => w === what)]!)!.blobId;
      return rawDb(s).prepare('SELECT 1 FROM message_summaries WHERE blob_id = ?').get(blob) !== undefined;
    };
    assert.equal(hasSummary('a long trace above (a summary row)'), true);
    assert.equal(hasSummary('summary fields only, 256-byte body'), false);
    const full = s.messages.fetchRows(box.id, uids, { analysis: true, raw: true });
    const sums = s.messages.fetchRows(box.id, uids, { summary: true });
    for (let i = 0; i < shapes.length; i++) {
      const what = shapes[i]![0];
      const a = analyzeMessage(raws[i]!);
      assert.deepEqual(full[i]!.raw, raws[i], what);
      assert.equal(full[i]!.envelope, a.envelope, what);
      assert.equal(full[i]!.bodyStructure, a.bodyStructure, what);
      assert.equal(full[i]!.body, a.body, what);
      assert.deepEqual(full[i]!.parts, a.parts, what);
      const block = s.messages.header(s.messages.get(box.id, uids[i]!)!.blobId);
      assert.deepEqual(summaryHeader(sums[i]!.head!), summaryHeader(block), what);
    }
  });
});
