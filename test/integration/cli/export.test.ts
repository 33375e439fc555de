// Issue 17, item 6: `lockbridge export` in the user's world (real Dovecot, the real `serve`, the
// real CLI). Mail put at the provider — a plain one, one with no line break at its end, one with
// `From ` / `>From ` lines, one encrypted and signed that the bridge decrypts — is exported through
// the running bridge to DIR and, with no bridge running, to FILE.mbox; both are imported into a
// fresh store with `lockbridge import` and served again: every message byte for byte as the first
// bridge served it. Hostile folder names never lead a file outside DIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { ImapFlow } from 'imapflow';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { openStore } from '../../../app/store/store.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import { splitMbox } from '../../../app/mime/mbox.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { startWorld, WORLD_PASSPHRASE, type World, waitFor } from '../../helpers/bridge-world.ts';
import { cliAsync, serve, tempHome } from '../../helpers/cli.ts';

let w: World;
let out: { dir: string; cleanup(): void };
before(async () => {
  w = await startWorld({ pollSeconds: 1 });
  out = tempHome('lb-export-');
});
after(async () => {
  await w?.close();
  out?.cleanup();
});

const lb = (args: string[], env: Record<string, string | undefined> = w.env) =>
  cliAsync(['--home', w.home, ...args], env);

/** Every message of a mailbox as an IMAP client is served it: uid → bytes. */
async function served(c: ImapFlow, mailbox: string): Promise<Map<number, Buffer>> {
  const got = new Map<number, Buffer>();
  const lock = await c.getMailboxLock(mailbox, { readOnly: true });
  try {
    if (c.mailbox && c.mailbox.exists)
      for await (const m of c.fetch('1:*', { uid: true, source: true })) got.set(m.uid, m.source!);
  } finally {
    lock.release();
  }
  return got;
}

async function localServed(mailbox: string): Promise<Map<number, Buffer>> {
  const c = await w.localClient();
  try {
    return await served(c, mailbox);
  } finally {
    await c.logout().catch(() => {});
  }
}

const sorted = (bufs: Iterable<Buffer>) => [...bufs].map((b) => b.toString('latin1')).sort();

function mail(subject: string, body: string): string {
  return (
    `From: Friend <friend@example.test>\r\nTo: ${w.user}\r\nSubject: ${subject}\r\n` +
    `Date: Sat, 05 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n${body}`
  );
}

let inbox: Map<number, Buffer>;

