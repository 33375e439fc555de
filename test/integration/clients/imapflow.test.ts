/** imapflow (the Node IMAP client sync also uses) against the Lockbridge IMAP server over STARTTLS. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { createLocalTls } from '../../../app/crypto/local-ca.ts';
import { PASS, USER, message, startTestServer } from '../../helpers/imap-transcript.ts';
import type { TestServer } from '../../helpers/imap-transcript.ts';

describe('imapflow client', () => {
  let s: TestServer;
  let caPem: string;
  before(async () => {
    const m = await createLocalTls();
    caPem = m.caCertPem;
    s = await startTestServer({ tls: { key: m.keyPem, cert: m.certPem }, allowPlaintextLogin: false });
    for (let i = 1; i <= 3; i++)
      s.account.deliver('INBOX', message({ subject: `hello ${i}`, messageId: `<f${i}@x>` }));
  });
  after(() => s.close());

  it('lists, fetches, appends, flags, moves, searches and gets IDLE notifications', async () => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: s.port,
      secure: false,
      doSTARTTLS: true,
      tls: { ca: [caPem], servername: 'localhost' },
      auth: { user: USER, pass: PASS },
      logger: false,
    });
    await client.connect();
    try {
      // imapflow enables IMAP4rev2 when offered: everything below runs with rev2 semantics.
      assert.ok(client.enabled.has('IMAP4REV2'));
      const list = await client.list();
      const byName = new Map(list.map((m) => [m.path, m]));
      assert.equal(byName.get('Sent')?.specialUse, '\\Sent');
      assert.equal(byName.get('Trash')?.specialUse, '\\Trash');
      assert.ok(byName.has('INBOX'));

      const box = await client.mailboxOpen('INBOX');
      assert.equal(box.exists, 3);
      assert.equal(Number(box.uidValidity), 1000);
      const inboxId = s.account.getMailbox('INBOX')!.id;
      const subjects: string[] = [];
      for await (const msg of client.fetch('1:*', {
        envelope: true,
        source: true,
        flags: true,
        bodyStructure: true,
      })) {
        subjects.push(msg.envelope?.subject ?? '');
        assert.equal(msg.source?.length, s.account.fetch(inboxId, [msg.uid], {})[0]!.size);
      }
      assert.deepEqual(subjects, ['hello 1', 'hello 2', 'hello 3']);

      const appended = await client.append('INBOX', message({ subject: 'appended', messageId: '<ap@x>' }), [
        '\\Seen',
      ]);
      assert.ok(appended);
      assert.equal(appended.uid, 4);

      await client.messageFlagsAdd({ uid: '1' }, ['\\Flagged'], { uid: true });
      const flagged = await client.search({ flagged: true }, { uid: true });
      assert.deepEqual(flagged, [1]);
      const bySubject = await client.search({ subject: 'appended' }, { uid: true });
      assert.deepEqual(bySubject, [4]);

      const moved = await client.messageMove({ uid: '2' }, 'Trash', { uid: true });
      assert.ok(moved);
      assert.equal(moved.uidMap?.get(2), 1);
      const status = await client.status('Trash', { messages: true });
      assert.equal((status as { messages?: number }).messages, 1);

      // IDLE: a message delivered from outside IMAP shows up as EXISTS.
      const exists = new Promise<number>((resolve) =>
        client.once('exists', (d: { count: number }) => resolve(d.count)),
      );
      const idling = client.idle();
      await new Promise((r) => setTimeout(r, 50));
      s.account.deliver('INBOX', message({ subject: 'while idle', messageId: '<idle@x>' }));
      assert.equal(await exists, 4);
      void idling;
    } finally {
      await client.logout();
    }
  });
});
