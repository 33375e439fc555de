/**
 * The multi-session rules over the real encrypted store (ImapBackend adapter + the store's change
 * feed): IDLE sees changes from other sessions and from outside IMAP at once; EXPUNGE waits while
 * a session runs FETCH.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../../../app/imap/server.ts';
import type { ImapServerHandle } from '../../../app/imap/server.ts';
import { createImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import type { StoreImapBackend } from '../../../app/control/adapters/imap-backend.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import type { Store } from '../../../app/store/store.ts';
import { addLocalAccount, newStore, tempDir } from '../../unit/store/helpers.ts';
import { ImapTestClient, PASS, USER, message } from '../../helpers/imap-transcript.ts';

describe('IMAP over the encrypted store', () => {
  const t = tempDir('lb-imap-store-');
  let store: Store;
  let backend: StoreImapBackend;
  let server: ImapServerHandle;
  const login = async (): Promise<ImapTestClient> => {
    const c = await ImapTestClient.connect(server.port);
    const r = await c.cmd(`L LOGIN ${USER} ${PASS}`);
    assert.match(r[r.length - 1]!, /^L OK /);
    return c;
  };
  before(async () => {
    store = await newStore(t.dir);
    addLocalAccount(store, USER, PASS);
    backend = createImapBackend(store, { logger: silentLogger });
    server = await startImapServer({ backend, port: 0, allowPlaintextLogin: true });
    const acc = (await backend.authenticate(USER, PASS))!;
    const inbox = acc.getMailbox('INBOX')!;
    await acc.append(
      inbox.id,
      [1, 2, 3].map((i) => ({
        raw: Buffer.from(message({ subject: `s${i}`, messageId: `<s${i}@x>` })),
        flags: [],
        internalDate: null,
      })),
    );
  });
  after(async () => {
    await server.close();
    backend.dispose();
    store.close();
    t.cleanup();
  });

  it('pushes EXISTS / FETCH / EXPUNGE to an IDLE session and holds EXPUNGE during FETCH', async () => {
    const a = await login();
    const b = await login();
    await a.cmd('a0 SELECT INBOX');
    await b.cmd('b0 SELECT INBOX');
    a.write('a1 IDLE\r\n');
    assert.equal(await a.readLine(), '+ idling');
    // Outside IMAP (import / sync path).
    const acc = (await backend.authenticate(USER, PASS))!;
    await acc.append(acc.getMailbox('INBOX')!.id, [
      {
        raw: Buffer.from(message({ subject: 'outside', messageId: '<o@x>' })),
        flags: [],
        internalDate: null,
      },
    ]);
    await a.expectLines(['* 4 EXISTS', '* 1 RECENT']);
    await b.expect('b1 NOOP', ['* 4 EXISTS', '* 0 RECENT', 'b1 OK Noop completed.']);
    await b.expect('b2 STORE 2 +FLAGS (\\Deleted)', [
      '* 2 FETCH (FLAGS (\\Deleted))',
      'b2 OK Store completed.',
    ]);
    await a.expectLines(['* 2 FETCH (UID 2 FLAGS (\\Deleted))']);
    a.write('DONE\r\n');
    assert.equal(await a.readLine(), 'a1 OK Idle completed.');
    await b.expect('b3 EXPUNGE', ['* 2 EXPUNGE', 'b3 OK Expunge completed.']);
    await a.expect('a2 FETCH 1:4 (UID)', [
      '* 1 FETCH (UID 1)',
      '* 3 FETCH (UID 3)',
      '* 4 FETCH (UID 4)',
      'a2 OK Fetch completed.',
    ]);
    await a.expect('a3 NOOP', ['* 2 EXPUNGE', 'a3 OK Noop completed.']);
    await a.expect('a4 UID SEARCH ALL', ['* SEARCH 1 3 4', 'a4 OK UID Search completed.']);
    a.close();
    b.close();
  });

  it('STATUS DELETED (IMAP4rev2) counts \\Deleted from the store', async () => {
    const c = await login();
    await c.cmd('c0 SELECT INBOX');
    await c.cmd('c1 STORE 1:2 +FLAGS.SILENT (\\Deleted)');
    await c.cmd('c2 STORE 2 -FLAGS.SILENT (\\Deleted)');
    await c.expect('c3 STATUS INBOX (MESSAGES DELETED)', [
      '* STATUS INBOX (MESSAGES 3 DELETED 1)',
      'c3 OK Status completed.',
    ]);
    c.close();
  });
});
