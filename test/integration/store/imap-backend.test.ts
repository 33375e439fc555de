import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createImapBackend, type StoreImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import type { ImapAccount, MailboxChange } from '../../../app/imap/backend.ts';
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
import { msg, newStore, tempDir } from '../../unit/store/helpers.ts';

const USER = 'alice@example.test';
const PASS = 'local-secret';

describe('ImapBackend over the store', () => {
  const t = tempDir();
  let store: Store;
  let backend: StoreImapBackend;
  let acc: ImapAccount;
  before(async () => {
    store = await newStore(t.dir);
    store.accounts.create({
      email: USER,
      imap: { host: 'imap.example.test', port: 993 },
      smtp: { host: 'smtp.example.test', port: 465 },
      security: 'tls',
      providerPassword: 'provider',
    });
    store.credentials.set(PASS);
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
    assert.deepEqual(
      { ...a, id: 'x' },
      { id: 'x', name: 'Archive', specialUse: '\\Archive', subscribed: true },
    );
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
    assert.deepEqual(acc.searchText(inbox.id, 'body', 'SECOND bo'), [2]);
    assert.deepEqual(acc.searchText(inbox.id, 'text', 'world'), [2]);
    assert.deepEqual(acc.searchText(inbox.id, 'text', 'body', [1]), [1]);

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
    // the caller's copy is its own: a session changing it does not change the next SELECT's view
    acc.openMailbox(box.id).uids.fill(0);
    assert.deepEqual(view(), { uids: [1, 2, 3], firstUnseen: 1 });
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

  it('serves a real IMAP session; IDLE sees an import from another path', async () => {
    const server: ImapServerHandle = await startImapServer({
      backend,
      port: 0,
      allowPlaintextLogin: true,
      logger: silentLogger,
    });
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
});
