// Issue 17 item 6: `lockbridge account repair E` as a user runs it (the real CLI, `serve` as a child
// process, real Dovecot). While the bridge is stopped a local copy is damaged and another local row
// deleted (the store opened the way the store code opens it); after a restart the normal sync does
// not notice; `account repair` through the running bridge restores both (the bytes a local IMAP
// client fetches are the original ones), keeps the UIDs and flags of the untouched messages and
// writes nothing at the provider. It also works with no bridge running (the store opened with the
// passphrase) and says in one line when the account is unknown or the provider unreachable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { startWorld, WORLD_PASSPHRASE, type World } from '../../helpers/bridge-world.ts';
import { cliAsync } from '../../helpers/cli.ts';
import { openStore } from '../../../app/store/store.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { until } from '../sync/setup.ts';
import { storeSql } from '../../helpers/store-db.ts';

let w: World;

function mail(subject: string, bodyBytes: number): string {
  const line = `${subject} body line with some words in it\r\n`;
  return (
    `From: a@example.test\r\nTo: me@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.test>\r\n` +
    `Date: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\n${line.repeat(Math.ceil(bodyBytes / line.length))}`
  );
}

interface Seen {
  uid: number;
  flags: string;
  source: Buffer;
}

async function localInbox(c: ImapFlow): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  const lock = await c.getMailboxLock('INBOX');
  try {
    await c.noop(); // the bridge's new messages (EXISTS) since the last look
    if (c.mailbox && c.mailbox.exists)
      for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true, source: true }))
        out.set(m.envelope!.subject!, {
          uid: m.uid,
          flags: [...(m.flags ?? [])]
            .filter((f) => f !== '\\Recent')
            .sort()
            .join(' '), // \Recent is per session
          source: m.source!,
        });
  } finally {
    lock.release();
  }
  return out;
}

async function providerState(): Promise<string> {
  const msgs = await w.providerMessages('INBOX');
  const st = await w.provider.mailboxStatus(w.user, 'INBOX');
  return JSON.stringify([
    st,
    msgs.map((m) => [m.uid, m.flags, m.size, createHash('sha256').update(m.plain).digest('hex')]),
  ]);
}

async function repair(email: string, env: Record<string, string> = { LOCKBRIDGE_PASSPHRASE: '' }) {
  return cliAsync(['--home', w.home, 'account', 'repair', email], env);
}

before(async () => {
  w = await startWorld();
});

after(async () => {
  await w?.close();
});

test('account repair through a running bridge restores a damaged and a deleted local copy', async () => {
  await w.start();
  for (const [s, n] of [
    ['one-damaged', 30_000],
    ['two-deleted', 500],
    ['three-kept', 700],
  ] as const)
    await w.provider.deliver(mail(s, n), { via: 'lmtp' });
  let c = await w.localClient();
  await until(async () => (await localInbox(c)).size === 3, 60_000, 'three messages at the bridge');
  await c.messageFlagsAdd({ subject: 'three-kept' }, ['\\Seen']);
  await until(
    async () => (await w.providerMessages('INBOX')).some((m) => m.flags.includes('\\Seen')),
    60_000,
    'the flag at the provider',
  );
  const original = await localInbox(c);
  await w.stop();

  // Behind the engine's back (no bridge runs).
  const store = await openStore({ dir: w.home, passphrase: WORLD_PASSPHRASE, logger: silentLogger });
  try {
    const acct = store.accounts.getByEmail(w.user)!;
    const inbox = store.mailboxes.list(acct.id).find((m) => m.name === 'INBOX')!;
    const one = store.messages.get(inbox.id, original.get('one-damaged')!.uid)!;
    storeSql(store)
      .prepare('UPDATE message_raw SET body = substr(body, 1, length(body) / 3) WHERE blob_id = ?')
      .run(one.blobId);
    storeSql(store)
      .prepare('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?')
      .run(inbox.id, original.get('two-deleted')!.uid);
  } finally {
    store.close();
  }

  await w.start();
  c = await w.localClient();
  await until(async () => (await w.accountStatus()).connection === 'online', 60_000, 'online again');
  const providerBefore = await providerState();
  const r = await repair(w.user);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^INBOX: 3 at the provider, 3 local copies checked; 1 fetched again \(missing\), 1 repaired \(damaged\)/m,
  );
  assert.match(r.stdout, /Repaired me@example\.test: 1 fetched again, 1 repaired/);

  const now = await localInbox(c);
  assert.deepEqual([...now.keys()].sort(), ['one-damaged', 'three-kept', 'two-deleted']);
  for (const s of ['one-damaged', 'two-deleted', 'three-kept'])
    assert.ok(now.get(s)!.source.equals(original.get(s)!.source), `${s}: the original bytes`);
  for (const s of ['one-damaged', 'three-kept']) {
    assert.equal(now.get(s)!.uid, original.get(s)!.uid, `${s} keeps its UID`);
    assert.equal(now.get(s)!.flags, original.get(s)!.flags, `${s} keeps its flags`);
  }
  assert.equal(await providerState(), providerBefore, 'nothing written at the provider');

  const unknown = await repair('nobody@example.test');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^lockbridge account: .*account nobody@example\.test.*\n$/);
});

test('account repair with no bridge running, and with the provider unreachable', async () => {
  await w.stop();
  const ok = await repair(w.user, { LOCKBRIDGE_PASSPHRASE: WORLD_PASSPHRASE });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^INBOX: 3 at the provider, 3 local copies checked; nothing to repair/m);

  await w.provider.stopDovecot();
  try {
    const down = await repair(w.user, { LOCKBRIDGE_PASSPHRASE: WORLD_PASSPHRASE });
    assert.equal(down.status, 1, down.stdout);
    assert.match(down.stderr, /^lockbridge account: .*127\.0\.0\.1:\d+.*\n$/);
  } finally {
    await w.provider.startDovecot();
  }
});
