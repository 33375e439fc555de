import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { msg, newStore, tempDir } from './helpers.ts';

describe('background full-text indexing', () => {
  const t = tempDir();
  after(t.cleanup);

  it('drains the backlog once writes pause, and searches are right before and after', async () => {
    const s = await newStore(t.dir, { ftsIndexing: 'background' });
    try {
      const acc = s.accounts.create({
        email: 'fts@example.org',
        imap: { host: 'h', port: 1 },
        smtp: { host: 'h', port: 2 },
        security: 'tls',
        providerPassword: 'x',
      });
      const box = s.mailboxes.create(acc.id, 'INBOX');
      const batch = Array.from({ length: 120 }, (_, i) =>
        msg(`subject ${i}`, `body ${i} ${i === 77 ? 'needle' : ''}`),
      );
      s.messages.insertBatch(box.id, batch);
      assert.equal(s.messages.ftsBacklog(), 120, 'nothing indexed while writes are fresh');
      assert.deepEqual(s.messages.searchText(box.id, 'NEEDLE'), [78]);
      const deadline = Date.now() + 10_000;
      while (s.messages.ftsBacklog() > 0 && Date.now() < deadline) await sleep(50);
      assert.equal(s.messages.ftsBacklog(), 0);
      assert.deepEqual(s.messages.searchText(box.id, 'NEEDLE'), [78]);
      assert.deepEqual(
        s.messages.searchText(box.id, 'subject 11'),
        [12, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120],
      );
    } finally {
      s.close();
    }
  });
});
