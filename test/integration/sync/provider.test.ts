// The provider harness itself: Postfix → LMTP → Dovecot delivery, IMAP over verified STARTTLS,
// restart, and UIDVALIDITY reset.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, type Provider } from '../../helpers/provider.ts';

let p: Provider;
const alice = 'alice@example.test';

before(async () => {
  p = await startProvider();
  await p.addUser(alice, 'alice-pw');
});
after(async () => {
  await p?.close();
});

test('mail delivered through Postfix is visible over IMAP (STARTTLS verified with the CA)', async () => {
  const raw = `From: bob@outside.test\r\nTo: ${alice}\r\nSubject: harness check\r\nMessage-ID: <harness-1@outside.test>\r\n\r\nhello\r\n`;
  await p.deliver(raw, { to: [alice] });
  const client = await p.imapClient(alice);
  try {
    assert.ok(client.secureConnection || client.usable, 'connected');
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msgs = [];
      for await (const m of client.fetch('1:*', { envelope: true, source: true })) msgs.push(m);
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0]?.envelope?.subject, 'harness check');
      assert.match(msgs[0]?.source?.toString() ?? '', /Received: .*by mx\.example\.test/s);
    } finally {
      lock.release();
    }
    const list = await client.list();
    const byUse = new Map(list.map((m) => [m.specialUse, m.path]));
    assert.equal(byUse.get('\\Sent'), 'Sent');
    assert.equal(byUse.get('\\Drafts'), 'Drafts');
    assert.equal(byUse.get('\\Trash'), 'Trash');
    assert.equal(byUse.get('\\Junk'), 'Junk');
  } finally {
    await client.logout();
  }
});

test('LMTP delivery, APPEND, restart and UIDVALIDITY reset', async () => {
  await p.deliver('Subject: via lmtp\r\n\r\nx\r\n', { to: [alice], via: 'lmtp' });
  const uid = await p.appendRaw(alice, 'Archive', 'Subject: appended\r\n\r\ny\r\n', ['\\Seen']);
  assert.equal(uid, 1);
  await p.stopDovecot();
  await assert.rejects(p.appendRaw(alice, 'Archive', 'Subject: x\r\n\r\n'));
  await p.startDovecot();
  const before = await p.mailboxStatus(alice, 'INBOX');
  assert.equal(before.messages, 2);
  const r = await p.recreateMailbox(alice, 'INBOX');
  assert.notEqual(r.newUidValidity, r.oldUidValidity);
  const afterSt = await p.mailboxStatus(alice, 'INBOX');
  assert.equal(afterSt.messages, 2);
  const r2 = await p.recreateMailbox(alice, 'Archive');
  assert.notEqual(r2.newUidValidity, r2.oldUidValidity);
  assert.equal((await p.mailboxStatus(alice, 'Archive')).messages, 1);
});
