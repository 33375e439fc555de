import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConflictError, UnlockError } from '../../../app/shared/errors.ts';
import { changePassphrase, createStore } from '../../../app/store/store.ts';
import { acquireDirLock } from '../../../app/store/unlock/dir-lock.ts';
import type { KeychainWrapper } from '../../../native/keychain.ts';
import { msg, newStore, reopen, storeOpts, tempDir } from './helpers.ts';
import { rawDb } from '../../helpers/store-db.ts';

/** Whether some connection (this process or another) holds the directory's lock. */
function held(dir: string): boolean {
  try {
    acquireDirLock(dir).release();
    return false;
  } catch (err) {
    if (err instanceof ConflictError) return true;
    throw err;
  }
}

function snapshot(dir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const f of readdirSync(dir)) m.set(f, readFileSync(join(dir, f)));
  return m;
}

describe('store unlocking', () => {
  const t = tempDir();
  after(t.cleanup);

  it('creates, reopens with the right passphrase, keeps data', async () => {
    const dir = join(t.dir, 'a');
    const s = await newStore(dir);
    const acc = s.accounts.create({
      email: 'a@example.org',
      imap: { host: 'imap.example.org', port: 993 },
      smtp: { host: 'smtp.example.org', port: 465 },
      security: 'tls',
      providerPassword: 'pw',
    });
    const inbox = s.mailboxes.create(acc.id, 'INBOX');
    s.messages.insert(inbox.id, msg('hello', 'body'));
    s.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'keywrap.json')).mode & 0o777, 0o600);
    const s2 = await reopen(dir);
    assert.equal(s2.mailboxes.status(inbox.id).messages, 1);
    assert.equal(rawDb(s2).pragma('page_size', { simple: true }), 16384);
    assert.equal(rawDb(s2).pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(rawDb(s2).pragma('foreign_keys', { simple: true }), 1);
    // the file is not a plain SQLite database
    assert.notEqual(readFileSync(join(dir, 'store.db')).subarray(0, 15).toString(), 'SQLite format 3');
    s2.close();
  });

  it('refuses a wrong passphrase with a one-line UnlockError and changes no file', async () => {
    const dir = join(t.dir, 'a');
    const before = snapshot(dir);
    await assert.rejects(reopen(dir, { passphrase: 'wrong' }), (err: unknown) => {
      assert.ok(err instanceof UnlockError);
      assert.match(err.message, /wrong passphrase/);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
    assert.deepEqual(snapshot(dir), before);
  });

  it('refuses a missing passphrase and a missing store clearly', async () => {
    const dir = join(t.dir, 'a');
    await assert.rejects(reopen(dir, { passphrase: undefined }), /passphrase is required/);
    await assert.rejects(reopen(join(t.dir, 'nothing')), /run `lockbridge init`/);
  });

  it('refuses to create over an existing store', async () => {
    await assert.rejects(
      newStore(join(t.dir, 'a')),
      (err: unknown) => err instanceof ConflictError && /already exists/.test(err.message),
    );
  });

  it('changes the passphrase by rewrapping only the key (rawDb(store) untouched)', async () => {
    const dir = join(t.dir, 'a');
    const dbBefore = readFileSync(join(dir, 'store.db'));
    const started = performance.now();
    // default Argon2id parameters (64 MiB, t=3): still well under a second
    await changePassphrase({ dir, oldPassphrase: 'correct horse', newPassphrase: 'battery staple' });
    const ms = performance.now() - started;
    console.log(`rekey took ${ms.toFixed(0)} ms`);
    assert.deepEqual(readFileSync(join(dir, 'store.db')), dbBefore);
    await assert.rejects(reopen(dir), UnlockError);
    const s = await reopen(dir, { passphrase: 'battery staple' });
    // and the open-store variant
    await s.changePassphrase('third one');
    s.close();
    await assert.rejects(reopen(dir, { passphrase: 'battery staple' }), UnlockError);
    (await reopen(dir, { passphrase: 'third one' })).close();
    await assert.rejects(
      changePassphrase({ dir, oldPassphrase: 'nope', newPassphrase: 'x' }),
      (err: unknown) => err instanceof UnlockError,
    );
  });

  it('unlocks with a keychain-wrapped copy, and falls back to the passphrase', async () => {
    const dir = join(t.dir, 'kc');
    const secret = Buffer.alloc(32, 7);
    const keychain: KeychainWrapper = {
      available: () => true,
      wrap: (k) => Buffer.from(k.map((b, i) => b ^ secret[i % 32]!)),
      unwrap: (b) => Buffer.from(b.map((x, i) => x ^ secret[i % 32]!)),
    };
    const s = await createStore(storeOpts(dir, { keychain }));
    s.close();
    (await reopen(dir, { passphrase: undefined, keychain })).close();
    const broken: KeychainWrapper = { ...keychain, unwrap: () => Buffer.alloc(32) };
    await assert.rejects(reopen(dir, { passphrase: undefined, keychain: broken }), UnlockError);
    (await reopen(dir, { keychain: broken })).close(); // falls back to the passphrase
    const kw = readFileSync(join(dir, 'keywrap.json'), 'utf8');
    assert.ok(JSON.parse(kw).keychain.blob);
  });

  it('reports a key file that does not belong to the database, and releases the lock', async () => {
    const { copyFileSync, mkdirSync } = await import('node:fs');
    const other = join(t.dir, 'other');
    (await newStore(other)).close();
    const mixed = join(t.dir, 'mixed');
    mkdirSync(mixed);
    copyFileSync(join(t.dir, 'a', 'store.db'), join(mixed, 'store.db'));
    copyFileSync(join(other, 'keywrap.json'), join(mixed, 'keywrap.json'));
    await assert.rejects(reopen(mixed), (err: unknown) => {
      assert.ok(err instanceof UnlockError);
      assert.match(err.message, /does not unlock store\.db/);
      return true;
    });
    assert.equal(held(mixed), false);
  });

  it('allows one bridge per data directory', async () => {
    const dir = join(t.dir, 'a');
    const s = await reopen(dir, { passphrase: 'third one' });
    assert.equal(held(dir), true);
    await assert.rejects(reopen(dir, { passphrase: 'third one' }), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.equal(err.message, `another Lockbridge is already using ${dir} (bridge.lock is held)`);
      return true;
    });
    s.close();
    assert.equal(held(dir), false);
  });

  it('is not blocked by a lock file naming a live, unrelated pid (a pid reused after a crash)', async () => {
    const dir = join(t.dir, 'a');
    // An unrelated process that is alive while the old-format lock file names it.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'bridge.lock'), `${other.pid}\n`);
      const s = await reopen(dir, { passphrase: 'third one' });
      assert.equal(held(dir), true);
      s.close();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('is released by the operating system when the holder is SIGKILLed', async () => {
    const dir = join(t.dir, 'a');
    const lockModule = new URL('../../../app/store/unlock/dir-lock.ts', import.meta.url).href;
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        // the lock is kept in a global: a lock no one refers to is collected, and its database
        // closed, which lets the OS lock go before the test looks
        `const m = await import(${JSON.stringify(lockModule)}); globalThis.lock = m.acquireDirLock(${JSON.stringify(dir)}); ` +
          `process.stdout.write('held\\n'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [first] = (await once(holder.stdout, 'data')) as [Buffer];
      assert.equal(first.toString(), 'held\n');
      await assert.rejects(reopen(dir, { passphrase: 'third one' }), ConflictError);
    } finally {
      holder.kill('SIGKILL');
    }
    await once(holder, 'exit');
    const s = await reopen(dir, { passphrase: 'third one' });
    assert.equal(held(dir), true);
    s.close();
  });
});
