/**
 * Issue 14 "no single request may freeze the bridge", for the bug report's store health: the
 * integrity check of a ~160 MB store leaves the event loop free (it ran PRAGMA integrity_check on
 * the loop in one call: 300-500 ms for 45 MB, seconds for bigger stores) and still tells the truth —
 * ['ok'] for a sound store, the damage for a damaged one — and the copy of the database it reads
 * is removed afterwards (also one left by a process that died mid-check).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { integrityCheck, storeHealth } from '../../../app/store/health.ts';
import type { NewMessage } from '../../../app/store/repos/messages.ts';
import { DB_FILE, type Store } from '../../../app/store/store.ts';
import { PAGE_SIZE } from '../../../native/sqlcipher.ts';
import { assertLoop, measureLoop } from '../../helpers/event-loop.ts';
import { fakeAnalysis, makeRaw, newStore, reopen, tempDir, testAccount } from '../../unit/store/helpers.ts';

const MESSAGES = 600;
const BODY_BYTES = 256 * 1024;

/** Incompressible but deterministic text: an AES-CTR keystream (fixed key, IV n) in base64 lines. */
function noise(bytes: number, n: number): string {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(n, 0);
  const stream = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), iv).update(Buffer.alloc((bytes * 3) / 4));
  return stream.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** The integrity check's copies of the database in the data directory. */
function copies(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(`${DB_FILE}.check-`));
}

describe('store health (bug report) on a 160 MB store (issue 14)', () => {
  const t = tempDir('lb-health-');
  let store: Store;
  let inboxId = 0;

  before(async () => {
    store = await newStore(t.dir, { compressBodies: false });
    inboxId = store.mailboxes.create(testAccount(store, 'a@example.org').id, 'INBOX').id;
    for (let i = 0; i < MESSAGES; i += 20) {
      const batch: NewMessage[] = [];
      for (let j = i; j < i + 20; j++) {
        const raw = makeRaw({
          subject: `scan ${j}`,
          body: noise(BODY_BYTES, j),
          messageId: `<h${j}@example.org>`,
        });
        batch.push({ raw, analysis: fakeAnalysis(raw) });
      }
      store.messages.insertBatch(inboxId, batch);
    }
  });
  after(() => {
    store?.close();
    t.cleanup();
  });

  it('the integrity check leaves the event loop free and says ok', async () => {
    writeFileSync(join(t.dir, `${DB_FILE}.check-left-by-a-crash`), 'x'.repeat(4096));
    const r = await measureLoop(() => storeHealth(store));
    const size = statSync(join(t.dir, DB_FILE)).size;
    console.log(
      `# store health of a ${(size / 1048576).toFixed(0)} MB store: max event-loop delay ${r.maxMs.toFixed(0)} ms, longest turn ${r.cpuMs.toFixed(0)} ms of CPU`,
    );
    assert.ok(size > 150 * 1024 * 1024, `the store is big enough (${size} bytes)`);
    assert.deepEqual(r.value.integrity, ['ok']);
    assert.equal(r.value.messages, MESSAGES);
    assert.equal(r.value.folders.find((f) => f.name === 'INBOX')?.messages, MESSAGES);
    assertLoop(r, 'store health of a 160 MB store');
    assert.deepEqual(copies(t.dir), [], 'the copy (and the one a crash left) is removed');
    // two at once share one check
    const [a, b] = await Promise.all([integrityCheck(store), integrityCheck(store)]);
    assert.deepEqual([a, b], [['ok'], ['ok']]);
    // the store goes on (its checkpoints were held back only during the copy)
    const raw = makeRaw({ subject: 'after', body: 'after the check' });
    store.messages.insert(inboxId, { raw, analysis: fakeAnalysis(raw) });
    assert.equal((await storeHealth(store)).messages, MESSAGES + 1);
  });

  it('a damaged store is reported damaged', async () => {
    store.close();
    // a page in the middle of the file (message bodies) overwritten: it no longer decrypts
    const file = join(t.dir, DB_FILE);
    const fd = openSync(file, 'r+');
    try {
      const pages = Math.floor(fstatSync(fd).size / PAGE_SIZE);
      writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, Math.floor(pages * 0.6) * PAGE_SIZE + 256);
    } finally {
      closeSync(fd);
    }
    store = await reopen(t.dir, { compressBodies: false });
    const integrity = await integrityCheck(store);
    console.log(`# damaged store: ${JSON.stringify(integrity).slice(0, 300)}`);
    assert.ok(integrity.length >= 1 && integrity[0] !== 'ok', JSON.stringify(integrity));
    assert.ok(!integrity[0]!.startsWith('not checked'), JSON.stringify(integrity));
    assert.deepEqual(copies(t.dir), []);
  });

  it('a store closed during the check: not checked, and no copy is left', async () => {
    const checking = integrityCheck(store);
    store.close();
    assert.deepEqual(await checking, ['not checked: the store closed']);
    assert.deepEqual(copies(t.dir), []);
  });
});
