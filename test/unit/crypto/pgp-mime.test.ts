import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { encryptCopies, encryptMessage } from '../../../app/crypto/pgp-mime-encrypt.ts';
import { signMessage } from '../../../app/crypto/pgp-mime-sign.ts';
import { decryptMessage } from '../../../app/crypto/decrypt.ts';
import { buildServedMessage } from '../../../app/crypto/served-message.ts';
import { parseEntity } from '../../../app/mime/entity.ts';
import type { TestKey } from '../../helpers/crypto/keys.ts';
import { armoredOf, makeKey, plainMessage, wrapPgpMime } from '../../helpers/crypto/keys.ts';

let alice: TestKey;
let bob: TestKey;
let carol: TestKey;
let mallory: TestKey;

before(async () => {
  [alice, bob, carol, mallory] = await Promise.all([
    makeKey('Alice', 'alice@example.test'),
    makeKey('Bob', 'bob@example.test'),
    makeKey('Carol', 'carol@example.test'),
    makeKey('Mallory', 'mallory@example.test'),
  ]);
});

function header(msg: Buffer, name: string): string[] {
  return parseEntity(msg)
    .headers.filter((h) => h.lname === name.toLowerCase())
    .map((h) => h.value);
}

test('encrypt+sign → Thunderbird layout, obscured subject, no Bcc; decrypt → protected headers, valid signature', async () => {
  const raw = plainMessage({
    bcc: 'Dave <dave@example.test>',
    subject: 'Grüße zum Plan',
    body: 'Treffen um 12 Uhr.\r\n',
  });
  const out = await encryptMessage(raw, {
    encryptionKeys: [alice.publicKey, bob.armoredPublic],
    signingKeys: [bob.privateKey],
    gossip: ['addr=alice@example.test; keydata=AAAA'],
  });
  const text = out.toString();
  // The armored ciphertext is random base64, which can spell "dave" by chance: look outside it.
  const clear = text.replace(/-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/, '');
  assert.deepEqual(header(out, 'subject'), ['...']);
  assert.ok(!/dave/i.test(clear), 'Bcc must never appear in the clear');
  assert.ok(!text.includes('Treffen'), 'no plaintext outside the ciphertext');
  assert.match(
    text,
    /Content-Type: multipart\/encrypted;\r\n protocol="application\/pgp-encrypted";\r\n boundary="(-{12}[A-Za-z0-9]{24})"\r\n\r\nThis is an OpenPGP\/MIME encrypted message \(RFC 4880 and 3156\)\r\n--\1\r\nContent-Type: application\/pgp-encrypted\r\nContent-Description: PGP\/MIME version identification\r\n\r\nVersion: 1\r\n\r\n--\1\r\nContent-Type: application\/octet-stream; name="encrypted.asc"\r\nContent-Description: OpenPGP encrypted message\r\nContent-Disposition: inline; filename="encrypted.asc"\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n[\s\S]+-----END PGP MESSAGE-----\r\n\r\n--\1--\r\n$/,
  );

  // Alice reads it.
  const r = await decryptMessage(out, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.signature, 'valid');
  assert.equal(r.signerFingerprint, bob.fingerprint);
  assert.equal(r.signerMismatch, false);
  assert.equal(r.headerProtection, 'v1');
  assert.deepEqual(
    r.innerHeaders.map((h) => h.name.toLowerCase()),
    ['subject', 'from', 'to', 'date', 'message-id'],
  );
  assert.equal(r.innerHeaders[0]!.value, 'Grüße zum Plan');
  assert.deepEqual(
    r.gossip.map((g) => g.replace(/\s+/g, '')),
    ['addr=alice@example.test;keydata=AAAA'],
  );
  assert.ok(r.mime.toString().includes('Treffen um 12 Uhr.'));
  assert.ok(!/dave/i.test(r.mime.toString()), 'Bcc must not be inside the ciphertext either');

  // The served message has the real subject, status headers, and no obscured subject.
  const served = buildServedMessage(out, r);
  assert.deepEqual(header(served, 'subject'), ['Grüße zum Plan']);
  assert.deepEqual(header(served, 'x-lockbridge-encryption'), ['encrypted']);
  assert.deepEqual(header(served, 'x-lockbridge-signature'), [`valid; signer=${bob.fingerprint}`]);
  // which standard (issue 19: S/MIME mail says smime, with the same value names)
  assert.deepEqual(header(served, 'x-lockbridge-standard'), ['openpgp']);
  assert.ok(!served.toString().includes('protected-headers'));
  assert.ok(!served.toString().includes('BEGIN PGP MESSAGE'));
  assert.ok(!/(^|[^\r])\n/.test(served.toString()), 'served message is CRLF');

  // The sender's own key can read the Sent copy; a third party cannot.
  const own = await decryptMessage(out, {
    decryptionKeys: [bob.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(own.status, 'encrypted');
  const other = await decryptMessage(out, { decryptionKeys: [carol.privateKey] });
  assert.equal(other.status, 'failed');
  assert.equal(other.reason, 'no secret key for this message');
  assert.equal(other.mime.length, 0);
});

test('long Autocrypt-Gossip keydata is folded (no line over 78) and reads back whole', async () => {
  const keydata = Buffer.alloc(1500, 7).toString('base64');
  const out = await encryptMessage(plainMessage({}), {
    encryptionKeys: [alice.publicKey],
    signingKeys: [bob.privateKey],
    gossip: [`addr=carol@example.test; keydata=${keydata}`],
  });
  const armored = armoredOf(out);
  const dec = await openpgp.decrypt({
    message: await openpgp.readMessage({ armoredMessage: armored }),
    decryptionKeys: alice.privateKey,
    format: 'binary',
  });
  const payload = Buffer.from(dec.data as Uint8Array).toString();
  const head = payload.slice(0, payload.indexOf('\r\n\r\n'));
  const gossipLines = head.slice(head.indexOf('Autocrypt-Gossip:')).split('\r\n');
  assert.ok(gossipLines.length > 20 && gossipLines.every((l) => l.length <= 78));
  const r = await decryptMessage(out, { decryptionKeys: [alice.privateKey] });
  assert.equal(r.gossip.length, 1);
  assert.equal(r.gossip[0]!.replace(/^addr=carol@example\.test; keydata=/, '').replace(/\s+/g, ''), keydata);
});

test('PKESKs: one per given key only (per-copy inputs keep Bcc recipients out)', async () => {
  const out = await encryptMessage(plainMessage({}), {
    encryptionKeys: [alice.publicKey, bob.publicKey],
    signingKeys: [bob.privateKey],
  });
  const msg = await openpgp.readMessage({ armoredMessage: armoredOf(out) });
  const ids = msg.getEncryptionKeyIDs().map((k) => k.toHex());
  const expected = [alice.publicKey, bob.publicKey].map((k) => k.subkeys[0]!.getKeyID().toHex());
  assert.deepEqual(ids.sort(), expected.sort());
  assert.ok(!ids.includes(carol.publicKey.subkeys[0]!.getKeyID().toHex()));
});

test('unknown signer → unknown-key with key ID; lookup callback resolves it; wrong From is flagged', async () => {
  const out = await encryptMessage(plainMessage({}), {
    encryptionKeys: [alice.publicKey],
    signingKeys: [bob.privateKey],
  });
  const unknown = await decryptMessage(out, { decryptionKeys: [alice.privateKey] });
  assert.equal(unknown.status, 'encrypted');
  assert.equal(unknown.signature, 'unknown-key');
  assert.deepEqual(unknown.signerKeyIds, [bob.privateKey.getKeyID().toHex().toUpperCase()]);
  assert.match(
    buildServedMessage(out, unknown).toString(),
    /X-Lockbridge-Signature: unknown-key; keyid=[0-9A-F]{16}\r\n/,
  );

  const asked: string[][] = [];
  const found = await decryptMessage(out, {
    decryptionKeys: [alice.privateKey],
    lookupVerificationKeys: async (ids) => {
      asked.push(ids);
      return [bob.armoredPublic];
    },
  });
  assert.equal(found.signature, 'valid');
  assert.deepEqual(asked, [unknown.signerKeyIds]);

  // Mallory signs a message claiming to be from Bob: valid signature, but the UID does not match From.
  const spoof = await encryptMessage(plainMessage({ from: 'Bob <bob@example.test>' }), {
    encryptionKeys: [alice.publicKey],
    signingKeys: [mallory.privateKey],
  });
  const r = await decryptMessage(spoof, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [mallory.publicKey],
  });
  assert.equal(r.signature, 'valid');
  assert.equal(r.signerMismatch, true);
  assert.match(
    buildServedMessage(spoof, r).toString(),
    /X-Lockbridge-Signature: valid; signer=[0-9A-F]{40}; from-mismatch=yes\r\n/,
  );
});

test('a signature by another key than the given one over modified content is invalid', async () => {
  const signed = await signMessage(plainMessage({ body: 'pay 10 EUR\r\n' }), {
    signingKeys: [bob.privateKey],
  });
  const ok = await decryptMessage(signed, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(ok.status, 'none');
  assert.equal(ok.signature, 'valid');
  const tampered = Buffer.from(signed.toString().replace('pay 10 EUR', 'pay 99 EUR'));
  const bad = await decryptMessage(tampered, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(bad.signature, 'invalid');
  assert.equal(bad.signerFingerprint, bob.fingerprint);
});

test('sign-only: micalg equals the hash used; 7-bit entity; verifies from exact bytes and from an LF-only copy', async () => {
  const raw = plainMessage({ body: 'Grüße \r\nFrom the team\r\n.\r\n' });
  const signed = await signMessage(raw, { signingKeys: [bob.privateKey] });
  const text = signed.toString('latin1');
  const micalg = /micalg=(pgp-[a-z0-9]+)/.exec(text)![1];
  const sig = await openpgp.readSignature({
    armoredSignature: /-----BEGIN PGP SIGNATURE-----[\s\S]+?-----END PGP SIGNATURE-----/.exec(text)![0],
  });
  const hashName = openpgp.enums.read(openpgp.enums.hash, sig.packets[0]!.hashAlgorithm!) as string;
  assert.equal(micalg, 'pgp-' + hashName.toLowerCase());
  assert.ok(['pgp-sha256', 'pgp-sha512'].includes(micalg!));
  assert.ok(/^[\x00-\x7f]*$/.test(text), 'signed message is 7-bit');
  assert.ok(text.includes('name="OpenPGP_signature.asc"'));
  assert.ok(text.includes('Content-Disposition: attachment; filename="OpenPGP_signature.asc"'));
  const lf = Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1');
  const r = await decryptMessage(lf, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(r.signature, 'valid');
  assert.equal(r.headerProtection, 'v1');
  const served = buildServedMessage(lf, r);
  assert.deepEqual(header(served, 'x-lockbridge-encryption'), ['none']);
  assert.ok(
    served.toString('latin1').includes('OpenPGP_signature.asc'),
    'signed-only mail is served as it came',
  );
});

test('sign-only: a raw UTF-8 Subject is RFC 2047-encoded inside the signed part; micalg mismatch is only a warning', async () => {
  const signed = await signMessage(
    plainMessage({ subject: 'Grüße – ein sehr langer Betreff mit Umlauten äöü und mehr Text' }),
    {
      signingKeys: [bob.privateKey],
    },
  );
  const text = signed.toString('latin1');
  const part1 = text.slice(text.indexOf('protected-headers'));
  assert.ok(/^[\x00-\x7f]*$/.test(part1), 'signed part is 7-bit');
  assert.match(part1, /Subject: =\?UTF-8\?B\?/);
  const r = await decryptMessage(signed, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(r.signature, 'valid');
  assert.deepEqual(r.warnings, []);
  const wrongMicalg = Buffer.from(text.replace(/micalg=pgp-sha\d+/, 'micalg=pgp-sha1'), 'latin1');
  const w = await decryptMessage(wrongMicalg, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(w.signature, 'valid');
  assert.match(w.warnings[0]!, /micalg pgp-sha1 differs/);
});

test('nested form (multipart/signed inside the encryption) decrypts and verifies; the signature layer is removed', async () => {
  const signedEntityMsg = await signMessage(plainMessage({ subject: 'Nested' }), {
    signingKeys: [bob.privateKey],
  });
  // payload = the multipart/signed entity (content headers + body)
  const ent = parseEntity(signedEntityMsg);
  const ctype = ent.headers.find((h) => h.lname === 'content-type')!.raw.toString();
  const payload = Buffer.concat([Buffer.from(ctype + '\r\n'), ent.body]);
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: payload }),
    encryptionKeys: alice.publicKey,
    format: 'armored',
  });
  const msg = wrapPgpMime(
    armored,
    'From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: ...\r\n',
  );
  const r = await decryptMessage(msg, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.signature, 'valid');
  assert.equal(r.innerHeaders.find((h) => h.name === 'Subject')?.value, 'Nested');
  assert.ok(!r.mime.toString().includes('application/pgp-signature'));
  assert.deepEqual(header(buildServedMessage(msg, r), 'subject'), ['Nested']);
});

test('RFC 9788 hp="cipher": inner headers win, HP-Outer and the legacy display element are removed', async () => {
  const payload = Buffer.from(
    'Content-Type: text/plain; charset="us-ascii"; hp-legacy-display="1"; hp="cipher"\r\n' +
      'Date: Fri, 21 Jan 2022 20:40:48 -0500\r\nFrom: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\n' +
      'Subject: Dinner plans\r\nMessage-ID: <hp@example.test>\r\n' +
      'HP-Outer: Subject: [...]\r\nHP-Outer: From: Alice <alice@example.test>\r\n\r\n' +
      "Subject: Dinner plans\r\n\r\nLet's meet at 8pm.\r\n",
  );
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: payload }),
    encryptionKeys: bob.publicKey,
    signingKeys: alice.privateKey,
  });
  const msg = wrapPgpMime(
    armored,
    'From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: [...]\r\nKeywords: outer-only\r\nX-Lockbridge-Signature: valid\r\nReceived: by mx\r\n',
  );
  const r = await decryptMessage(msg, {
    decryptionKeys: [bob.privateKey],
    verificationKeys: [alice.publicKey],
  });
  assert.equal(r.headerProtection, 'cipher');
  assert.equal(r.signature, 'valid');
  const served = buildServedMessage(msg, r).toString();
  assert.match(served, /^Subject: Dinner plans\r$/m);
  assert.ok(!served.includes('[...]'), 'outer obscured subject dropped');
  assert.ok(!served.includes('HP-Outer'));
  assert.ok(!served.includes('hp-legacy-display'));
  assert.ok(served.endsWith("\r\n\r\nLet's meet at 8pm.\r\n"), 'legacy display element removed');
  assert.equal((served.match(/X-Lockbridge-Signature/g) ?? []).length, 1, 'forged status header removed');
  assert.match(served, /X-Lockbridge-Signature: valid; signer=/);
  assert.match(served, /^Received: by mx\r$/m);
});

