// A full disk under the data directory (a real 16 MiB tmpfs, root only): the log file drops lines
// instead of throwing, a store write fails with one DiskFullError naming the disk and the data
// directory (IMAP `NO [OVERQUOTA]`, SMTP 452), stored mail is still read, the database stays
// intact, and everything works again by itself once space is freed.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RotatingFile } from '../../../app/config/logging.ts';
import { mapError } from '../../../app/imap/error-map.ts';
import { DiskFullError } from '../../../app/shared/errors.ts';
import { replyFor } from '../../../app/smtp/replies.ts';
import type { Store } from '../../../app/store/store.ts';
import { msg, newStore, tempDir, testAccount } from '../../unit/store/helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';
import { fillDisk, hashNoise } from '../../helpers/full-disk.ts';

const isRoot = process.getuid?.() === 0;

describe('a full disk under the data directory', { skip: isRoot ? false : 'needs root (mount)' }, () => {
  const t = tempDir('lb-diskfull-');
  const mount = join(t.dir, 'disk');
  let store: Store;

  before(async () => {
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount]);
  });
  after(() => {
    try {
      store?.close();
    } finally {
      execFileSync('umount', [mount]);
      t.cleanup();
    }
  });

  it('refuses writes clearly, keeps reading and logging safe, and resumes once space is free', async () => {
    const home = join(mount, 'home');
    store = await newStore(home, { compressBodies: false });
    const log = new RotatingFile(join(home, 'logs', 'lockbridge.log'));
    const inbox = store.mailboxes.create(testAccount(store, 'a@example.org').id, 'INBOX');
    store.messages.insert(inbox.id, msg('kept', 'stored before the disk filled'));

    const filler = join(mount, 'filler');
    fillDisk(filler);

    // The log: lines are dropped, nothing throws.
    for (let i = 0; i < 200; i++) log.write(`{"level":30,"msg":"line ${i} ${hashNoise(512, String(i))}"}\n`);

    // The store: one clear error, nothing half-written.
    let refused: unknown = null;
    for (let i = 0; i < 20 && !refused; i++) {
      try {
        store.messages.insert(inbox.id, msg(`big ${i}`, hashNoise(512 * 1024, `big ${i}`)));
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof DiskFullError, `expected DiskFullError, got ${String(refused)}`);
    assert.match(
      refused.message,
      new RegExp(`the disk ${mount} \\(tmpfs\\) holding the data directory ${home} is full`),
    );
    assert.equal(store.diskFull, refused.message);
    const imap = mapError(refused);
    assert.deepEqual([imap.status, imap.code, imap.internal], ['NO', 'OVERQUOTA', false]);
    assert.equal(replyFor(refused).code, 452);
    // Stored mail is still read, and the database is intact.
    assert.equal(store.mailboxes.status(inbox.id).messages >= 1, true);
    assert.equal(rawDb(store).pragma('integrity_check', { simple: true }), 'ok');

    rmSync(filler);
    assert.equal(store.diskFull, null, 'clears once there is room again');
    store.messages.insert(inbox.id, msg('after', 'written after space was freed'));
    log.write('{"level":30,"msg":"after"}\n');
    log.close();
    const text = readFileSync(join(home, 'logs', 'lockbridge.log'), 'utf8');
    assert.match(text, /log lines were dropped: the disk was full/);
    assert.match(text, /"msg":"after"/);
    assert.equal(rawDb(store).pragma('integrity_check', { simple: true }), 'ok');
  });
});
