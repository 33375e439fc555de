/**
 * Issue 14 item 5: a key known only from gossip, on the product's paths: a real bridge (initHome,
 * createBridge, serve: the runtime wires the SMTP submission), a group mail made by GnuPG whose
 * protected part gossips a key for Carol, processed by the product's inbound factory and stored as
 * sync stores it, then mail submitted over the bridge's SMTP server with nodemailer; the outbox
 * copies say what would go to the provider.
 *
 * Autocrypt Level 1 (README "Encryption: when Lockbridge encrypts"): gossip only → 'discourage' →
 * not encrypted by default; encrypted when replying to an encrypted message ('encrypt') or when the
 * user asked (encrypt: always for the contact). A key the person sends herself (her Autocrypt
 * header) replaces a gossiped one at once and is the one encrypted to.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Bridge } from '../../../app/index.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { StoreKeyringRepo } from '../../../app/store/repos/keyring.ts';
import { AutocryptService } from '../../../app/keys/autocrypt/service.ts';
import { inlineEngine } from '../../../app/crypto/engine.ts';
import { createInboundProcessor } from '../../../app/control/adapters/inbound.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';
import type { OutboxCopyEnvelope } from '../../../app/outgoing/queued-copy.ts';
import { GpgHome } from '../../helpers/crypto/gpg.ts';
import { wrapPgpMime } from '../../helpers/crypto/keys.ts';
import { addStoreAccount, bridgeSmtp, initBridge } from '../../helpers/runtime-bridge.ts';

const home = mkdtempSync(join(tmpdir(), 'lb-gossip-only-'));
const PASS = 'gossip only passphrase';
const LOCAL = 'gossip-only-local';
const ME = 'me@example.test';
const CAROL = 'carol@example.test';
let bridge: Bridge;
let smtpPort = 0;
let caPem = '';
let accountId = 0;
let g: GpgHome;
const fpr: Record<string, string> = {};

/** The encryption subkey ID of a gpg key (what a PKESK names). */
function encKeyId(fingerprint: string): string {
  const out = g.gpg(['--with-colons', '--list-keys', fingerprint]).stdout.toString();
  const sub = out.split('\n').find((l) => l.startsWith('sub:') && l.split(':')[11]!.includes('e'));
  return sub!.split(':')[4]!.toUpperCase();
}

function pkeskKeyIds(armored: string): string[] {
  const out = g.gpg(['--list-packets'], armored).stdout.toString();
  return [...out.matchAll(/:pubkey enc packet: .*keyid ([0-9A-F]{16})/g)].map((m) => m[1]!);
}

async function inbound(raw: Buffer): Promise<void> {
  const repo = new StoreKeyringRepo(bridge.store);
  const autocrypt = new AutocryptService({ repo, keyring: bridge.keyring });
  const process = createInboundProcessor({
    keyring: bridge.keyring,
    autocrypt,
    engine: inlineEngine,
    logger: silentLogger,
  });
  const { served } = await process(raw, { accountId, email: ME, remoteMailbox: 'INBOX' });
  const inbox = bridge.store.mailboxes.ensure(accountId, 'INBOX');
  bridge.store.messages.insert(inbox.id, { raw: served, analysis: analyzeMessage(served) });
}

async function send(subject: string, extra: Record<string, string> = {}) {
  const info = await bridgeSmtp(smtpPort, caPem, ME, LOCAL).sendMail({
    from: ME,
    to: CAROL,
    subject,
    text: 'hello Carol\n',
    headers: extra,
  });
  assert.match(info.response, /^250/);
  const copies = bridge.store.outbox
    .list(accountId)
    .filter((r) => (r.envelope as OutboxCopyEnvelope).messageId === info.messageId);
  assert.equal(copies.length, 1);
  const env = copies[0]!.envelope as OutboxCopyEnvelope;
  return { protection: env.protection, raw: bridge.store.outbox.raw(copies[0]!.id)!.toString() };
}