test('legacy text/rfc822-headers display part is dropped', async () => {
  const payload = Buffer.from(
    'Content-Type: multipart/mixed; boundary="inner"; protected-headers="v1"\r\nSubject: Real subject\r\nFrom: alice@example.test\r\n\r\n' +
      '--inner\r\nContent-Type: text/rfc822-headers; protected-headers="v1"\r\nContent-Disposition: inline\r\n\r\nSubject: Real subject\r\n\r\n' +
      '--inner\r\nContent-Type: text/plain\r\n\r\nbody text\r\n--inner--\r\n',
  );
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: payload }),
    encryptionKeys: bob.publicKey,
  });
  const msg = wrapPgpMime(armored, 'From: alice@example.test\r\nSubject: ...\r\n');
  const r = await decryptMessage(msg, { decryptionKeys: [bob.privateKey] });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.signature, 'none');
  const m = r.mime.toString();
  assert.ok(!m.includes('rfc822-headers'));
  assert.ok(m.includes('body text'));
});

test('Exchange-mangled PGP/MIME (multipart/mixed with Version and encrypted.asc attachments) decrypts', async () => {
  const out = await encryptMessage(plainMessage({}), {
    encryptionKeys: [alice.publicKey],
    signingKeys: [bob.privateKey],
  });
  const armored = armoredOf(out).replace(/\r?\n/g, '\r\n');
  const b64 = Buffer.from(armored).toString('base64').replace(/.{76}/g, '$&\r\n');
  const mangled = Buffer.from(
    'From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: ...\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="_x_"\r\n\r\n' +
      '--_x_\r\nContent-Type: text/plain; charset="us-ascii"\r\n\r\n\r\n' +
      '--_x_\r\nContent-Type: application/pgp-encrypted; name="PGPMIME version identification"\r\nContent-Disposition: attachment; filename="PGPMIME version identification"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      Buffer.from('Version: 1\r\n').toString('base64') +
      '\r\n--_x_\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\nContent-Disposition: attachment; filename="encrypted.asc"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      b64 +
      '\r\n--_x_--\r\n',
  );
  const r = await decryptMessage(mangled, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.form, 'pgp-mime-exchange');
  assert.equal(r.signature, 'valid');
  assert.ok(r.mime.toString().includes('The secret plan is at noon.'));
});

