import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createImapBackend, type StoreImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import type { ImapAccount, ImapBackend, MailboxChange } from '../../../app/imap/backend.ts';
import {
  InvalidMailboxNameError,
  MailboxExistsError,
  MailboxHasChildrenError,
  MailboxNotFoundError,
  MessageRejectedError,
} from '../../../app/imap/errors.ts';
import { startImapServer, type ImapServerHandle } from '../../../app/imap/server.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { importFiles } from '../../../app/store/import/importer.ts';
import type { Store } from '../../../app/store/store.ts';
import { ImapTestClient, message } from '../../helpers/imap-transcript.ts';
import { addLocalAccount, msg, newStore, tempDir } from '../../unit/store/helpers.ts';

/** A plaintext-login IMAP server on a free port over `b`. */
function serve(b: ImapBackend): Promise<ImapServerHandle> {
  return startImapServer({ backend: b, port: 0, allowPlaintextLogin: true, logger: silentLogger });
}

const USER = 'alice@example.test';
const PASS = 'local-secret';

describe('ImapBackend over the store', () => {
  const t = tempDir();
  let store: Store;
  let backend: StoreImapBackend;
  let acc: ImapAccount;
  before(async () => {
    store = await newStore(t.dir);
    addLocalAccount(store, USER, PASS);
    backend = createImapBackend(store, { logger: silentLogger, maxMessageSize: 10_000 });
    acc = (await backend.authenticate(USER, PASS))!;
  });
  after(() => {
    backend.dispose();
    store.close();
    t.cleanup();
  });

  it('authenticates with the local password only', async () => {
    assert.equal(await backend.authenticate(USER, 'provider'), null);
    assert.equal(await backend.authenticate('nobody@example.test', PASS), null);
    assert.equal(acc.username, USER);
    assert.deepEqual(
      acc.listMailboxes().map((m) => m.name),
      ['INBOX'],
    );
  });

  it('manages mailboxes with the port errors', () => {
    const a = acc.createMailbox('Archive', '\\Archive');
    assert.match(a.objectId, /^F[0-9a-f]{24}$/);
    assert.deepEqual(
      { ...a, id: 'x', objectId: 'y' },
      { id: 'x', name: 'Archive', specialUse: '\\Archive', subscribed: false, objectId: 'y' },
    );
    acc.setSubscribed(a.id, true);
    acc.createMailbox('Archive/2024');
    assert.throws(() => acc.createMailbox('Archive'), MailboxExistsError);
    assert.throws(() => acc.deleteMailbox(a.id), MailboxHasChildrenError);
    assert.throws(() => acc.deleteMailbox(acc.getMailbox('INBOX')!.id), InvalidMailboxNameError);
    assert.throws(() => acc.status('999999'), MailboxNotFoundError);
    acc.renameMailbox(a.id, 'Old');
    assert.deepEqual(
      acc
        .listMailboxes()
        .map((m) => m.name)
        .sort(),
      ['INBOX', 'Old', 'Old/2024'],
    );
    const st = acc.status(a.id);
    assert.equal(st.highestModseq, 1);
    assert.equal(st.uidNext, 1);
    acc.setSubscribed(a.id, false);
    assert.equal(acc.getMailbox('Old')!.subscribed, false);
  });

  it('keeps a subscription after DELETE and gives it back to a re-created mailbox (issue 15 item 5)', () => {
    const m = acc.createMailbox('Kept');
    acc.setSubscribed(m.id, true);
    acc.deleteMailbox(m.id);
    assert.deepEqual(acc.orphanSubscriptions(), ['Kept']);
    assert.equal(acc.createMailbox('Kept').subscribed, true);
    assert.deepEqual(acc.orphanSubscriptions(), []);
    acc.deleteMailbox(acc.getMailbox('Kept')!.id);
    acc.forgetSubscription('Kept');
    assert.deepEqual(acc.orphanSubscriptions(), []);
    assert.equal(acc.createMailbox('Kept').subscribed, false);
  });

  it('appends, fetches only what is asked, and feeds watchers synchronously with the origin', async () => {
    const inbox = acc.getMailbox('INBOX')!;
    const seen: MailboxChange[] = [];
    const stop = acc.watch(inbox.id, (c) => seen.push(c));
    const me = {};
    const raw1 = Buffer.from(message({ subject: 'hello', body: 'first body' }));
    const raw2 = Buffer.from(message({ subject: 'world', body: 'second body' }));
    const res = await acc.append(
      inbox.id,
      [
        { raw: raw1, flags: ['\\Seen'], internalDate: 1_700_000_000_000 },
        { raw: raw2, flags: [], internalDate: null },
      ],
      me,
    );
    assert.deepEqual(res.uids, [1, 2]);
    assert.equal(res.uidValidity, acc.openMailbox(inbox.id).uidValidity);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.kind, 'exists');
    assert.equal((seen[0] as { origin?: object }).origin, me);
    await assert.rejects(
      acc.append(inbox.id, [{ raw: Buffer.alloc(20_000, 65), flags: [], internalDate: null }]),
      MessageRejectedError,
    );

    const snap = acc.openMailbox(inbox.id);
    assert.deepEqual(Array.from(snap.uids), [1, 2]);
    assert.equal(snap.firstUnseenUid, 2);
    const lean = acc.fetch(inbox.id, [2, 1, 7], {});
    assert.deepEqual(
      lean.map((r) => [r.uid, r.flags, r.envelope, r.raw]),
      [
        [1, ['\\Seen'], undefined, undefined],
        [2, [], undefined, undefined],
      ],
    );
    assert.equal(lean[0]!.internalDate, 1_700_000_000_000);
    const full = acc.fetch(inbox.id, [1], { analysis: true, headers: true, header: true, raw: true })[0]!;
    assert.ok(full.raw!.equals(raw1));
    assert.equal(full.size, raw1.length);
    assert.match(full.envelope!, /"hello"/);
    assert.equal(full.headers!.subject, 'hello');
    assert.ok(full.header!.toString().endsWith('\r\n\r\n'));
    assert.ok(raw1.subarray(0, full.header!.length).equals(full.header!));
    assert.equal(full.parts![0]!.section, '');
    const headerOnly = acc.fetch(inbox.id, [1], { header: true })[0]!;
    assert.ok(headerOnly.header!.equals(full.header!));

    // flags: only real changes get a modseq and an event; unchangedSince reports MODIFIED
    seen.length = 0;
    const before = acc.status(inbox.id).highestModseq;
    const r1 = acc.storeFlags(inbox.id, [1, 2], 'add', ['\\Seen'], undefined, me);
    assert.deepEqual(
      r1.rows.map((r) => [r.uid, r.flags]),
      [
        [1, ['\\Seen']],
        [2, ['\\Seen']],
      ],
    );
    assert.equal(seen.length, 1);
    assert.deepEqual((seen[0] as unknown as { rows: unknown[] }).rows, [
      { uid: 2, flags: ['\\Seen'], modseq: before + 1 },
    ]);
    const r2 = acc.storeFlags(inbox.id, [1, 2], 'replace', ['\\Flagged'], before);
    assert.deepEqual(r2.modified, [2]);
    assert.deepEqual(
      r2.rows.map((r) => r.uid),
      [1],
    );

    // search
    assert.deepEqual([...acc.searchText(inbox.id, 'body', 'SECOND bo')].flat(), [2]);
    assert.deepEqual([...acc.searchText(inbox.id, 'text', 'world')].flat(), [2]);
    assert.deepEqual([...acc.searchText(inbox.id, 'text', 'body', [1])].flat(), [1]);

    // copy, move, expunge
    const old = acc.getMailbox('Old')!;
    seen.length = 0;
    const cp = acc.copy(inbox.id, [1, 2], old.id);
    assert.deepEqual(cp.pairs, [
      [1, 1],
      [2, 2],
    ]);
    const mv = acc.move(inbox.id, [2], old.id, me);
    assert.deepEqual(mv.pairs, [[2, 3]]);
    assert.deepEqual(
      seen.map((c) => c.kind),
      ['expunge'],
    );
    acc.storeFlags(inbox.id, [1], 'add', ['\\Deleted']);
    assert.deepEqual(acc.expunge(inbox.id, [2, 3]), []);
    assert.deepEqual(acc.expunge(inbox.id), [1]);
    assert.equal(acc.status(inbox.id).messages, 0);
    // QRESYNC: what left the mailbox (expunge and move out), by the mod-sequence of its removal.
    const last = acc.status(inbox.id).highestModseq;
    assert.deepEqual(acc.expungedSince(inbox.id, 0), [1, 2]);
    assert.deepEqual(acc.expungedSince(inbox.id, last - 1), [1]);
    assert.deepEqual(acc.expungedSince(inbox.id, last), []);
    stop();

    // deleting a watched mailbox resets its watchers
    const resets: MailboxChange[] = [];
    const child = acc.getMailbox('Old/2024')!;
    acc.watch(child.id, (c) => resets.push(c));
    acc.deleteMailbox(child.id);
    assert.deepEqual(resets, [{ kind: 'reset', reason: 'deleted' }]);
  });

  it('re-SELECT sees every change, from any path, though the view is kept between SELECTs', async () => {
    const box = acc.createMailbox('Views', null);
    const view = () => {
      const v = acc.openMailbox(box.id);
      return { uids: [...v.uids], firstUnseen: v.firstUnseenUid };
    };
    const raw = (n: number) => ({
      raw: Buffer.from(message({ subject: `v${n}`, body: `b${n}` })),
      flags: [] as string[],
      internalDate: null,
    });
    await acc.append(box.id, [raw(1), raw(2), raw(3)]);
    assert.deepEqual(view(), { uids: [1, 2, 3], firstUnseen: 1 });
    // the view is kept: the next SELECT gets the same array, not a re-read
    assert.equal(acc.openMailbox(box.id).uids, acc.openMailbox(box.id).uids);
    acc.storeFlags(box.id, [1], 'add', ['\\Seen']);
    assert.deepEqual(view(), { uids: [1, 2, 3], firstUnseen: 2 });
    acc.storeFlags(box.id, [2], 'add', ['\\Deleted']);
    assert.deepEqual(acc.expunge(box.id, [2]), [2]);
    assert.deepEqual(view(), { uids: [1, 3], firstUnseen: 3 });
    // a write that does not come through IMAP (sync, import) is seen too
    const id = Number(box.id);
    store.messages.insert(id, msg('v4', 'b4'));
    assert.deepEqual(view().uids, [1, 3, 4]);
  });

  it('sessions sharing a kept view each see their own sequence numbers (copy on write)', async () => {
    const server = await serve(backend);
    const open = async (): Promise<ImapTestClient> => {
      const c = await ImapTestClient.connect(server.port);
      await c.cmd(`x LOGIN ${USER} ${PASS}`);
      return c;
    };
    const uidsOf = async (c: ImapTestClient, tag: string): Promise<string> =>
      (await c.cmd(`${tag} FETCH 1:* (UID)`))
        .map((l) => /^\* (\d+) FETCH \(UID (\d+)\)$/.exec(l))
        .filter((m) => m !== null)
        .map((m) => m.slice(1).join('='))
        .join(' ');
    try {
      const box = acc.createMailbox('Shared', null);
      const raw = (n: number) => ({
        raw: Buffer.from(message({ subject: `s${n}`, body: `b${n}` })),
        flags: [] as string[],
        internalDate: null,
      });
      await acc.append(box.id, [raw(1), raw(2), raw(3), raw(4)]);
      const a = await open();
      const b = await open();
      await a.cmd('a1 SELECT Shared');
      await b.cmd('b1 SELECT Shared');
      // A grows its view (new mail) and then shrinks it (its own expunge); B must not notice
      // until it is told, and then only through its own EXISTS/EXPUNGE.
      await acc.append(box.id, [raw(5), raw(6)]);
      assert.ok((await a.cmd('a2 NOOP')).includes('* 6 EXISTS'));
      await a.cmd('a3 STORE 2 +FLAGS.SILENT (\\Deleted)');
      const exp = await a.cmd('a4 EXPUNGE');
      assert.ok(exp.includes('* 2 EXPUNGE'), exp.join('\n'));
      assert.equal(await uidsOf(a, 'a5'), '1=1 2=3 3=4 4=5 5=6');
      // B still has its SELECT-time view (FETCH may not expunge): seq 2 is still UID 2's slot
      // (a ghost, skipped; its \Deleted flag is told as an unsolicited FETCH).
      const bf = await b.cmd('b2 FETCH 1:4 (UID)');
      assert.ok(bf.includes('* 2 FETCH (UID 2 FLAGS (\\Deleted))'), bf.join('\n'));
      assert.deepEqual(
        bf.filter((l) => /^\* \d+ FETCH \(UID \d+\)$/.test(l)),
        ['* 1 FETCH (UID 1)', '* 3 FETCH (UID 3)', '* 4 FETCH (UID 4)'],
      );
      const bn = await b.cmd('b3 NOOP');
      assert.ok(bf.includes('* 6 EXISTS'), bf.join('\n')); // EXISTS may be told during FETCH
      assert.deepEqual(bn, ['* 2 EXPUNGE', 'b3 OK Noop completed.']);
      assert.equal(await uidsOf(b, 'b4'), '1=1 2=3 3=4 4=5 5=6');
      // A fresh session, and the kept view it shares, are unchanged by both.
      const c = await open();
      const sel = await c.cmd('c1 SELECT Shared');
      assert.ok(sel.includes('* 5 EXISTS'), sel.join('\n'));
      assert.equal(await uidsOf(c, 'c2'), '1=1 2=3 3=4 4=5 5=6');
      // Many appends in a row grow A's own array past its spare room.
      for (let i = 0; i < 40; i++) await acc.append(box.id, [raw(100 + i)]);
      const an = await a.cmd('a6 NOOP');
      assert.ok(an.includes('* 45 EXISTS'), an.join('\n'));
      const all = (await uidsOf(a, 'a7')).split(' ');
      assert.equal(all.length, 45);
      assert.equal(all[44], '45=46');
      assert.equal(await uidsOf(c, 'c3'), '1=1 2=3 3=4 4=5 5=6');
      for (const x of [a, b, c]) x.close();
    } finally {
      await server.close();
    }
  });

  it('HEADER.FIELDS answered from the summary block equals the answer from the whole header', async () => {
    const server = await serve(backend);
    try {
      const box = acc.createMailbox('Summaries', null);
      const heads = [
        'Received: from x\r\n\tby y\r\nFrom: A <a@example.test>\r\nSubject: folded\r\n  subject line\r\n',
        'DKIM-Signature: v=1;\r\n b=abc\r\nsubject : spaced name\r\nX-Priority: 1\r\nReferences: <a@x>\r\n <b@x>\r\n',
        'To: b@example.test\r\nCC: c@example.test\r\nContent-Type: text/plain;\r\n charset=utf-8\r\nno colon line\r\n',
      ];
      await acc.append(
        box.id,
        heads.map((h) => ({
          raw: Buffer.from(`${h}Message-ID: <m@example.test>\r\n\r\nbody\r\n`),
          flags: [],
          internalDate: null,
        })),
      );
      const c = await ImapTestClient.connect(server.port);
      await c.cmd(`x LOGIN ${USER} ${PASS}`);
      await c.cmd('s SELECT Summaries');
      const tb =
        'From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To';
      const viaSummary = await c.cmd(`f1 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (${tb})])`);
      // one field outside the summary set makes the backend read whole headers
      const viaWhole = await c.cmd(
        `f2 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (${tb} X-Not-Summarised)])`,
      );
      const strip = (lines: string[]): string[] =>
        lines.slice(0, -1).map((l) => l.replace(/ X-Not-Summarised\)\]/i, ')]'));
      assert.deepEqual(strip(viaSummary), strip(viaWhole));
      assert.ok(viaSummary.join('\n').includes('subject line'), viaSummary.join('\n'));
      assert.ok(!viaSummary.join('\n').includes('Received'));
      // a partial of a summary-covered field list is cut from the same bytes
      const part = await c.cmd('f3 UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT REFERENCES)]<0.20>)');
      const partWhole = await c.cmd(
        'f4 UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT REFERENCES X-Y)]<0.20>)',
      );
      assert.deepEqual(
        part.slice(0, -1),
        partWhole.slice(0, -1).map((l) => l.replace(/ X-Y\)\]/i, ')]')),
      );
      c.close();
    } finally {
      await server.close();
    }
  });

  it('serves a real IMAP session; IDLE sees an import from another path', async () => {
    const server: ImapServerHandle = await serve(backend);
    try {
      const c = await ImapTestClient.connect(server.port);
      const login = await c.cmd(`a1 LOGIN ${USER} ${PASS}`);
      assert.match(login[login.length - 1]!, /^a1 OK/);
      const sel = await c.cmd('a2 SELECT INBOX');
      assert.ok(sel.includes('* 0 EXISTS'), sel.join('\n'));
      c.write('a3 IDLE\r\n');
      assert.match(await c.readLine(), /^\+ /);
      const src = `${t.dir}/drop.eml`;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(src, message({ subject: 'imported while idle' }));
      const inboxId = store.mailboxes.getByName(store.accounts.getByEmail(USER)!.id, 'INBOX')!.id;
      await importFiles({
        store,
        accountId: store.accounts.getByEmail(USER)!.id,
        files: [src],
        logger: silentLogger,
      });
      assert.equal(await c.readLine(), '* 1 EXISTS');
      c.write('DONE\r\n');
      const done = await c.until('a3');
      assert.match(done[done.length - 1]!, /^a3 OK/);
      const f = await c.cmd('a4 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.ok(
        f.some((l) => l.includes('Subject: imported while idle')),
        f.join('\n'),
      );
      assert.equal(store.messages.uids(inboxId).length, 1);
      c.close();
    } finally {
      await server.close();
    }
  });
  it('SEARCH on flags answered by the store equals SEARCH checked on rows, for 300 random messages', async () => {
    const box = acc.createMailbox('FlagSearch');
    const flagPool = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$Junk', 'work'];
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const boxId = Number(box.id);
    for (let i = 0; i < 300; i++)
      store.messages.insert(
        boxId,
        msg(
          `m ${i}`,
          'x'.repeat(rnd(2000)),
          flagPool.filter(() => rnd(3) === 0),
        ),
      );
    // expunge a few so the view has gaps
    store.messages.storeFlags(boxId, [5, 6, 7, 100], 'add', ['\\Deleted']);
    store.messages.expunge(boxId, [5, 6, 7, 100]);
    // the same backend without the fast path: every key is checked on rows
    const slow = {
      ...backend,
      authenticate: async (u: string, p: string) => {
        const a = await backend.authenticate(u, p);
        if (!a) return null;
        return new Proxy(a, {
          get: (target, prop) => {
            if (prop === 'withFlags') return undefined;
            const v = Reflect.get(target, prop, target) as unknown;
            return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
          },
        });
      },
    };
    const servers = [await serve(backend), await serve(slow)];
    try {
      const clients = await Promise.all(servers.map((sv) => ImapTestClient.connect(sv.port)));
      for (const c of clients) {
        await c.cmd(`a1 LOGIN ${USER} ${PASS}`);
        await c.cmd('a2 SELECT FlagSearch');
      }
      // a message arrives that the sessions have not been told about yet: both paths leave it
      // to the view (it joins once the session announced it with EXISTS)
      store.messages.insert(boxId, msg('unannounced', 'y', []));
      const searches = [
        'UNSEEN',
        'SEEN',
        'DELETED',
        'UNDELETED UNSEEN',
        'FLAGGED ANSWERED',
        'UNFLAGGED UNANSWERED UNDRAFT',
        'DRAFT',
        'KEYWORD work',
        'UNKEYWORD $Junk SEEN',
        'UNSEEN KEYWORD work',
        'OR SEEN FLAGGED',
        'NOT SEEN',
        'RECENT',
        'NEW',
        'OLD UNSEEN',
        'UNSEEN LARGER 1000',
        'SEEN 1:50',
        'UID 100:200 UNDELETED',
        'UNSEEN SUBJECT "m 1"',
        'ALL',
      ];
      let tag = 10;
      for (const q of searches) {
        for (const cmd of [`SEARCH ${q}`, `UID SEARCH ${q}`, `SEARCH RETURN (COUNT MIN MAX) ${q}`]) {
          const t = `s${tag++}`;
          const [fast, slowOut] = await Promise.all(clients.map((c) => c.cmd(`${t} ${cmd}`)));
          assert.deepEqual(fast, slowOut, cmd);
          assert.match(fast![fast!.length - 1]!, new RegExp(`^${t} OK`), `${cmd}: ${fast!.join(' | ')}`);
        }
      }
      // and the fast path did narrow: a flag-only search matches what the store holds
      const unseen = (await clients[0]!.cmd('u1 UID SEARCH UNSEEN UNDELETED'))[0]!;
      const expected = store.messages
        .metaFor(boxId, store.messages.uids(boxId))
        .filter((m) => !m.flags.includes('\\Seen') && !m.flags.includes('\\Deleted'))
        .map((m) => m.uid);
      assert.equal(unseen, `* SEARCH ${expected.join(' ')}`.trimEnd());
      for (const c of clients) c.close();
    } finally {
      for (const sv of servers) await sv.close();
    }
  });
});
