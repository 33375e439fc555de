// Issue 20, point 5 (memory independent of mailbox size): the initial backfill lists the provider's
// UIDs one window at a time, newest first, instead of asking for `1:N` and holding the whole list
// (a million-message folder's list was ~50 MB of heap). Seen at the provider's side of the wire: the
// listings the engine sends (`UID FETCH lo:hi (UID RFC822.SIZE)`) each span at most the window, and
// every message still arrives once, newest first; UIDs made sparse by deletions widen the window.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { localFor, localSubjects, msg } from './setup.ts';

const alice = 'alice@example.test';
const N = 120;
const WINDOW = 25;
let p: Provider;
let proxy: FaultProxy;

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  await p.bulkLoad(
    alice,
    'INBOX',
    (function* () {
      for (let i = 1; i <= N; i++) yield Buffer.from(msg(i, { subject: `m${i}` }));
    })(),
  );
  await p.doveadm('mailbox', 'create', '-u', alice, 'Sparse');
  await p.bulkLoad(
    alice,
    'Sparse',
    (function* () {
      for (let i = 1; i <= 400; i++) yield Buffer.from(msg(1000 + i, { subject: `s${i}` }));
    })(),
  );
  // 390 of Sparse's 400 deleted: ten messages left across UIDs 1..400
  await p.doveadm(
    'expunge',
    '-u',
    alice,
    'mailbox',
    'Sparse',
    'not',
    'uid',
    '1,50,90,130,170,210,250,290,330,400',
  );
  proxy = await startFaultProxy(p.imapPort);
});

after(async () => {
  await proxy?.close();
  await p?.close();
});

test('the initial backfill lists UIDs one window at a time, newest first, and stores every message once', async () => {
  const listings: Array<{ box: string; lo: number; hi: number }> = [];
  let selected = '';
  proxy.onClientLine((line) => {
    const sel = /^\S+ (?:SELECT|EXAMINE) "?([^"\s]+)"?/i.exec(line);
    if (sel) selected = sel[1]!;
    const m = /^\S+ UID FETCH (\d+):(\d+) \(UID RFC822\.SIZE(?: MODSEQ)?\)$/i.exec(line);
    if (m) listings.push({ box: selected, lo: Number(m[1]), hi: Number(m[2]) });
  });
  const local = await localFor(p, alice, undefined, { port: proxy.port });
  try {
    // no IDLE connection: the listings and SELECTs seen are all the pass connection's
    const engine = local.engine({ backfillWindow: WINDOW, idle: false });
    engine.start();
    await engine.whenSynced(60_000);
    const inbox = listings.filter((l) => l.box === 'INBOX');
    // old code: one listing 1:120
    assert.ok(inbox.length >= Math.ceil(N / WINDOW), `INBOX listed in windows: ${JSON.stringify(inbox)}`);
    for (const l of inbox)
      assert.ok(l.hi - l.lo + 1 <= WINDOW, `a listing within the window: ${l.lo}:${l.hi}`);
    // newest first: each window below the one before
    for (let i = 1; i < inbox.length; i++) assert.ok(inbox[i]!.hi < inbox[i - 1]!.lo, 'windows go down');
    const subjects = localSubjects(local.store, local.accountId, 'INBOX');
    assert.equal(subjects.length, N, 'every message stored');
    assert.equal(new Set(subjects).size, N, 'none twice');
    // sparse UIDs: the window widens, so 400 UIDs take fewer than 400/25 = 16 listings
    const sparse = listings.filter((l) => l.box === 'Sparse');
    assert.ok(sparse.length < 400 / WINDOW, `Sparse listed in widening windows: ${JSON.stringify(sparse)}`);
    assert.equal(localSubjects(local.store, local.accountId, 'Sparse').length, 10);
  } finally {
    await local.close();
  }
});
