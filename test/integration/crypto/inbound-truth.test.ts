/**
 * Issue 14 items 1–2, adversarial inbound: what the local mail client is shown must be true.
 * Hostile and honest senders are simulated with real GnuPG 2.2 (their own keys, their own
 * signatures and ciphertext); the bridge side is the product's inbound path: the same factory the
 * runtime uses (createInboundProcessor) over the real encrypted store's keyring and the crypto
 * worker pool. Every test asserts the exact served From / Subject and the status headers.
 *
 * The rule under test (README "What your mail client is shown"): protected (inner) headers replace
 * the outer ones only under a valid signature, and an authenticated inner From whose address differs
 * from the outer From is not shown (the outer one is, and the status header names the mismatch); an
 * encrypted but unsigned (or badly signed) message may restore its Subject (and Date / Message-ID /
 * threading fields) but never From, To, Cc or Reply-To. The signer is looked up by key ID in the whole
 * keyring (own keys included) and in a key attached to the message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Keyring } from '../../../app/keys/keyring.ts';
import { encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import type { ProcessInbound } from '../../../app/sync/types.ts';
import { startInboundRig, type InboundRig } from '../../helpers/crypto/inbound-rig.ts';
import { GpgHome } from '../../helpers/crypto/gpg.ts';
import { wrapPgpMime } from '../../helpers/crypto/keys.ts';

const ME = 'me@example.test';
const ctx = { accountId: 1, email: ME, remoteMailbox: 'INBOX' };

let rig: InboundRig;
let keyring: Keyring;
let processInbound: ProcessInbound;
let g: GpgHome;
let ownFpr: string;
const fpr: Record<string, string> = {};

before(async () => {
  rig = await startInboundRig('lb-inbound-truth-', { smime: false });
  ({ keyring, processInbound } = rig);
  ownFpr = (await keyring.own.generate(ME, { name: 'Me' })).fingerprint;

  g = new GpgHome();
  for (const [who, uid] of [
    ['bob', 'Bob <bob@example.test>'],
    ['carol', 'Carol <carol@example.test>'],
    ['mallory', 'Mallory <mallory@evil.test>'],
    ['dave', 'Dave <dave@example.test>'],
    ['erin', 'Erin <erin@example.test>'],
    ['fakebob', 'Bob (new) <bob@example.test>'],
  ] as const)
    fpr[who] = g.genKey(uid);
  g.importKey(keyring.own.exportPublic(ME));
  // Bob and Carol are contacts the user already has; Mallory, Dave and Erin are unknown.
  await keyring.importKeys(g.exportPublic(fpr['bob']!), { source: 'manual' });
  await keyring.importKeys(g.exportPublic(fpr['carol']!), { source: 'manual' });
});

after(async () => {
  await rig.close();
  g.dispose();
});

const keyId = (fingerprint: string) => fingerprint.slice(-16);

/** A protected-headers="v1" entity (Thunderbird's layout) with the given inner fields and text. */
function protectedEntity(inner: string, text: string, extraPart = ''): string {
  const b = '------------inner0123456789abcdef';
  return (
    `Content-Type: multipart/mixed; boundary="${b}";\r\n protected-headers="v1"\r\n` +
    inner.replace(/\r?\n?$/, '\r\n') +
    '\r\n' +
    `--${b}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n` +
    extraPart +
    `--${b}--\r\n`
  );
}

/** An application/pgp-keys part (as Thunderbird attaches the sender's key). */
function keyPart(armored: string): string {
  return (
    'Content-Type: application/pgp-keys; name="OpenPGP_0x.asc"\r\n' +
    'Content-Disposition: attachment; filename="OpenPGP_0x.asc"\r\n' +
    'Content-Transfer-Encoding: 7bit\r\n\r\n' +
    armored.replace(/\r?\n/g, '\r\n').trimEnd() +
    '\r\n'
  );
}

