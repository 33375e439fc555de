// Initial sync of a mailbox holding plain, PGP/MIME, inline-PGP, signed, undecryptable and a
// 25 MB message, through the real inbound hook (app/crypto decrypt + served message); and a
// message the client appends to Sent reaching the provider PGP-encrypted (checked with gpg).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { localFor, msg, type LocalSide } from './setup.ts';
import type { SyncEngine } from '../../../app/sync/engine.ts';
import type { EncryptForUpload, ProcessInbound } from '../../../app/sync/types.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../../../app/crypto/pgp-mime-sign.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';

const FIX = join(import.meta.dirname, '../../fixtures/pgp');
const aliceSec = readFileSync(join(FIX, 'alice.sec.asc'), 'utf8');
const alicePub = readFileSync(join(FIX, 'alice.pub.asc'), 'utf8');
const bobSec = readFileSync(join(FIX, 'bob.sec.asc'), 'utf8');
const bobPub = readFileSync(join(FIX, 'bob.pub.asc'), 'utf8');
const BOB_FPR = 'ED05BDA311F3F760DF7AAAEA4147AB8E6DC79F66';

const alice = 'alice@example.test';
let p: Provider;
let local: LocalSide;
let engine: SyncEngine;
let bigSha = '';

const processInbound: ProcessInbound = async (raw) => {
  const result = await decryptMessage(raw, {
    decryptionKeys: [aliceSec],
    verificationKeys: [bobPub, alicePub],
  });
  return { served: buildServedMessage(raw, result) };
};
const encryptForUpload: EncryptForUpload = async (raw) =>
  encryptMessage(raw, { encryptionKeys: [alicePub], signingKeys: [aliceSec] });

let plainSeq = 0;
function plain(subject: string, body: string, from = 'Bob <bob@example.org>'): Buffer {
  return Buffer.from(msg(++plainSeq, { subject, body, from }));
}

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'pw');
  const deliver = (raw: Buffer) => p.deliver(raw, { to: [alice], via: 'lmtp' });
  await deliver(plain('plain one', 'just text'));
  await deliver(
    await encryptMessage(plain('pgp mime', 'secret pgp/mime body'), {
      encryptionKeys: [alicePub],
      signingKeys: [bobSec],
    }),
  );
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'secret inline body\r\n' }),
    encryptionKeys: await openpgp.readKey({ armoredKey: alicePub }),
  });
  await deliver(plain('inline pgp', String(armored).replace(/\r?\n/g, '\r\n')));
  await deliver(await signMessage(plain('signed only', 'signed text'), { signingKeys: [bobSec] }));
  await deliver(
    await encryptMessage(plain('for someone else', 'not for alice'), {
      encryptionKeys: [bobPub],
      signingKeys: [],
    }),
  );
  // 25 MB attachment
  const blob = randomBytes(25 * 1024 * 1024);
  bigSha = createHash('sha256').update(blob).digest('hex');
  const b64 = blob.toString('base64').replace(/.{76}/g, '$&\r\n');
  const big =
    `From: bob@example.org\r\nTo: ${alice}\r\nSubject: big one\r\nMessage-ID: <big@example.org>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n` +
    `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b--\r\n`;
  await p.appendRaw(alice, 'INBOX', big);
  local = await localFor(p, alice);
  engine = local.engine({ processInbound, encryptForUpload });
  engine.start();
});

after(async () => {
  await local?.close();
  await p?.close();
});

function servedBySubject(subject: string): string {
  const { store, accountId } = local;
  const inbox = store.mailboxes.getByName(accountId, 'INBOX')!;
  for (const m of store.messages.iterateMeta(inbox.id)) {
    const raw = store.messages.raw(m.blobId);
    if (store.messages.headers(m.blobId)?.subject === subject) return raw.toString('latin1');
  }
  throw new Error(`no local message "${subject}"`);
}

test('every kind of message is stored as the client must see it', async () => {
  await engine.whenSynced(120_000);
  const inbox = local.store.mailboxes.getByName(local.accountId, 'INBOX')!;
  assert.equal(local.store.mailboxes.status(inbox.id).messages, 6);

  const p1 = servedBySubject('plain one');
  assert.match(p1, /X-Lockbridge-Encryption: none/);
  assert.match(p1, /just text/);

  const p2 = servedBySubject('pgp mime'); // protected Subject restored from inside
  assert.match(p2, /X-Lockbridge-Encryption: encrypted/);
  assert.match(p2, new RegExp(`X-Lockbridge-Signature: valid; signer=${BOB_FPR}`));
  assert.match(p2, /secret pgp\/mime body/);
  assert.doesNotMatch(p2, /BEGIN PGP MESSAGE/);

  const p3 = servedBySubject('inline pgp');
  assert.match(p3, /X-Lockbridge-Encryption: encrypted/);
  assert.match(p3, /secret inline body/);

  const p4 = servedBySubject('signed only');
  assert.match(p4, /X-Lockbridge-Encryption: none/);
  assert.match(p4, new RegExp(`X-Lockbridge-Signature: valid; signer=${BOB_FPR}`));

  const p5 = servedBySubject('...'); // obscured outer subject: not decryptable, so it stays
  assert.match(p5, /X-Lockbridge-Encryption: failed/);
  assert.match(p5, /X-Lockbridge-Reason: /);
  assert.match(p5, /BEGIN PGP MESSAGE/);

  const p6 = Buffer.from(servedBySubject('big one'), 'latin1');
  assert.ok(p6.length > 25 * 1024 * 1024);
  const a = analyzeMessage(p6);
  const part = a.parts.find((x) => x.section === '2')!;
  const body = Buffer.from(p6.subarray(part.bodyStart, part.bodyEnd).toString('latin1'), 'base64');
  assert.equal(createHash('sha256').update(body).digest('hex'), bigSha);
});

test('a message the client appends to Sent reaches the provider PGP-encrypted (gpg decrypts it)', async () => {
  const { store, accountId } = local;
  const sent = store.mailboxes.getByName(accountId, 'Sent')!;
  const raw = Buffer.from(
    msg(7, { subject: 'my sent mail', body: 'what I wrote to bob', from: alice, to: 'bob@example.org' }),
  );
  store.messages.insert(sent.id, { raw, analysis: analyzeMessage(raw), flags: ['\\Seen'] });
  await engine.whenSynced(60_000);
  const c = await p.imapClient(alice);
  let remote: Buffer | undefined;
  try {
    const lock = await c.getMailboxLock('Sent');
    try {
      for await (const m of c.fetch('1:*', { source: true })) remote = m.source;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  assert.ok(remote);
  const text = remote.toString('latin1');
  assert.match(text, /Content-Type: multipart\/encrypted/i);
  assert.doesNotMatch(text, /what I wrote to bob/);
  const armored = text.slice(
    text.indexOf('-----BEGIN PGP MESSAGE-----'),
    text.indexOf('-----END PGP MESSAGE-----') + 25,
  );
  const home = mkdtempSync(join(tmpdir(), 'lb-gpg-'));
  try {
    const gpg = (args: string[], input?: string) =>
      execFileSync(
        'gpg',
        ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
        {
          input,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      ).toString('utf8');
    gpg(['--import'], aliceSec);
    const inner = gpg(['--decrypt'], armored);
    assert.match(inner, /what I wrote to bob/);
    assert.match(inner, /my sent mail/); // protected headers inside
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
