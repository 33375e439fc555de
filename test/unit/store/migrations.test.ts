import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MIGRATIONS, type Migration } from '../../../app/store/migrations/index.ts';
import { SchemaTooNewError, latestVersion, schemaVersion } from '../../../app/store/migrations/runner.ts';
import { msg, newStore, reopen, tempDir } from './helpers.ts';

const V1 = MIGRATIONS.filter((m) => m.version === 1);
const next = latestVersion(MIGRATIONS) + 1;
/** A later step as a future release would add it: a new column with a backfill. */
const addColumn: Migration = {
  version: next,
  name: 'test-add-column',
  up(db) {
    db.exec("ALTER TABLE accounts ADD COLUMN nickname TEXT NOT NULL DEFAULT ''");
    db.exec("UPDATE accounts SET nickname = 'nick-' || email");
  },
};
/** A step that fails half-way: must leave the database at the previous version. */
const broken: Migration = {
  version: next,
  name: 'test-broken',
  up(db) {
    db.exec('CREATE TABLE half_done (x INTEGER)');
    throw new Error('boom');
  },
};

describe('store migrations', () => {
  const t = tempDir();
  after(t.cleanup);
  const dir = join(t.dir, 's');

  it('migrates a v1 database forward, keeping its data', async () => {
    const s = await newStore(dir, { migrations: V1 });
    assert.equal(schemaVersion(s.db), 1);
    const acc = s.accounts.create({
      email: 'm@example.org',
      imap: { host: 'h', port: 1 },
      smtp: { host: 'h', port: 2 },
      security: 'none',
      providerPassword: 'x',
    });
    const box = s.mailboxes.create(acc.id, 'INBOX');
    s.messages.insert(box.id, msg('kept', 'data'));
    s.close();

    const migrations = [...MIGRATIONS, addColumn];
    await assert.rejects(reopen(dir, { migrations: [...MIGRATIONS, broken] }), /boom/);
    const mid = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(mid.db), latestVersion(MIGRATIONS));
    assert.deepEqual(
      mid.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get(),
      { n: 0 },
    );
    mid.close();

    const s2 = await reopen(dir, { migrations });
    assert.equal(schemaVersion(s2.db), next);
    assert.deepEqual(s2.db.prepare('SELECT nickname FROM accounts').get(), {
      nickname: 'nick-m@example.org',
    });
    assert.equal(s2.messages.count(box.id), 1);
    s2.close();
  });

  it('leaves nothing behind when creating a store fails', async () => {
    const { existsSync } = await import('node:fs');
    const d = join(t.dir, 'failed-init');
    await assert.rejects(newStore(d, { migrations: [...MIGRATIONS, broken] }), /boom/);
    assert.equal(existsSync(join(d, 'store.db')), false);
    assert.equal(existsSync(join(d, 'keywrap.json')), false);
    (await newStore(d)).close();
  });

  it('refuses a database written by a newer version', async () => {
    await assert.rejects(reopen(dir, { migrations: MIGRATIONS }), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.equal(
        err.message,
        `this store was written by a newer Lockbridge (schema ${next} > ${latestVersion(MIGRATIONS)}); upgrade Lockbridge`,
      );
      return true;
    });
    // the refusal released the lock and changed nothing: the newer version still opens
    const s = await reopen(dir, { migrations: [...MIGRATIONS, addColumn] });
    assert.equal(schemaVersion(s.db), next);
    s.close();
  });
});

describe('migration 3: outbox bytes in their own table', () => {
  const t = tempDir();
  after(t.cleanup);
  const dir = join(t.dir, 'o');

  it('moves queued messages over intact; state changes and account removal still work', async () => {
    const V2 = MIGRATIONS.filter((m) => m.version <= 2);
    const s = await newStore(dir, { migrations: V2 });
    const acc = s.accounts.create({
      email: 'o@example.org',
      imap: { host: 'h', port: 1 },
      smtp: { host: 'h', port: 2 },
      security: 'none',
      providerPassword: 'x',
    });
    const raw = Buffer.from('Subject: queued before the upgrade\r\n\r\n' + 'x'.repeat(5000));
    s.db
      .prepare(
        "INSERT INTO outbox (account_id, envelope, raw, state, next_attempt, created_at) VALUES (?, ?, ?, 'queued', 1, 1)",
      )
      .run(acc.id, JSON.stringify({ from: 'o@example.org', to: ['b@example.org'] }), raw);
    s.close();

    const up = await reopen(dir, { migrations: MIGRATIONS });
    assert.equal(schemaVersion(up.db), latestVersion(MIGRATIONS));
    const [item] = up.outbox.list();
    assert.ok(item);
    assert.equal(item.size, raw.length);
    assert.deepEqual(item.envelope.to, ['b@example.org']);
    assert.deepEqual(up.outbox.raw(item.id), raw);
    up.outbox.setState(item.id, 'sent', {});
    assert.equal(up.outbox.get(item.id)?.state, 'sent');
    assert.deepEqual(up.outbox.raw(item.id), raw, 'a state change leaves the bytes alone');
    const fresh = up.outbox.enqueue(acc.id, { from: 'o@example.org', to: ['c@example.org'] }, raw);
    assert.equal(up.outbox.get(fresh)?.size, raw.length);
    up.accounts.remove(acc.id);
    assert.equal(up.outbox.list().length, 0);
    const left = up.db.prepare('SELECT count(*) AS n FROM outbox_raw').get() as { n: number };
    assert.equal(left.n, 0, 'removing the account removes the queued bytes too');
    up.close();
  });
});