test('export through the running bridge (DIR) and without one (FILE.mbox) round-trips byte for byte', async () => {
  const armored = (await lb(['keys', 'export', w.user, '--secret'])).stdout;
  const secret = await encryptMessage(
    Buffer.from(
      `From: Me <${w.user}>\r\nTo: ${w.user}\r\nSubject: secret plans\r\nDate: Sat, 05 Dec 2026 11:00:00 +0000\r\n` +
        `Message-ID: <secret@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe secret body text\r\n`,
    ),
    { encryptionKeys: [armored], signingKeys: [armored] },
  );
  await w.provider.appendRaw(w.user, 'INBOX', mail('plain', 'a plain body\r\n'));
  await w.provider.appendRaw(w.user, 'INBOX', mail('no final newline', 'first line\r\nlast line'));
  await w.provider.appendRaw(
    w.user,
    'INBOX',
    mail('from lines', 'From the start of a line\r\n>From quoted\r\n\r\nFrom after a blank line\r\n'),
  );
  await w.provider.appendRaw(w.user, 'INBOX', secret);
  await w.start();
  inbox = await waitFor('the four messages served locally', async () => {
    const m = await localServed('INBOX');
    return m.size === 4 && m;
  });
  const texts = sorted(inbox.values());
  const dec = texts.find((t) => t.includes('the secret body text'));
  assert.ok(dec, 'the encrypted message is served decrypted');
  assert.match(dec, /X-Lockbridge-Signature: valid/);
  assert.ok(!texts.some((t) => t.includes('BEGIN PGP MESSAGE')));
  assert.ok(
    texts.some((t) => t.endsWith('last line')),
    'served without a final line break',
  );

  // 1. through the running bridge, every folder, into a new folder given relative to the cwd
  const dir = join(out.dir, 'mail');
  const r1 = await cliAsync(
    ['--home', w.home, 'export', '--account', w.user, 'mail'],
    w.env,
    undefined,
    out.dir,
  );
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(
    r1.stdout,
    new RegExp(`^Exported 4 message\\(s\\) from \\d+ folder\\(s\\) to ${dir} \\(\\.eml files\\)`),
  );
  for (const [uid, bytes] of inbox) assert.deepEqual(readFileSync(join(dir, 'INBOX', `${uid}.eml`)), bytes);
  assert.deepEqual(readdirSync(join(dir, 'INBOX')).sort(), [...inbox.keys()].map((u) => `${u}.eml`).sort());
  assert.ok(existsSync(join(dir, 'Sent')), 'every folder gets its directory');
  assert.equal(lstatSync(join(dir, 'INBOX', `${[...inbox.keys()][0]}.eml`)).mode & 0o777, 0o600);

  // refused, with one clear line, and nothing touched
  const again = await lb(['export', '--account', w.user, dir]);
  assert.equal(again.status, 1);
  assert.match(
    again.stderr,
    /^lockbridge export: .*mail already exists and is not empty: nothing was written.*\n$/,
  );
  const who = await lb(['export', '--account', 'nobody@example.test', join(out.dir, 'x')]);
  assert.equal(who.status, 1);
  assert.match(who.stderr, /^lockbridge export: account nobody@example\.test not found\n$/);
  const box = await lb(['export', '--account', w.user, '--mailbox', 'Nope', join(out.dir, 'y.mbox')]);
  assert.equal(box.status, 1);
  assert.match(
    box.stderr,
    /^lockbridge export: no folder "Nope" in me@example\.test \(its folders: .*INBOX.*\)\n$/,
  );
  assert.ok(
    !existsSync(join(out.dir, 'x')) && !existsSync(join(out.dir, 'y.mbox')),
    'nothing created on an error',
  );
  const deep = await lb(['export', '--account', w.user, join(out.dir, 'missing', 'deeper')]);
  assert.equal(deep.status, 1);
  assert.match(deep.stderr, /^lockbridge export: the folder .*missing does not exist\n$/);
  writeFileSync(join(out.dir, 'a-file'), 'x');
  const file = await lb(['export', '--account', w.user, join(out.dir, 'a-file')]);
  assert.equal(file.status, 1);
  assert.match(file.stderr, /a-file is a file, not a folder/);

  // 2. no bridge running: the command opens the store itself
  await w.stop();
  const mbox = join(out.dir, 'inbox.mbox');
  const r2 = await lb(['export', '--account', w.user, '--mailbox', 'inbox', mbox]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /^Exported 4 message\(s\) from 1 folder\(s\) to .*inbox\.mbox \(mbox file\)/);
  const text = readFileSync(mbox, 'latin1');
  assert.match(text, /^From friend@example\.test \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n/);
  assert.match(text, /\r\n>From the start of a line\r\n>>From quoted\r\n\r\n>From after a blank line\r\n/);

  // 3. a fresh store: import both, serve it, compare what is served
  const fresh = tempHome('lb-export-fresh-');
  try {
    const other = 'fresh@example.test';
    await w.provider.addUser(other, 'fresh-pw');
    const env = {
      LOCKBRIDGE_PASSPHRASE: 'fresh passphrase',
      LOCKBRIDGE_LOCAL_PASSWORD: 'fresh-local',
      LOCKBRIDGE_PROVIDER_PASSWORD: 'fresh-pw',
    };
    const f = (args: string[]) => cliAsync(['--home', fresh.dir, ...args], env);
    for (const args of [
      ['init'],
      [
        'account',
        'add',
        '--email',
        other,
        '--imap',
        `127.0.0.1:${w.provider.imapPort}`,
        '--smtp',
        `127.0.0.1:${w.provider.smtpPort}`,
        '--security',
        'none',
      ],
      ['import', '--account', other, '--mailbox', 'FromDir', join(dir, 'INBOX')],
      ['import', '--account', other, '--mailbox', 'FromMbox', mbox],
    ]) {
      const r = await f(args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const b = await serve(fresh.dir, ['--offline', '--imap-port', '0', '--smtp-port', '0'], env);
    try {
      const caPem = (JSON.parse((await f(['credentials', '--json'])).stdout) as { caPem: string }).caPem;
      const c = new ImapFlow({
        host: '127.0.0.1',
        port: b.ready.imap,
        secure: false,
        doSTARTTLS: true,
        tls: { ca: [caPem], servername: 'localhost' },
        auth: { user: other, pass: 'fresh-local' },
        logger: false,
      });
      c.on('error', () => {});
      await c.connect();
      try {
        assert.deepEqual(sorted((await served(c, 'FromDir')).values()), texts);
        assert.deepEqual(sorted((await served(c, 'FromMbox')).values()), texts);
      } finally {
        await c.logout().catch(() => {});
      }
    } finally {
      await b.stop();
    }
  } finally {
    fresh.cleanup();
  }
});

test('hostile folder names never lead a file outside DIR', async () => {
  if (!w.bridge) await w.start();
  const p = await w.providerClient();
  for (const name of ['x\\y', 'a:b', 'C:']) {
    await p.mailboxCreate(name);
    await w.provider.appendRaw(w.user, name, mail(`in ${name}`, `body in ${name}\r\n`));
  }
  const c = await w.localClient();
  try {
    await waitFor('the provider folders mirrored with their messages', async () => {
      for (const n of ['x\\y', 'a:b', 'C:']) {
        const st = await c.status(n, { messages: true });
        if (!st || (st.messages ?? 0) < 1) return false;
      }
      return true;
    });
  } finally {
    await c.logout().catch(() => {});
  }
  // Names Dovecot and the local IMAP server refuse, but another provider (another delimiter)
  // could hand the sync: put into the store as the sync would.
  await w.stop();
  const store = await openStore({ dir: w.home, passphrase: WORLD_PASSPHRASE, logger: silentLogger });
  try {
    const account = store.accounts.require(w.user);
    for (const name of ['..', '../x', 'a/../../b']) {
      const box = store.mailboxes.ensure(account.id, name, { origin: 'sync' });
      const raw = Buffer.from(mail(`in ${name}`, `body in ${name}\r\n`));
      store.messages.insert(box.id, { raw, analysis: analyzeMessage(raw) }, 'sync');
    }
  } finally {
    store.close();
  }
  const parent = join(out.dir, 'hostile');
  mkdirSync(parent);
  const dir = join(parent, 'dir');
  const r = await lb(['export', '--account', w.user, dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(parent), ['dir'], 'nothing beside DIR');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      assert.ok(!e.isSymbolicLink(), full);
      assert.ok(!relative(dir, realpathSync(full)).startsWith('..'), `${full} is outside ${dir}`);
      if (e.isDirectory()) walk(full);
      else files.push(relative(dir, full));
    }
  };
  walk(dir);
  const byFolder = (rel: string) =>
    readdirSync(join(dir, rel))
      .filter((n) => n.endsWith('.eml'))
      .map((n) => readFileSync(join(dir, rel, n), 'latin1'));
  for (const [name, rel] of [
    ['x\\y', 'x%5Cy'],
    ['a:b', 'a%3Ab'],
    ['C:', 'C%3A'],
    ['..', '%2E%2E'],
    ['../x', '%2E%2E/x'],
    ['a/../../b', 'a/%2E%2E/%2E%2E/b'],
  ] as const) {
    const msgs = byFolder(rel);
    assert.equal(msgs.length, 1, `${name} → ${rel}: ${files.join(' ')}`);
    assert.match(msgs[0]!, new RegExp(`body in ${name.replace(/[\\.]/g, '\\$&')}`));
  }
});

test(
  'a full disk, a read-only file system: one clear line each; an mbox keeps only whole messages',
  { skip: process.getuid?.() === 0 ? false : 'needs root (mount)' },
  async () => {
    if (w.bridge) await w.stop();
    const big = Array.from({ length: 3 }, (_, i) =>
      Buffer.from(mail(`big ${i}`, `${`line ${i} ${'x'.repeat(70)}\r\n`.repeat(40)}`)),
    );
    const store = await openStore({ dir: w.home, passphrase: WORLD_PASSPHRASE, logger: silentLogger });
    try {
      const box = store.mailboxes.ensure(store.accounts.require(w.user).id, 'Big', { origin: 'sync' });
      for (const raw of big) store.messages.insert(box.id, { raw, analysis: analyzeMessage(raw) }, 'sync');
    } finally {
      store.close();
    }
    const full = join(out.dir, 'full');
    const ro = join(out.dir, 'ro');
    mkdirSync(full);
    mkdirSync(ro);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]);
      try {
        // one 4 KiB page left: the first message fits, the second does not
        const st = statfsSync(full);
        writeFileSync(join(full, 'filler'), Buffer.alloc(st.bavail * st.bsize - 4096));
        const mbox = join(full, 'big.mbox');
        const r = await lb(['export', '--account', w.user, '--mailbox', 'Big', mbox]);
        assert.equal(r.status, 1);
        assert.match(
          r.stderr,
          /^lockbridge export: the disk holding .*big\.mbox is full \(1 of 3 message\(s\) written; what was written is left in .*big\.mbox\)\n$/,
        );
        const left = splitMbox(readFileSync(mbox)).map((m) => m.raw.toString('latin1'));
        assert.deepEqual(left, [big[0]!.toString('latin1')], 'only the whole first message is left');
        rmSync(mbox);
        const r2 = await lb(['export', '--account', w.user, '--mailbox', 'Big', join(full, 'dir')]);
        assert.equal(r2.status, 1);
        assert.match(
          r2.stderr,
          /^lockbridge export: the disk holding .*dir is full \(1 of 3 message\(s\) written/,
        );
        const r3 = await lb(['export', '--account', w.user, join(ro, 'dir')]);
        assert.equal(r3.status, 1);
        assert.match(
          r3.stderr,
          /^lockbridge export: cannot write to .*ro\/dir: the file system is read-only\n$/,
        );
      } finally {
        execFileSync('umount', [ro]);
      }
    } finally {
      execFileSync('umount', [full]);
    }
  },
);
