// Issue 20, point 4 (no full resync ever): signing out and back in. `lockbridge account remove E
// --keep-mail` stops syncing and forgets the provider password but keeps the account's folders,
// messages, flags, remote mappings and waiting local changes; `account add` with the same address
// and IMAP host signs it in again, and the next sync reconciles with what is stored: only mail new
// at the provider is downloaded. Everything as a user runs it: the real CLI, `serve` as a child
// process, real Dovecot behind a proxy that counts the bodies the provider sends
// (`* n FETCH (... BODY[] {size}`, as reuse.test.ts counts them).
// The same when the provider rebuilt the folder meanwhile (a new UIDVALIDITY): the existing remap
// by identity (Message-ID, size and header block) keeps every local UID.
// Old code: --keep-mail is unknown, and a plain remove deleted the mail, so adding the account
// again downloaded every message again (N + 1 bodies).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImapFlow } from 'imapflow';
import { startWorld, waitFor, WORLD_PASSPHRASE, type World } from '../../helpers/bridge-world.ts';
import { cliAsync } from '../../helpers/cli.ts';
import { assertNoSecrets, assertNoSecretsInStore } from '../../helpers/no-secrets.ts';
import { openStore } from '../../../app/store/store.ts';
import { silentLogger } from '../../../app/shared/logger.ts';

const N = 3;
let w: World;
let bodies = 0;
const outputs: string[] = [];

function mail(n: number): string {
  return (
    `From: a@example.test\r\nTo: me@example.test\r\nSubject: mail ${n}\r\nMessage-ID: <signout-${n}@example.test>\r\n` +
    `Date: Sat, 05 Dec 2026 10:00:0${n} +0000\r\n\r\nbody of mail ${n}\r\n${'filler line\r\n'.repeat(200)}`
  );
}

async function run(...args: string[]) {
  const r = await cliAsync(['--home', w.home, ...args], w.env);
  outputs.push(r.stdout, r.stderr);
  return r;
}

/** Subject → [local UID, flags without \Recent] of INBOX as the bridge serves it. */
async function localInbox(c: ImapFlow): Promise<Map<string, [number, string]>> {
  const out = new Map<string, [number, string]>();
  const lock = await c.getMailboxLock('INBOX');
  try {
    await c.noop();
    if (c.mailbox && c.mailbox.exists)
      for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true }))
        out.set(m.envelope!.subject!, [
          m.uid,
          [...(m.flags ?? [])]
            .filter((f) => f !== '\\Recent')
            .sort()
            .join(' '),
        ]);
  } finally {
    lock.release();
  }
  return out;
}

async function providerFlags(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of await w.providerMessages('INBOX'))
    out.set(/^Subject: (.*)$/m.exec(m.plain.toString('utf8'))![1]!.trim(), m.flags.join(' '));
  return out;
}

const addArgs = (imapHost = '127.0.0.1') => [
  'account',
  'add',
  '--email',
  w.user,
  '--imap',
  `${imapHost}:${w.imapProxy.port}`,
  '--smtp',
  `127.0.0.1:${w.smtpProxy.port}`,
  '--security',
  'none',
];

