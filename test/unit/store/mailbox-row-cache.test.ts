import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../../app/store/store.ts';
import { msg, newStore, tempDir, testAccount } from './helpers.ts';
import { rawDb, storeSql } from '../../helpers/store-db.ts';

/**
 * MailboxesRepo keeps the rows it read until the database changes (StoreDb.generation). Every
 * path that changes a mailbox row must make the next get()/getByName() see the change: checked
 * against a direct read after each step of a seeded random walk over all of them.
 */
describe('mailbox rows read through the cache', () => {
  const t = tempDir();
  let s: Store;
  let accountId: number;
  before(async () => {
    s = await newStore(t.dir);
    accountId = testAccount(s, 'cache@example.org').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  type Direct = {
    id: number;
    name: string;
    parent_id: number | null;
    special_use: string | null;
    subscribed: number;
    uidvalidity: number;
    uidnext: number;
    highestmodseq: number;
    remote_name: string | null;
  };
  const direct = (sql: string, ...args: unknown[]) =>
    rawDb(s)
      .prepare(sql)
      .get(...args) as Direct | undefined;
  const shape = (m: ReturnType<Store['mailboxes']['get']>) =>
    m && {
      id: m.id,
      name: m.name,
      parentId: m.parentId,
      specialUse: m.specialUse,
      subscribed: m.subscribed,
      uidValidity: m.uidValidity,
      uidNext: m.uidNext,
      highestModseq: m.highestModseq,
      remoteName: m.remoteName,
    };
  const expected = (r: Direct | undefined) =>
    r
      ? {
          id: r.id,
          name: r.name,
          parentId: r.parent_id,
          specialUse: r.special_use,
          subscribed: r.subscribed === 1,
          uidValidity: r.uidvalidity,
          uidNext: r.uidnext,
          highestModseq: r.highestmodseq,
          remoteName: r.remote_name,
        }
      : null;

  it('sees every kind of change at once, and nothing of a rolled-back one', () => {
    const inbox = s.mailboxes.create(accountId, 'INBOX');
    const ids = new Set<number>([inbox.id]);
    const names = new Set<string>(['INBOX', 'inbox', 'Nope']);
    const check = (what: string) => {
      for (const id of ids) {
        const want = expected(direct('SELECT * FROM mailboxes WHERE id = ?', id));
        assert.deepEqual(shape(s.mailboxes.get(id)), want, `${what}: mailbox ${id}`);
        assert.deepEqual(shape(s.mailboxes.get(id)), want, `${what}: mailbox ${id}, again`);
      }
      for (const name of names) {
        const canonical = name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
        const want = expected(
          direct('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?', accountId, canonical),
        );
        assert.deepEqual(shape(s.mailboxes.getByName(accountId, name)), want, `${what}: "${name}"`);
      }
    };
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 16) % n;
    };
    const live = () => [...ids].filter((id) => direct('SELECT * FROM mailboxes WHERE id = ?', id));
    const any = () => {
      const l = live();
      return l[rnd(l.length)]!;
    };
    const ops = [
      'create',
      'rename',
      'delete',
      'subscribe',
      'special-use',
      'remote-name',
      'insert',
      'flags',
      'expunge',
      'move',
      'uidvalidity',
      'rollback',
    ] as const;
    const seen = new Set<string>();
    check('start');
    for (let step = 0; step < 400; step++) {
      const op = ops[rnd(ops.length)]!;
      const id = any();
      const box = s.mailboxes.get(id)!;
      try {
        if (op === 'create') {
          const name = rnd(2) && box.name !== 'INBOX' ? `${box.name}/c${step}` : `Box${step}`;
          ids.add(s.mailboxes.create(accountId, name).id);
          names.add(name);
        } else if (op === 'rename' && box.name !== 'INBOX') {
          const name = `R${step}`;
          s.mailboxes.rename(id, name);
          names.add(name);
        } else if (op === 'delete' && box.name !== 'INBOX') s.mailboxes.delete(id);
        else if (op === 'subscribe') s.mailboxes.setSubscribed(id, rnd(2) === 1);
        else if (op === 'special-use') s.mailboxes.setSpecialUse(id, rnd(2) ? '\\Archive' : null);
        else if (op === 'remote-name') s.mailboxes.setRemoteName(id, rnd(2) ? `remote ${step}` : null);
        else if (op === 'insert') s.messages.insert(id, msg(`m ${step}`, 'body'));
        else if (op === 'flags') s.messages.storeFlags(id, s.messages.uids(id), 'add', ['\\Seen']);
        else if (op === 'expunge') s.messages.remove(id, s.messages.uids(id).slice(0, 1));
        else if (op === 'move') s.messages.move(id, s.messages.uids(id).slice(0, 2), any());
        else if (op === 'uidvalidity') s.mailboxes.resetUidValidity(id);
        else if (op === 'rollback') {
          assert.throws(() =>
            storeSql(s).write(() => {
              s.mailboxes.setSubscribed(id, !box.subscribed);
              s.messages.insert(id, msg(`gone ${step}`, 'x'));
              // inside the transaction, reads see its own changes
              assert.equal(s.mailboxes.get(id)!.subscribed, !box.subscribed);
              throw new Error('roll back');
            }),
          );
        }
      } catch (err) {
        // deleting a mailbox with children is refused; anything else is a failure
        if (!/has children/.test((err as Error).message)) throw err;
      }
      seen.add(op);
      check(`step ${step} (${op})`);
    }
    assert.equal(seen.size, ops.length, 'every kind of change was tried');
  });

  it('answers a repeated lookup without asking SQLite again, until something is written', () => {
    const box = s.mailboxes.create(accountId, 'Counted');
    const sql = storeSql(s);
    const real = sql.prepare.bind(sql);
    let asked = 0;
    sql.prepare = ((text: string) => {
      if (/^SELECT \* FROM mailboxes WHERE/.test(text)) asked++;
      return real(text);
    }) as typeof sql.prepare;
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal(s.mailboxes.get(box.id)!.name, 'Counted');
        assert.equal(s.mailboxes.getByName(accountId, 'Counted')!.id, box.id);
      }
      assert.equal(asked, 2);
      s.mailboxes.setSubscribed(box.id, true);
      assert.equal(s.mailboxes.get(box.id)!.subscribed, true);
      assert.equal(asked, 3 + 1, 'the write itself reads the row once, then the cache is filled anew');
    } finally {
      sql.prepare = real;
    }
  });
});
