import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../../app/store/store.ts';
import { seeded } from '../../helpers/seeded.ts';
import { rawDb, storeSql } from '../../helpers/store-db.ts';
import { msg, newStore, tempDir, testAccount } from './helpers.ts';

/**
 * What SELECT reads of a mailbox (messages.uidView, messages.firstUnseenUid) takes shortcuts: the
 * UIDs of a mailbox are its range first..last less the expunged ones when its count says so, or
 * else read as one string, and the first unseen message is found through an index of the unseen
 * ones. Each is checked against the mailbox's rows read plainly (every row, its UID and flags) in
 * every layout: empty, emptied, dense from 1 and from later, sparse (few gaps, more gaps than
 * messages, gaps the expunge log lacks), all seen, some unseen, UIDs near 2^32, and after each
 * step of a seeded random walk of appends, flag changes, expunges, moves and copies.
 */
describe('SELECT view of a mailbox', () => {
  const t = tempDir();
  let s: Store;
  let accountId: number;
  let n = 0;
  before(async () => {
    s = await newStore(t.dir);
    accountId = testAccount(s, 'view@example.org').id;
  });
  after(() => {
    s.close();
    t.cleanup();
  });

  const append = (box: number, count: number, seen: (i: number) => boolean): number[] =>
    s.messages
      .insertBatch(
        box,
        Array.from({ length: count }, (_, i) => msg(`m${++n}`, `body ${n}`, seen(i) ? ['\\Seen'] : [])),
      )
      .map((r) => r.uid);

  const plain = (box: number): { uids: number[]; firstUnseen: number | null } => {
    const rows = rawDb(s).prepare('SELECT uid, flags FROM messages WHERE mailbox_id = ?').all(box) as Array<{
      uid: number;
      flags: number;
    }>;
    rows.sort((a, b) => a.uid - b.uid);
    return {
      uids: rows.map((r) => r.uid),
      firstUnseen: rows.find((r) => (r.flags & 1) === 0)?.uid ?? null,
    };
  };

  const check = (box: number, what: string): void => {
    const want = plain(box);
    const view = s.messages.uidView(box);
    assert.ok(view instanceof Uint32Array, what);
    assert.deepEqual(Array.from(view), want.uids, `${what}: UIDs`);
    assert.equal(s.messages.firstUnseenUid(box), want.firstUnseen, `${what}: first unseen`);
  };

  it('a mailbox never written and one emptied', () => {
    const box = s.mailboxes.create(accountId, 'Empty').id;
    check(box, 'never written');
    const uids = append(box, 5, () => false);
    s.messages.remove(box, uids);
    check(box, 'emptied');
  });

  it('dense from UID 1 and from a later UID, sparse, all seen, some unseen', () => {
    const box = s.mailboxes.create(accountId, 'Layouts').id;
    const uids = append(box, 40, () => true);
    check(box, 'dense from 1, all seen');
    s.messages.storeFlags(box, [uids[39]!], 'remove', ['\\Seen']);
    check(box, 'dense, the last unseen');
    s.messages.remove(box, uids.slice(0, 7));
    check(box, 'dense from 8');
    s.messages.remove(box, [uids[20]!]);
    check(box, 'one gap');
    s.messages.remove(box, [uids[39]!]);
    check(box, 'one gap, all seen');
    s.messages.storeFlags(box, [uids[10]!, uids[30]!], 'remove', ['\\Seen']);
    check(box, 'one gap, two unseen');
    append(box, 3, () => false);
    check(box, 'a gap at the end, unseen appended');
    s.messages.remove(
      box,
      uids.filter((_, i) => i % 4 !== 1),
    );
    check(box, 'more missing than present');
  });

  it('an expunge log without the gaps (cleared, or from before it kept them)', () => {
    const box = s.mailboxes.create(accountId, 'NoLog').id;
    const uids = append(box, 30, (i) => i < 20);
    s.messages.remove(box, [uids[4]!, uids[5]!, uids[22]!]);
    storeSql(s).prepare('DELETE FROM expunge_log WHERE mailbox_id = ? AND uid = ?').run(box, uids[5]);
    check(box, 'one of three gaps not logged');
    storeSql(s).prepare('DELETE FROM expunge_log WHERE mailbox_id = ?').run(box);
    check(box, 'no gap logged');
  });

  it('UIDs near 2^32 (the parser of the string keeps ten digits)', () => {
    const box = s.mailboxes.create(accountId, 'High').id;
    // through the statement cache: the mailbox rows read before are dropped (StoreDb.generation)
    storeSql(s)
      .prepare('UPDATE mailboxes SET uidnext = ? WHERE id = ?')
      .run(2 ** 32 - 30, box);
    const uids = append(box, 25, (i) => i % 3 !== 0);
    assert.ok(uids[0]! > 2 ** 31, `UIDs from ${uids[0]}`);
    check(box, 'dense, high');
    s.messages.remove(box, [uids[3]!, uids[17]!]);
    check(box, 'sparse, high');
  });

  it('after each step of a seeded random walk over two mailboxes', async () => {
    const rnd = seeded();
    await rnd.report(async () => {
      const a = s.mailboxes.create(accountId, 'WalkA').id;
      const b = s.mailboxes.create(accountId, 'WalkB').id;
      const pick = (box: number): number[] => {
        const all = plain(box).uids;
        const p = rnd.next() * 0.5;
        return all.filter(() => rnd.next() < p);
      };
      for (let step = 0; step < 200; step++) {
        const [src, dst] = rnd.int(2) === 0 ? [a, b] : [b, a];
        const kind = rnd.int(8);
        let what: string;
        if (kind <= 1) {
          const p = rnd.next();
          append(src, 1 + rnd.int(30), () => rnd.next() < p);
          what = 'append';
        } else if (kind === 2) {
          s.messages.storeFlags(src, pick(src), rnd.int(2) ? 'add' : 'remove', ['\\Seen']);
          what = 'store \\Seen';
        } else if (kind === 3) {
          s.messages.storeFlags(src, pick(src), 'add', ['\\Deleted']);
          s.messages.expunge(src);
          what = 'expunge';
        } else if (kind === 4) {
          s.messages.remove(src, pick(src));
          what = 'remove';
        } else if (kind === 5) {
          s.messages.move(src, pick(src), dst);
          what = 'move';
        } else if (kind === 6) {
          s.messages.copy(src, pick(src), dst);
          what = 'copy';
        } else {
          // the newest ones gone: a mailbox dense again, from a later UID or not
          const all = plain(src).uids;
          s.messages.remove(src, all.slice(all.length - rnd.int(all.length + 1)));
          what = 'remove the newest';
        }
        check(a, `step ${step} (${what}), mailbox A`);
        check(b, `step ${step} (${what}), mailbox B`);
      }
    });
  });
});
