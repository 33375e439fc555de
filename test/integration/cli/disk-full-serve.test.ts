// Issue 13 item 6, end to end: the real `lockbridge serve` with its data directory on a small tmpfs
// (root only: mount), real Dovecot as the provider, real IMAP and SMTP clients. When the disk fills,
// the bridge keeps running and keeps serving what is stored; an APPEND gets `NO [OVERQUOTA]`, a
// submission SMTP 452, `status` names the full disk; once space is freed everything works again by
// itself (the refused message appended again reaches the provider) and the store is intact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../app/store/store.ts';
import { storeHealth } from '../../../app/store/health.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startWorld, WORLD_PASSPHRASE, type World, waitFor } from '../../helpers/bridge-world.ts';
import { cliAsync } from '../../helpers/cli.ts';
import { fillDisk, hashNoise } from '../../helpers/full-disk.ts';

const root = mkdtempSync(join(tmpdir(), 'lb-diskfull-serve-'));
const mount = join(root, 'disk');
const home = join(mount, 'home');
const filler = join(mount, 'filler');
let mounted = false;
let w: World;

before(async () => {
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mount]);
  mounted = true;
  mkdirSync(home, { mode: 0o700 });
  w = await startWorld({ home, pollSeconds: 1 });
});

after(async () => {
  try {
    await w?.close();
  } finally {
    if (mounted) execFileSync('umount', [mount]);
    rmSync(root, { recursive: true, force: true });
  }
});

function message(subject: string, body: string): Buffer {
  return Buffer.from(
    `From: Someone <someone@example.net>\r\nTo: ${w.user}\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${createHash('sha256').update(subject).digest('hex').slice(0, 16)}@example.net>\r\n` +
      `Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\n${body}\r\n`,
  );
}

test('a full disk under the data directory: refused writes with clear replies, reading goes on, recovery by itself', async () => {
  const p = await w.providerClient();
  await p.append('INBOX', message('before the disk filled', 'stored while there was room'));
  const bridge = await w.start();
  const c = await w.localClient();
  await waitFor('the provider message stored locally', async () => {
    const st = await c.status('INBOX', { messages: true });
    return st && (st.messages ?? 0) >= 1;
  });

  fillDisk(filler);

  // IMAP: APPEND of new mail is refused with OVERQUOTA (a big one needs new database pages).
  type ImapError = Error & { serverResponseCode?: string; response?: string };
  const appendUntilRefused = async (): Promise<ImapError | null> => {
    for (let i = 0; i < 10; i++) {
      try {
        await c.append('INBOX', message(`refused ${i}`, hashNoise(2 * 1024 * 1024, `refused ${i}`)));
      } catch (err) {
        return err as ImapError;
      }
    }
    return null;
  };
  const refused = await appendUntilRefused();
  assert.ok(refused, 'an APPEND on a full disk was refused');
  assert.match(`${refused.serverResponseCode ?? ''} ${refused.response ?? ''}`, /OVERQUOTA/, String(refused));

  // What is stored is still served.
  const lock = await c.getMailboxLock('INBOX');
  try {
    const got = await c.fetchOne('1', { source: true });
    assert.ok(got && got.source?.includes('stored while there was room'));
  } finally {
    lock.release();
  }

  // SMTP: a submission is refused with 452 (nothing is lost: the client keeps the message).
  await assert.rejects(
    w.submit({
      from: w.user,
      to: w.user,
      subject: 'sent on a full disk',
      text: hashNoise(2 * 1024 * 1024, 'smtp'),
    }),
    (err: Error & { responseCode?: number }) => {
      assert.equal(err.responseCode, 452, String(err));
      return true;
    },
  );

  // status names the disk and the data directory; the bridge still runs.
  const st = await cliAsync(['--home', w.home, 'status'], { LOCKBRIDGE_PASSPHRASE: '' });
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, new RegExp(`Disk full: .*${mount}.*${home}`), st.stdout);
  process.kill(bridge.pid, 0);

  // Space freed: writes work again by themselves, and the mail reaches the provider.
  rmSync(filler);
  await waitFor('APPEND accepted again', async () => {
    await c.append('INBOX', message('after space was freed', hashNoise(512 * 1024, 'after')));
    return true;
  });
  await waitFor('the new message at the provider', async () =>
    (await w.providerMessages('INBOX')).some((m) => m.plain.includes('Subject: after space was freed')),
  );
  const again = await cliAsync(['--home', w.home, 'status'], { LOCKBRIDGE_PASSPHRASE: '' });
  assert.doesNotMatch(again.stdout, /Disk full/, again.stdout);
  await c.logout();
  await p.logout();

  await w.stop();
  assert.equal(bridge.stderr().includes('unexpected error'), false, bridge.stderr());
  const store = await openStore({ dir: w.home, passphrase: WORLD_PASSPHRASE, logger: silentLogger });
  try {
    assert.deepEqual((await storeHealth(store)).integrity, ['ok']);
  } finally {
    store.close();
  }
});