test('inline PGP: whole-body armored block decrypts; text around it disables inline handling', async () => {
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'inline secret\nline two\n' }),
    encryptionKeys: alice.publicKey,
    signingKeys: bob.privateKey,
  });
  const mk = (body: string) =>
    Buffer.from(
      `From: Bob <bob@example.test>\r\nSubject: inline\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
    );
  const r = await decryptMessage(mk(armored), {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.form, 'inline');
  assert.equal(r.signature, 'valid');
  assert.ok(r.mime.toString().endsWith('\r\n\r\ninline secret\r\nline two\r\n'));
  const served = buildServedMessage(mk(armored), r).toString();
  assert.match(served, /^Subject: inline\r$/m);
  assert.match(served, /^Content-Type: text\/plain; charset=utf-8\r$/m);

  const mixed = mk('Look at this: <b>\r\n' + armored);
  const n = await decryptMessage(mixed, { decryptionKeys: [alice.privateKey] });
  assert.equal(n.status, 'none');
  assert.ok(!n.mime.toString().includes('inline secret'));
});

test('cleartext-signed inline message verifies; tampering is detected', async () => {
  const signed = await openpgp.sign({
    message: await openpgp.createCleartextMessage({ text: 'I agree.\n- dash line\n' }),
    signingKeys: bob.privateKey,
  });
  const mk = (body: string) =>
    Buffer.from(`From: bob@example.test\r\nContent-Type: text/plain\r\n\r\n${body}`);
  const r = await decryptMessage(mk(signed), { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(r.form, 'cleartext-signed');
  assert.equal(r.signature, 'valid');
  const bad = await decryptMessage(mk(signed.replace('I agree.', 'I refuse.')), {
    decryptionKeys: [],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(bad.signature, 'invalid');
});

test('attached keys and forged status headers on plain mail', async () => {
  const msg = Buffer.from(
    'From: bob@example.test\r\nX-Lockbridge-Encryption: encrypted\r\nX-LOCKBRIDGE-Signature: valid\r\nX-Lockbridge-Standard: smime\r\nSubject: key\r\nContent-Type: multipart/mixed; boundary="k"\r\n\r\n' +
      '--k\r\nContent-Type: text/plain\r\n\r\nmy key\r\n--k\r\nContent-Type: application/pgp-keys; name="OpenPGP_0x1.asc"\r\n\r\n' +
      bob.armoredPublic.replace(/\n/g, '\r\n') +
      '\r\n--k--\r\n',
  );
  const r = await decryptMessage(msg, { decryptionKeys: [alice.privateKey] });
  assert.equal(r.status, 'none');
  assert.equal(r.attachedKeys.length, 1);
  assert.equal(
    (await openpgp.readKey({ armoredKey: r.attachedKeys[0]! })).getFingerprint().toUpperCase(),
    bob.fingerprint,
  );
  const served = buildServedMessage(msg, r).toString();
  assert.deepEqual(header(Buffer.from(served), 'x-lockbridge-encryption'), ['none']);
  assert.deepEqual(header(Buffer.from(served), 'x-lockbridge-signature'), ['none']);
  assert.deepEqual(header(Buffer.from(served), 'x-lockbridge-standard'), [], 'plain mail names no standard');
});

test('a sole encrypted child of multipart/mixed is decrypted; with a sibling (list footer) it is not', async () => {
  const out = await encryptMessage(plainMessage({ subject: 'via list' }), {
    encryptionKeys: [alice.publicKey],
    signingKeys: [bob.privateKey],
  });
  const ent = parseEntity(out);
  const ct = ent.headers.find((h) => h.lname === 'content-type')!.raw.toString();
  const part = ct + '\r\n' + ent.body.toString();
  const head =
    'From: Bob <bob@example.test>\r\nSubject: [list] ...\r\nContent-Type: multipart/mixed; boundary="L"\r\n\r\n';
  const sole = Buffer.from(`${head}--L\r\n${part}\r\n--L--\r\n`);
  const r = await decryptMessage(sole, {
    decryptionKeys: [alice.privateKey],
    verificationKeys: [bob.publicKey],
  });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.signature, 'valid');
  assert.deepEqual(header(buildServedMessage(sole, r), 'subject'), ['via list']);
  const footer = Buffer.from(
    `${head}--L\r\n${part}\r\n--L\r\nContent-Type: text/plain\r\n\r\nlist footer\r\n--L--\r\n`,
  );
  const f = await decryptMessage(footer, { decryptionKeys: [alice.privateKey] });
  assert.equal(f.status, 'none');
  assert.match(f.reason!, /left encrypted/);
});

test('decrypted entity without protected headers: only its content headers are served', async () => {
  const payload = Buffer.from(
    'MIME-Version: 1.0\r\nX-Inner: 1\r\nContent-Type: text/plain\r\n\r\nno markings\r\n',
  );
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: payload }),
    encryptionKeys: bob.publicKey,
  });
  const msg = wrapPgpMime(armored, 'From: alice@example.test\r\nSubject: outer kept\r\n');
  const r = await decryptMessage(msg, { decryptionKeys: [bob.privateKey] });
  assert.equal(r.status, 'encrypted');
  assert.equal(r.headerProtection, null);
  const served = buildServedMessage(msg, r);
  assert.deepEqual(header(served, 'subject'), ['outer kept']);
  assert.deepEqual(header(served, 'mime-version'), ['1.0']);
  assert.deepEqual(header(served, 'x-inner'), []);
  assert.ok(served.toString().endsWith('\r\n\r\nno markings\r\n'));
});

test('a validly signed part next to unsigned text gets no signature status (root signatures only)', async () => {
  const signed = await signMessage(plainMessage({ body: 'I owe you nothing.\r\n' }), {
    signingKeys: [bob.privateKey],
  });
  const ent = parseEntity(signed);
  const ct = ent.headers.find((h) => h.lname === 'content-type')!.raw.toString();
  const wrapped = Buffer.from(
    'From: Bob <bob@example.test>\r\nSubject: fwd\r\nContent-Type: multipart/mixed; boundary="W"\r\n\r\n' +
      '--W\r\nContent-Type: text/plain\r\n\r\nI owe Mallory 1000 EUR.\r\n' +
      `--W\r\n${ct}\r\n${ent.body.toString()}\r\n--W--\r\n`,
  );
  const alone = await decryptMessage(signed, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(alone.signature, 'valid');
  const r = await decryptMessage(wrapped, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
  assert.equal(r.signature, 'none');
  assert.match(buildServedMessage(wrapped, r).toString(), /X-Lockbridge-Signature: none\r\n/);
});

test('encryptCopies: one signed payload, each copy names only its own keys and is framed like encryptMessage', async () => {
  const raw = plainMessage({ subject: 'Plan', body: 'Treffen um 12 Uhr.\r\n' });
  const [forAlice, forCarol] = await encryptCopies(raw, {
    copies: [
      [alice.publicKey, bob.publicKey],
      [carol.publicKey, bob.publicKey],
    ],
    signingKeys: [bob.privateKey],
  });
  const shape = (m: Buffer) =>
    m
      .toString()
      .replace(/-{12}[A-Za-z0-9]{24}/g, 'B')
      .replace(/-----BEGIN PGP MESSAGE[\s\S]*?END PGP MESSAGE-----/, 'P');
  const single = await encryptMessage(raw, {
    encryptionKeys: [alice.publicKey],
    signingKeys: [bob.privateKey],
  });
  assert.equal(shape(forAlice!), shape(single));
  for (const [copy, reader, outsider] of [
    [forAlice!, alice, carol],
    [forCarol!, carol, alice],
  ] as const) {
    const r = await decryptMessage(copy, {
      decryptionKeys: [reader.privateKey],
      verificationKeys: [bob.publicKey],
    });
    assert.equal(r.status, 'encrypted');
    assert.equal(r.signature, 'valid');
    const msg = await openpgp.readMessage({
      armoredMessage: /-----BEGIN PGP MESSAGE[\s\S]*?END PGP MESSAGE-----/.exec(copy.toString())![0],
    });
    const named = msg.getEncryptionKeyIDs().map((k) => k.toHex());
    assert.ok(
      !named.includes(outsider.publicKey.getSubkeys()[0]!.getKeyID().toHex()),
      'another copy’s key is named',
    );
    assert.ok(named.includes(reader.publicKey.getSubkeys()[0]!.getKeyID().toHex()));
  }
});

test('encryptCopies to keys that announce SEIPD v2: every copy is armored and decrypts', async () => {
  // openpgp.js writes SEIPD v2 (AEAD) to such keys whatever aeadProtect says, and writes that
  // packet as a stream: the copies must still carry the whole armored message
  const v2 = await Promise.all(
    ['dora', 'eve'].map((name) =>
      openpgp.generateKey({
        type: 'ecc',
        curve: 'curve25519Legacy',
        userIDs: [{ email: `${name}@example.test` }],
        format: 'object',
        config: { aeadProtect: true, v6Keys: false },
      }),
    ),
  );
  const raw = plainMessage({ subject: 'AEAD', body: 'Nur für euch.\r\n' });
  const copies = await encryptCopies(raw, {
    copies: v2.map((k) => [k.publicKey]),
    signingKeys: [bob.privateKey],
  });
  for (const [i, copy] of copies.entries()) {
    const r = await decryptMessage(copy, {
      decryptionKeys: [v2[i]!.privateKey],
      verificationKeys: [bob.publicKey],
    });
    assert.equal(r.status, 'encrypted', `copy ${i}`);
    assert.equal(r.signature, 'valid');
    assert.match(buildServedMessage(copy, r).toString(), /Nur für euch\./);
  }
});
