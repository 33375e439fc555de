// "Encrypt my mailbox at rest": the provider ends up holding only PGP/MIME messages, each of
// which real gpg decrypts with the user's key back to the original; local UIDs and bytes stay.
// With a full quota the conversion stops with a clear status and no message is lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { localFor, msg, type LocalSide } from './setup.ts';
import type { EncryptForUpload, ProcessInbound } from '../../../app/sync/types.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';

const FIX = join(import.meta.dirname, '../../fixtures/pgp');
const aliceSec = readFileSync(join(FIX, 'alice.sec.asc'), 'utf8');
const alicePub = readFileSync(join(FIX, 'alice.pub.asc'), 'utf8');
const alice = 'alice@example.test';

const processInbound: ProcessInbound = async (raw) => ({
  served: buildServedMessage(raw, await decryptMessage(raw, { decryptionKeys: [aliceSec] })),
});
const encryptForUpload: EncryptForUpload = async (raw) =>
  encryptMessage(raw, { encryptionKeys: [alicePub], signingKeys: [aliceSec] });

let gpgHome: string;
function gpgDecrypt(armored: string): string {
  return execFileSync(
    'gpg',
    ['--homedir', gpgHome, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--decrypt'],
    { input: armored, stdio: ['pipe', 'pipe', 'pipe'] },
  ).toString('utf8');
}

async function providerMessages(p: Provider, box: string): Promise<Array<{ uid: number; raw: string }>> {
  const c = await p.imapClient(alice);
  try {
    const lock = await c.getMailboxLock(box);
    try {
      const out: Array<{ uid: number; raw: string }> = [];
      if (c.mailbox && c.mailbox.exists)
        for await (const m of c.fetch('1:*', { uid: true, source: true }, { uid: true }))
          out.push({ uid: m.uid, raw: m.source?.toString('latin1') ?? '' });
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

function localSnapshot(local: LocalSide): Map<string, string> {
  const out = new Map<string, string>();
  for (const mb of local.store.mailboxes.list(local.accountId))
    for (const m of local.store.messages.iterateMeta(mb.id))
      out.set(
        `${mb.name}/${m.uid}`,
        createHash('sha256').update(local.store.messages.raw(m.blobId)).digest('hex'),
      );
  return out;
}

before(() => {
  gpgHome = mkdtempSync(join(tmpdir(), 'lb-gpg-'));
  execFileSync('gpg', ['--homedir', gpgHome, '--batch', '--import'], {
    input: aliceSec,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
});
after(() => rmSync(gpgHome, { recursive: true, force: true }));

test('the provider keeps only ciphertext that gpg decrypts to the originals', async () => {
  const p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  const local = await localFor(p, alice);
  try {
    const bodies = new Map<string, string>();
    for (let i = 1; i <= 6; i++) {
      const subject = `at rest ${i}`;
      const body = `original body number ${i} ✓`;
      bodies.set(subject, body);
      await p.deliver(msg(i, { subject, body }), { to: [alice], via: 'lmtp' });
    }
    await p.appendRaw(alice, 'Archive', msg(50, { subject: 'archived plain', body: 'archived body' }), [
      '\\Seen',
    ]);
    bodies.set('archived plain', 'archived body');
    // already encrypted: must stay exactly as it is
    const pre = await encryptMessage(
      Buffer.from(msg(60, { subject: 'already pgp', body: 'was encrypted' })),
      {
        encryptionKeys: [alicePub],
        signingKeys: [],
      },
    );
    await p.deliver(pre, { to: [alice], via: 'lmtp' });

    const first = local.engine({ processInbound, encryptForUpload, encryptAtRest: false });
    first.start();
    await first.whenSynced(60_000);
    await first.stop();
    const before = localSnapshot(local);
    const preRemote = (await providerMessages(p, 'INBOX')).find((m) => m.raw.includes('Subject: ...'));

    const events: Array<{ converted: number; error: string | null }> = [];
    const engine = local.engine({ processInbound, encryptForUpload, encryptAtRest: true });
    engine.on((e) => {
      if (e.type === 'encrypt-at-rest') events.push({ converted: e.converted, error: e.error });
    });
    engine.start();
    await engine.whenSynced(120_000);
    assert.ok(
      events.some((e) => e.converted === 7 && e.error === null),
      JSON.stringify(events),
    );
    assert.deepEqual(localSnapshot(local), before); // same UIDs, same bytes, no duplicates

    const seen = new Set<string>();
    for (const box of ['INBOX', 'Archive']) {
      for (const m of await providerMessages(p, box)) {
        assert.match(m.raw, /Content-Type: multipart\/encrypted/i, `plaintext left in ${box}`);
        const armored = m.raw.slice(
          m.raw.indexOf('-----BEGIN PGP MESSAGE-----'),
          m.raw.indexOf('-----END PGP MESSAGE-----') + 25,
        );
        const inner = gpgDecrypt(armored);
        const subject = /Subject: (.*)\r?\n/.exec(inner)?.[1]?.trim() ?? '';
        if (subject === 'already pgp') continue;
        assert.ok(bodies.has(subject), `unexpected message ${subject}`);
        assert.ok(inner.includes(bodies.get(subject)!), `gpg output of ${subject} lacks the original body`);
        seen.add(subject);
      }
    }
    assert.deepEqual([...seen].sort(), [...bodies.keys()].sort());
    // the message that was already PGP/MIME was not touched
    assert.ok(preRemote);
    assert.ok(
      (await providerMessages(p, 'INBOX')).some((m) => m.uid === preRemote.uid && m.raw === preRemote.raw),
    );
  } finally {
    await local.close();
    await p.close();
  }
});

test('a full quota stops the conversion with a clear status and keeps every message', async () => {
  const p = await startProvider({ postfix: false, quota: '60K' });
  await p.addUser(alice, 'pw');
  const local = await localFor(p, alice);
  try {
    // ~40 KB of mail: converting needs room for a bigger copy before the original goes.
    for (let i = 1; i <= 8; i++)
      await p.deliver(msg(i, { subject: `big ${i}`, body: 'y'.repeat(5000) }), { to: [alice], via: 'lmtp' });
    const errors: string[] = [];
    const engine = local.engine({ processInbound, encryptForUpload, encryptAtRest: true });
    engine.on((e) => {
      if (e.type === 'encrypt-at-rest' && e.error) errors.push(e.error);
    });
    engine.start();
    await engine.whenSynced(120_000);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /full|quota/i);
    assert.match(engine.status().lastError ?? '', /quota|full/i);
    const remote = await providerMessages(p, 'INBOX');
    assert.equal(remote.length, 8, 'no message lost or duplicated at the provider');
    const plain = remote.filter((m) => !/multipart\/encrypted/i.test(m.raw));
    assert.ok(plain.length > 0, 'the quota should have stopped the conversion');
    const inbox = local.store.mailboxes.getByName(local.accountId, 'INBOX')!;
    assert.equal(local.store.mailboxes.status(inbox.id).messages, 8);
  } finally {
    await local.close();
    await p.close();
  }
});

test('a message another device only marked \\Deleted is still at the provider after the conversion', async () => {
  const p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  const local = await localFor(p, alice);
  try {
    await p.deliver(msg(1, { subject: 'plain one' }), { to: [alice], via: 'lmtp' });
    // already PGP/MIME (left as it is by the conversion) and marked \Deleted by the phone, which
    // may still undo that: only the device that marked it may expunge it
    const pre = await encryptMessage(Buffer.from(msg(2, { subject: 'marked' })), {
      encryptionKeys: [alicePub],
      signingKeys: [],
    });
    await p.appendRaw(alice, 'INBOX', pre, ['\\Deleted']);
    // a plaintext message marked \Deleted too: its encrypted copy keeps the mark, and stays
    await p.appendRaw(alice, 'INBOX', msg(3, { subject: 'plain marked' }), ['\\Deleted']);

    const engine = local.engine({ processInbound, encryptForUpload, encryptAtRest: true });
    const converted: number[] = [];
    engine.on((e) => {
      if (e.type === 'encrypt-at-rest' && e.remaining === 0) converted.push(e.converted);
    });
    engine.start();
    await engine.whenSynced(120_000);
    assert.ok(converted.includes(2), JSON.stringify(converted));

    const c = await p.imapClient(alice);
    try {
      await c.mailboxOpen('INBOX', { readOnly: true });
      const all = (await c.search({ all: true }, { uid: true })) || [];
      const marked = (await c.search({ deleted: true }, { uid: true })) || [];
      assert.equal(all.length, 3, 'every message is still at the provider');
      assert.equal(marked.length, 2, 'both marked messages keep their mark');
    } finally {
      await c.logout();
    }
  } finally {
    await local.close();
    await p.close();
  }
});