before(async () => {
  ({ bridge, caPem } = await initBridge({ home, passphrase: PASS, localPassword: LOCAL, offline: true }));
  accountId = addStoreAccount(bridge, ME).id;
  await bridge.keyring.own.generate(ME);
  smtpPort = (await bridge.serve({ imapPort: 0, smtpPort: 0, control: false })).smtp;

  g = new GpgHome();
  fpr['alice'] = g.genKey('Alice <alice@example.test>');
  fpr['gossiped'] = g.genKey('Carol (as gossiped) <carol@example.test>');
  fpr['carol'] = g.genKey('Carol <carol@example.test>');
  g.importKey(bridge.keyring.own.exportPublic(ME));
  await bridge.keyring.importKeys(g.exportPublic(fpr['alice']!), { source: 'manual' });

  // Alice's encrypted group mail to the user and Carol gossips a key for Carol (Autocrypt-Gossip
  // inside the protected part, as Thunderbird and Delta Chat send it)
  const keydata = g.gpg(['--export', fpr['gossiped']!]).stdout.toString('base64');
  const b = '------------group0123456789';
  const entity =
    `Content-Type: multipart/mixed; boundary="${b}";\r\n protected-headers="v1"\r\n` +
    `Subject: Team dinner\r\nFrom: Alice <alice@example.test>\r\nTo: ${ME}, ${CAROL}\r\n` +
    `Autocrypt-Gossip: addr=${CAROL}; keydata=\r\n ${keydata.replace(/(.{76})/g, '$1\r\n ')}\r\n\r\n` +
    `--${b}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nFriday at 8?\r\n--${b}--\r\n`;
  const enc = g.gpg(
    [
      '--armor',
      '--local-user',
      fpr['alice']!,
      '--sign',
      '--recipient',
      ME,
      '--recipient',
      fpr['gossiped']!,
      '--encrypt',
    ],
    entity,
  );
  assert.equal(enc.status, 0, enc.stderr);
  await inbound(
    wrapPgpMime(
      enc.stdout.toString(),
      `From: Alice <alice@example.test>\r\nTo: ${ME}, ${CAROL}\r\nSubject: ...\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <group-1@example.test>\r\n`,
    ),
  );
  const use = await bridge.keyring.contacts.encryptionKeyFor(CAROL);
  assert.equal(use?.record.fingerprint, fpr['gossiped']);
  assert.equal(use?.record.source, 'gossip');
});

after(async () => {
  await bridge.close();
  g.dispose();
  rmSync(home, { recursive: true, force: true });
});

test('a new message to a gossip-only recipient is not encrypted by default (Autocrypt: discourage)', async () => {
  const r = await send('a new thread');
  assert.equal(r.protection, 'sign');
  assert.doesNotMatch(r.raw, /BEGIN PGP MESSAGE/);
});

test('a reply to the encrypted group mail is encrypted to the gossiped key (Autocrypt: encrypt)', async () => {
  const r = await send('Re: Team dinner', {
    'In-Reply-To': '<group-1@example.test>',
    References: '<group-1@example.test>',
  });
  assert.equal(r.protection, 'encrypt');
  assert.ok(pkeskKeyIds(r.raw).includes(encKeyId(fpr['gossiped']!)));
});

test('when the user asked (encrypt: always for Carol) a new message is encrypted', async () => {
  bridge.keyring.setContactSettings(CAROL, { encrypt: 'always' });
  try {
    const r = await send('asked to encrypt');
    assert.equal(r.protection, 'encrypt');
  } finally {
    bridge.keyring.setContactSettings(CAROL, { encrypt: null });
  }
});

test("Carol's own Autocrypt key replaces the gossiped one at once and is the one encrypted to", async () => {
  const keydata = g.gpg(['--export', fpr['carol']!]).stdout.toString('base64');
  await inbound(
    Buffer.from(
      `From: Carol <${CAROL}>\r\nTo: ${ME}\r\nSubject: hi\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <carol-1@example.test>\r\n` +
        `Autocrypt: addr=${CAROL}; prefer-encrypt=mutual; keydata=\r\n ${keydata.replace(/(.{76})/g, '$1\r\n ')}\r\n` +
        'Content-Type: text/plain\r\n\r\nhello\r\n',
    ),
  );
  assert.equal((await bridge.keyring.contacts.encryptionKeyFor(CAROL))?.record.fingerprint, fpr['carol']);
  const r = await send('now with her own key');
  assert.equal(r.protection, 'encrypt');
  const ids = pkeskKeyIds(r.raw);
  assert.ok(ids.includes(encKeyId(fpr['carol']!)));
  assert.ok(!ids.includes(encKeyId(fpr['gossiped']!)), 'never to the gossiped key');
});
