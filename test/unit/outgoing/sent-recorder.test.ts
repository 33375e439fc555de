/**
 * Sent copies filed by the bridge (app/outgoing/sent-recorder.ts): a big copy is written as an
 * APPEND's is (packed on the thread pool, its body in chunks written ahead), not deflated whole
 * and stored as one row in one turn of the event loop (issue 14).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SentRecorder, sentMailbox } from '../../../app/outgoing/sent-recorder.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { Store } from '../../../app/store/store.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { base64Lines, randomBytesFrom } from '../../helpers/big-mail.ts';
import { seeded } from '../../helpers/seeded.ts';
import { newStore, tempDir, testAccount } from '../store/helpers.ts';

describe('Sent copies', () => {
  const t = tempDir();
  const random = seeded();
  let s: Store;
  let account: number;
  before(async () => {
    s = await newStore(t.dir);
    account = testAccount(s, 'me@example.org').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  it('a 5 MB copy is filed with its body in chunks; flush waits until it is filed', () =>
    random.report(async () => {
      const raw = Buffer.concat([
        Buffer.from(
          'From: me@example.org\r\nTo: bob@example.net\r\nSubject: scans\r\nMessage-ID: <big-sent@example.org>\r\n' +
            'MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
        ),
        base64Lines(randomBytesFrom(random, 4 * 1024 * 1024)),
      ]);
      const rec = new SentRecorder({ store: s, logger: silentLogger, graceMs: 60_000 });
      rec.schedule(account, '<big-sent@example.org>', raw);
      await rec.flush();
      assert.equal(rec.pending, 0);
      const sent = sentMailbox(s, account);
      assert.ok(s.messages.hasMessageId(sent.id, '<big-sent@example.org>'));
      const uid = s.messages.uids(sent.id)[0]!;
      const blob = s.messages.get(sent.id, uid)!.blobId;
      const chunks = rawDb(s).prepare('SELECT chunks FROM message_raw WHERE blob_id = ?').pluck().get(blob);
      assert.equal(typeof chunks, 'number', 'the body is in chunks');
      assert.ok(s.messages.raw(blob).equals(raw));
      assert.deepEqual(s.messages.get(sent.id, uid)!.flags, ['\\Seen']);
    }));
});