/** gpg makes a detached signature over the exact entity; the sender wraps it in multipart/signed. */
function gpgSigned(signer: string, outer: string, entity: string): string {
  const r = g.gpg(['--armor', '--digest-algo', 'SHA256', '--local-user', signer, '--detach-sign'], entity);
  assert.equal(r.status, 0, r.stderr);
  const b = 'sig-boundary-0123456789';
  return (
    outer.replace(/\r?\n?$/, '\r\n') +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/signed; micalg=pgp-sha256;\r\n protocol="application/pgp-signature";\r\n boundary="${b}"\r\n\r\n` +
    `This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--${b}\r\n` +
    entity +
    `\r\n--${b}\r\nContent-Type: application/pgp-signature; name="OpenPGP_signature.asc"\r\n\r\n` +
    r.stdout.toString().replace(/\r?\n/g, '\r\n') +
    `\r\n--${b}--\r\n`
  );
}

/** gpg encrypts the entity to the user's own key, signing it when `signer` is given. */
function gpgEncrypted(signer: string | null, outer: string, entity: string): Buffer {
  const sign = signer ? ['--sign', '--local-user', signer] : [];
  const r = g.gpg(['--armor', '--recipient', ownFpr, ...sign, '--encrypt'], entity);
  assert.equal(r.status, 0, r.stderr);
  return wrapPgpMime(r.stdout.toString(), outer);
}

/** The served header fields, unfolded, by lowercase name (parsed here, independently of app code). */
function served(bytes: Buffer): Map<string, string[]> {
  const text = bytes.toString('utf8');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const out = new Map<string, string[]>();
  for (const line of head.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).toLowerCase();
    out.set(name, [...(out.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return out;
}

async function serve(raw: string | Buffer): Promise<Map<string, string[]>> {
  const { served: bytes } = await processInbound(Buffer.from(raw), ctx);
  return served(bytes);
}

const outerHeaders = (from: string, subject: string, extra = '') =>
  `From: ${from}\r\nTo: Me <${ME}>\r\nSubject: ${subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${Math.abs(hash(from + subject))}@example.test>\r\n${extra}`;

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

test('item 1: signed-only with protected From: CEO, body tampered after signing → outer From and Subject, invalid', async () => {
  const entity = protectedEntity(
    'From: CEO <ceo@bank.test>\r\nTo: Me <me@example.test>\r\nSubject: Wire 50,000 EUR today',
    'Please pay invoice 4711.',
  );
  const signed = gpgSigned(fpr['bob']!, outerHeaders('Bob <bob@example.test>', 'Lunch?'), entity);
  const tampered = signed.replace('Please pay invoice 4711.', 'Please pay invoice 6666.');
  const h = await serve(tampered);
  assert.deepEqual(h.get('from'), ['Bob <bob@example.test>']);
  assert.deepEqual(h.get('subject'), ['Lunch?']);
  assert.deepEqual(h.get('x-lockbridge-encryption'), ['none']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`invalid; signer=${fpr['bob']}`]);
});

test('item 1: signed-only by an unknown key with protected From: CEO → outer From and Subject, unknown-key', async () => {
  const entity = protectedEntity(
    'From: CEO <ceo@bank.test>\r\nTo: Me <me@example.test>\r\nSubject: Wire 50,000 EUR today',
    'Please pay invoice 4711.',
  );
  const signed = gpgSigned(fpr['mallory']!, outerHeaders('Mallory <mallory@evil.test>', 'hello'), entity);
  const h = await serve(signed);
  assert.deepEqual(h.get('from'), ['Mallory <mallory@evil.test>']);
  assert.deepEqual(h.get('subject'), ['hello']);
  assert.deepEqual(h.get('x-lockbridge-encryption'), ['none']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`unknown-key; keyid=${keyId(fpr['mallory']!)}`]);
});

test('item 1: encrypted but unsigned with a foreign inner From and Reply-To → outer From kept, inner Subject shown', async () => {
  const entity = protectedEntity(
    'Subject: Urgent: new bank details\r\nFrom: CEO <ceo@bank.test>\r\nReply-To: payments@evil.test\r\nTo: Me <me@example.test>\r\nCc: board@bank.test',
    'Our bank details changed.',
  );
  const msg = gpgEncrypted(null, outerHeaders('Mallory <mallory@evil.test>', '...'), entity);
  const h = await serve(msg);
  assert.deepEqual(h.get('from'), ['Mallory <mallory@evil.test>']);
  assert.deepEqual(h.get('subject'), ['Urgent: new bank details']);
  assert.deepEqual(h.get('to'), ['Me <me@example.test>']);
  assert.equal(h.get('reply-to'), undefined, 'an unauthenticated Reply-To is not shown');
  assert.equal(h.get('cc'), undefined, 'an unauthenticated Cc is not shown');
  assert.deepEqual(h.get('x-lockbridge-encryption'), ['encrypted']);
  assert.deepEqual(h.get('x-lockbridge-signature'), ['none']);
});

test('item 1: a known contact validly signs a protected From of someone else → outer From kept, mismatch named', async () => {
  const entity = protectedEntity(
    'Subject: Board memo\r\nFrom: CEO <ceo@bank.test>\r\nReply-To: ceo-office@bank.test\r\nTo: Me <me@example.test>',
    'Signed by Bob, claiming to be the CEO.',
  );
  const msg = gpgEncrypted(fpr['bob']!, outerHeaders('Bob <bob@example.test>', '...'), entity);
  const h = await serve(msg);
  assert.deepEqual(h.get('from'), ['Bob <bob@example.test>']);
  assert.deepEqual(h.get('subject'), ['Board memo']);
  assert.equal(h.get('reply-to'), undefined);
  assert.deepEqual(h.get('x-lockbridge-encryption'), ['encrypted']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [
    `valid; signer=${fpr['bob']}; protected-from-mismatch=ceo@bank.test`,
  ]);
});

test('item 1 (control): a valid signature over matching protected headers restores them all', async () => {
  const entity = protectedEntity(
    'Subject: Real subject\r\nFrom: Bob Builder <bob@example.test>\r\nReply-To: bob-team@example.test\r\nTo: Me <me@example.test>\r\nCc: carol@example.test',
    'All authentic.',
  );
  const msg = gpgEncrypted(fpr['bob']!, outerHeaders('bob@example.test', '...'), entity);
  const h = await serve(msg);
  assert.deepEqual(h.get('from'), ['Bob Builder <bob@example.test>']);
  assert.deepEqual(h.get('subject'), ['Real subject']);
  assert.deepEqual(h.get('reply-to'), ['bob-team@example.test']);
  assert.deepEqual(h.get('cc'), ['carol@example.test']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`valid; signer=${fpr['bob']}`]);
});

test('item 2: a known signer writing from another address → valid with from-mismatch (not unknown-key)', async () => {
  const entity = protectedEntity(
    'Subject: From my work address\r\nFrom: Carol <carol@work.example>\r\nTo: Me <me@example.test>',
    'Same key, other address.',
  );
  const msg = gpgEncrypted(fpr['carol']!, outerHeaders('Carol <carol@work.example>', '...'), entity);
  const h = await serve(msg);
  assert.deepEqual(h.get('from'), ['Carol <carol@work.example>']);
  assert.deepEqual(h.get('subject'), ['From my work address']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`valid; signer=${fpr['carol']}; from-mismatch=yes`]);
});

test("item 2: a message to self signed with the account's own key → valid, signer = own key", async () => {
  const own = keyring.own.active(ME)!;
  const priv = await keyring.own.privateKey(own);
  const raw = Buffer.from(
    `From: Me <${ME}>\r\nTo: Me <${ME}>\r\nSubject: note to self\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <self-1@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nremember the milk\r\n`,
  );
  const msg = await encryptMessage(raw, { encryptionKeys: [priv.toPublic()], signingKeys: [priv] });
  const h = await serve(msg);
  assert.deepEqual(h.get('from'), [`Me <${ME}>`]);
  assert.deepEqual(h.get('subject'), ['note to self']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`valid; signer=${ownFpr}`]);
});

test("item 2: the sender's key attached to a signed-only message → valid; recorded for the sender", async () => {
  const entity = protectedEntity(
    'Subject: Hi, here is my key\r\nFrom: Dave <dave@example.test>\r\nTo: Me <me@example.test>',
    'My key is attached.',
    '--------------inner0123456789abcdef\r\n' + keyPart(g.exportPublic(fpr['dave']!)),
  );
  const signed = gpgSigned(
    fpr['dave']!,
    outerHeaders('Dave <dave@example.test>', 'Hi, here is my key'),
    entity,
  );
  const h = await serve(signed);
  assert.deepEqual(h.get('from'), ['Dave <dave@example.test>']);
  assert.deepEqual(h.get('subject'), ['Hi, here is my key']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`valid; signer=${fpr['dave']}`]);
  const rec = await keyring.contacts.encryptionKeyFor('dave@example.test');
  assert.equal(rec?.record.fingerprint, fpr['dave']);
  assert.equal(rec?.record.source, 'attached');
});

test("item 2: the sender's key attached inside an encrypted+signed message → valid", async () => {
  const entity = protectedEntity(
    'Subject: Encrypted, key inside\r\nFrom: Erin <erin@example.test>\r\nTo: Me <me@example.test>',
    'My key is inside.',
    '--------------inner0123456789abcdef\r\n' + keyPart(g.exportPublic(fpr['erin']!)),
  );
  const msg = gpgEncrypted(fpr['erin']!, outerHeaders('Erin <erin@example.test>', '...'), entity);
  const h = await serve(msg);
  assert.deepEqual(h.get('from'), ['Erin <erin@example.test>']);
  assert.deepEqual(h.get('subject'), ['Encrypted, key inside']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`valid; signer=${fpr['erin']}`]);
});

test("item 2 (hostile): a key attached under a known contact's address does not make a forgery valid", async () => {
  // Mallory forges From: Bob and attaches a key she made with Bob's address, signing with it.
  const entity = protectedEntity(
    'Subject: New bank details\r\nFrom: Bob <bob@example.test>\r\nTo: Me <me@example.test>',
    'Pay to my new account.',
    '--------------inner0123456789abcdef\r\n' + keyPart(g.exportPublic(fpr['fakebob']!)),
  );
  const signed = gpgSigned(
    fpr['fakebob']!,
    outerHeaders('Bob <bob@example.test>', 'New bank details'),
    entity,
  );
  const h = await serve(signed);
  assert.deepEqual(h.get('from'), ['Bob <bob@example.test>']);
  assert.deepEqual(h.get('subject'), ['New bank details']);
  assert.deepEqual(h.get('x-lockbridge-signature'), [`unknown-key; keyid=${keyId(fpr['fakebob']!)}`]);
  const use = await keyring.contacts.encryptionKeyFor('bob@example.test');
  assert.equal(use?.record.fingerprint, fpr['bob'], "Bob's key in use is unchanged");
});
