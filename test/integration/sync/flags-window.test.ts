// Issue 20, point 5 (memory independent of mailbox size): a provider without CONDSTORE (as
// outlook.com's IMAP) answers a flag check with every message of the range, at every pass. The
// engine asks for the flags of at most a window of the messages mapped here at a time, and applies
// them as they come, instead of `UID FETCH 1:N (FLAGS)` held whole; and which UIDs the provider
// still has (the expunge check, with or without CONDSTORE) ten windows at a time, instead of
// `UID SEARCH UID 1:N`. Seen at the provider's side of the wire, with Dovecot advertising neither
// CONDSTORE nor QRESYNC; flags changed and messages expunged there by another client still arrive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { localFor, localSubjects, msg } from './setup.ts';

const alice = 'alice@example.test';
const N = 120;
const WINDOW = 5;
let p: Provider;
let proxy: FaultProxy;

before(async () => {
  p = await startProvider({ postfix: false, noCondstore: true });
  await p.addUser(alice, 'pw');
  await p.bulkLoad(
    alice,
    'INBOX',
    (function* () {
      for (let i = 1; i <= N; i++) yield Buffer.from(msg(i, { subject: `m${i}` }));
    })(),
  );
  proxy = await startFaultProxy(p.imapPort);
});

after(async () => {
  await proxy?.close();
  await p?.close();
});

test('without CONDSTORE a pass reads flags and the UIDs still there in windows, and changes made elsewhere arrive', async () => {
  const lines: string[] = [];
  proxy.onClientLine((line) => lines.push(line));
  const local = await localFor(p, alice, undefined, { port: proxy.port });
  try {
    const engine = local.engine({ backfillWindow: WINDOW, idle: false });
    engine.start();
    await engine.whenSynced(60_000);
    assert.ok(!lines.some((l) => /CONDSTORE|CHANGEDSINCE/i.test(l)), 'the provider offers no CONDSTORE');
    // another client flags three messages at the provider
    const other = await p.imapClient(alice);
    try {
      await other.mailboxOpen('INBOX');
      await other.messageFlagsAdd('5,60,118', ['\\Flagged'], { uid: true });
      await other.messageDelete('7,100', { uid: true });
    } finally {
      await other.logout();
    }
    lines.length = 0;
    await engine.whenSynced(60_000);
    const reads = lines.flatMap((l) => {
      const m = /^\S+ UID FETCH (\d+):(\d+) \(UID FLAGS\)$/i.exec(l);
      return m ? [{ lo: Number(m[1]), hi: Number(m[2]) }] : [];
    });
    // old code: one `UID FETCH 1:120 (UID FLAGS)`
    assert.ok(reads.length >= Math.ceil(N / WINDOW), `flags read in windows: ${JSON.stringify(reads)}`);
    for (const r of reads) assert.ok(r.hi - r.lo + 1 <= WINDOW, `a read within the window: ${r.lo}:${r.hi}`);
    const searches = lines.flatMap((l) => {
      const m = /^\S+ UID SEARCH UID (\d+):(\d+)$/i.exec(l);
      return m ? [{ lo: Number(m[1]), hi: Number(m[2]) }] : [];
    });
    // old code: one `UID SEARCH UID 1:120`
    assert.ok(
      searches.length >= Math.ceil(N / (10 * WINDOW)),
      `UIDs asked in windows: ${JSON.stringify(searches)}`,
    );
    for (const r of searches)
      assert.ok(r.hi - r.lo + 1 <= 10 * WINDOW, `a search within ten windows: ${r.lo}:${r.hi}`);
    const inbox = local.store.mailboxes.getByName(local.accountId, 'INBOX')!.id;
    const flagged = [...local.store.messages.iterateMeta(inbox)]
      .filter((m) => local.store.messages.get(inbox, m.uid)!.flags.includes('\\Flagged'))
      .map((m) => local.store.messages.headers(m.blobId)!.subject);
    assert.deepEqual(flagged.sort(), ['m118', 'm5', 'm60']);
    const subjects = localSubjects(local.store, local.accountId, 'INBOX');
    assert.equal(subjects.length, N - 2);
    assert.ok(!subjects.includes('m7') && !subjects.includes('m100'), 'expunged at the provider, gone here');
  } finally {
    proxy.onClientLine(null);
    await local.close();
  }
});