before(async () => {
  w = await startWorld();
  w.imapProxy.onServerLine((line) => {
    if (/^\* \d+ FETCH \(.*BODY\[\] \{\d+\}$/.test(line)) bodies++;
  });
});

after(async () => {
  await w?.close();
});

test('signed out keeping the mail, then added again: only the new message is downloaded, UIDs and flags kept', async () => {
  for (let i = 1; i <= N; i++) await w.provider.deliver(mail(i), { via: 'lmtp' });
  await w.start();
  let c = await w.localClient();
  const synced = await waitFor('the first sync', async () => {
    const m = await localInbox(c);
    return m.size === N ? m : null;
  });
  assert.equal(bodies, N, 'the first sync downloaded each body once');

  const out = await run('account', 'remove', w.user, '--keep-mail', '--yes');
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^Signed out of me@example\.test; its local mail is kept/m);
  assert.equal((await w.accountStatus()).connection, 'signed-out');
  const shown = await run('status');
  assert.match(
    shown.stdout,
    /^me@example\.test: signed-out, .*\n(?:.*\n)* {2}signed out: local mail kept and served/m,
  );
  const list = await run('account', 'list', '--json');
  assert.equal((JSON.parse(list.stdout) as Array<{ signedOut: boolean }>)[0]!.signedOut, true);
  assert.match(
    (await run('account', 'list')).stdout,
    /^me@example\.test .* signed out \(local mail kept\)$/m,
  );
  const connections = w.imapProxy.stats.connections;

  // Signed out, the kept mail is still served; a local change waits for the sign-in.
  assert.deepEqual(await localInbox(c), synced, 'the kept mail is served while signed out');
  await c.messageFlagsAdd({ subject: 'mail 1' }, ['\\Flagged']);
  await waitFor('the local change to wait', async () => {
    const s = (await w.accountStatus()) as { pending?: { changes: number } };
    return s.pending?.changes === 1;
  });
  // Meanwhile another device reads mail 2 and a new message arrives.
  const other = await w.providerClient();
  const lock = await other.getMailboxLock('INBOX');
  try {
    await other.messageFlagsAdd({ subject: 'mail 2' }, ['\\Seen']);
  } finally {
    lock.release();
  }
  await w.provider.deliver(mail(N + 1), { via: 'lmtp' });

  // The provider password is gone from the store (every row of every table) and nowhere else.
  await w.stop();
  const store = await openStore({ dir: w.home, passphrase: WORLD_PASSPHRASE, logger: silentLogger });
  try {
    assert.equal(store.accounts.getByEmail(w.user)!.providerPassword, '');
    assertNoSecretsInStore(store, [
      { what: 'provider password', value: w.env.LOCKBRIDGE_PROVIDER_PASSWORD! },
    ]);
  } finally {
    store.close();
  }
  assertNoSecrets({
    dirs: [w.home],
    outputs,
    secrets: [{ what: 'provider password', value: w.env.LOCKBRIDGE_PROVIDER_PASSWORD! }],
  });
  await w.start();
  c = await w.localClient();
  assert.equal((await w.accountStatus()).connection, 'signed-out', 'still signed out after a restart');
  assert.equal(w.imapProxy.stats.connections, connections, 'nothing contacted the provider while signed out');

  // Another IMAP host for the signed-out address: one line, nothing changed.
  const elsewhere = await run(...addArgs('localhost'));
  assert.equal(elsewhere.status, 1);
  assert.equal(elsewhere.stderr.trim().split('\n').length, 1, elsewhere.stderr);
  assert.match(
    elsewhere.stderr,
    /me@example\.test is signed out of 127\.0\.0\.1 .*account remove me@example\.test/,
  );
  assert.equal(w.imapProxy.stats.connections, connections, 'the other host was not tried');

  // Signing in again: same address, same host.
  bodies = 0;
  const again = await run(...addArgs());
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^Signed in again as me@example\.test/m);
  const after = await waitFor('the new message and the flags to converge', async () => {
    const m = await localInbox(c);
    const p = await providerFlags();
    return m.size === N + 1 && m.get('mail 2')?.[1] === '\\Seen' && p.get('mail 1')?.includes('\\Flagged')
      ? m
      : null;
  });
  for (let i = 1; i <= N; i++)
    assert.equal(after.get(`mail ${i}`)![0], synced.get(`mail ${i}`)![0], `mail ${i} kept its local UID`);
  assert.equal(after.get('mail 1')![1], '\\Flagged', 'the change made while signed out is kept');
  assert.equal(bodies, 1, `bodies downloaded after signing in again: ${bodies} (only the new one)`);
  const status = (await w.accountStatus()) as { connection: string; pending: { changes: number } };
  assert.equal(status.connection, 'online');
  assert.equal(status.pending.changes, 0, 'the waiting change was replayed');
  const listed = await run('account', 'list');
  assert.doesNotMatch(listed.stdout, /signed out/);
});

test('signed out while the provider rebuilt INBOX (new UIDVALIDITY): signed in again, matched by identity, nothing downloaded again', async () => {
  let c = await w.localClient();
  const before = await localInbox(c);
  assert.equal(before.size, N + 1);
  const out = await run('account', 'remove', w.user, '--keep-mail', '--yes');
  assert.equal(out.status, 0, out.stderr);
  const r = await w.provider.recreateMailbox(w.user, 'INBOX');
  assert.notEqual(r.newUidValidity, r.oldUidValidity);
  // recreateMailbox restarts Dovecot; Postfix's smtpd keeps its dead SASL connection to Dovecot's
  // auth service for the first AUTH after that (see oauth-e2e.test.ts), so it restarts too
  await w.provider.stopPostfix();
  await w.provider.startPostfix();
  await w.provider.deliver(mail(N + 2), { via: 'lmtp' });
  bodies = 0;
  const again = await run(...addArgs());
  assert.equal(again.status, 0, again.stderr);
  c = await w.localClient();
  const after = await waitFor('the new message after the remap', async () => {
    const m = await localInbox(c);
    return m.size === N + 2 ? m : null;
  });
  for (const [subject, [uid]] of before)
    assert.equal(after.get(subject)![0], uid, `${subject} kept its local UID`);
  assert.equal(bodies, 1, `bodies downloaded after signing in again: ${bodies} (only the new one)`);
});

test('a plain remove of a signed-out account deletes its local mail', async () => {
  const out = await run('account', 'remove', w.user, '--keep-mail', '--yes');
  assert.equal(out.status, 0, out.stderr);
  const removed = await run('account', 'remove', w.user, '--yes');
  assert.equal(removed.status, 0, removed.stderr);
  assert.match(removed.stdout, /^Removed me@example\.test and its local mail\./m);
  const list = await run('account', 'list', '--json');
  assert.deepEqual(JSON.parse(list.stdout), []);
});
