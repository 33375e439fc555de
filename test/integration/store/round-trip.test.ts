import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import type { NewMessage } from '../../../app/store/repos/messages.ts';
import { newStore, reopen, tempDir } from '../../unit/store/helpers.ts';

const N = 10_000;

function message(i: number): Buffer {
  const body = `Message number ${i} talks about topic-${i % 97} and the word zebra${i}quartz.\r\n`.repeat(20);
  return Buffer.from(
    [
      `From: Sender ${i % 13} <sender${i % 13}@example.org>`,
      `To: rcpt${i % 7}@example.net`,
      `Subject: Round trip ${i}`,
      `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}`,
      `Message-ID: <rt-${i}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

describe('store round trip', () => {
  const t = tempDir();
  after(t.cleanup);

  it(`stores ${N} messages and reads them back byte-exact, with header index and FTS`, async () => {
    const s = await newStore(t.dir);
    const acc = s.accounts.create({
      email: 'rt@example.org',
      imap: { host: 'h', port: 1 },
      smtp: { host: 'h', port: 2 },
      security: 'tls',
      providerPassword: 'x',
    });
    const box = s.mailboxes.create(acc.id, 'INBOX');
    for (let start = 0; start < N; start += 500) {
      const batch: NewMessage[] = [];
      for (let i = start; i < Math.min(N, start + 500); i++) {
        const raw = message(i);
        batch.push({ raw, analysis: analyzeMessage(raw), internalDate: Date.UTC(2026, 0, 1) + i });
      }
      s.messages.insertBatch(box.id, batch);
    }
    s.flushIndex();
    s.close();

    const r = await reopen(t.dir);
    assert.equal(r.mailboxes.status(box.id).messages, N);
    const uids = r.messages.uids(box.id);
    assert.deepEqual(
      uids,
      Array.from({ length: N }, (_, i) => i + 1),
    );
    let i = 0;
    for (const d of r.messages.fetchRows(box.id, uids, { analysis: true })) {
      const expected = message(i);
      const raw = r.messages.raw(d.blobId);
      assert.ok(raw.equals(expected), `message ${i} differs`);
      assert.equal(d.size, expected.length);
      assert.equal(d.internalDate, Date.UTC(2026, 0, 1) + i);
      assert.ok(d.envelope!.includes(`"Round trip ${i}"`));
      assert.ok(r.messages.header(d.blobId).toString().startsWith('From: Sender'));
      i++;
    }
    assert.equal(i, N);
    let h = 0;
    for (const { headers: row } of r.messages.fetchRows(box.id, uids, { headers: true })) {
      assert.equal(row!.subject, `Round trip ${h}`);
      assert.equal(row!.messageId, `<rt-${h}@example.org>`);
      assert.equal(row!.fromAddr, `sender${h % 13}@example.org`);
      h++;
    }
    assert.equal(h, N);
    assert.deepEqual(r.messages.searchText(box.id, 'ZEBRA4242QUARTZ'), [4243]);
    assert.deepEqual(r.messages.searchText(box.id, 'round trip 9999', 'text'), [10000]);
    assert.equal(r.messages.searchText(box.id, 'topic-5 ', 'body').length, Math.ceil((N - 5) / 97));
    r.close();
  });
});
