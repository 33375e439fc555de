import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { formatAutocryptHeader, parseAutocryptHeader } from '../../../app/keys/autocrypt/header.ts';
import { minimizeKey } from '../../../app/keys/autocrypt/minimize.ts';
import { headerValue, parseEntity } from '../../../app/mime/entity.ts';
import { makeKey } from './pgp-helpers.ts';

const fixture = readFileSync(
  new URL('../../fixtures/keys/example-simple-autocrypt.eml', import.meta.url),
  'utf8',
);

test("the spec's example Autocrypt header parses into Alice's Ed25519/Cv25519 key", async () => {
  const value = headerValue(parseEntity(Buffer.from(fixture, 'utf8')), 'autocrypt')!;
  const r = parseAutocryptHeader(value);
  assert.ok(r.ok, r.ok ? '' : r.error);
  assert.equal(r.header.addr, 'alice@autocrypt.example');
  assert.equal(r.header.preferEncrypt, 'mutual');
  const key = await openpgp.readKey({ binaryKey: r.header.keydata });
  assert.equal(key.getFingerprint().toUpperCase(), 'EB85BB5FA33A75E15E944E63F231550C4F47E38E');
  assert.deepEqual(key.getUserIDs(), ['alice@autocrypt.example']);
  assert.equal(key.getAlgorithmInfo().algorithm, 'eddsaLegacy');
  assert.equal(key.subkeys[0]!.getAlgorithmInfo().curve, 'curve25519Legacy');
  // exactly the five packets of a minimal Autocrypt key
  assert.equal(key.toPacketList().length, 5);
});

test('header syntax rules: keydata last, critical vs _ attributes, addr/keydata mandatory, size limit', () => {
  const kd = Buffer.from('hello key').toString('base64');
  assert.ok(parseAutocryptHeader(`addr=a@b.example; keydata=${kd}`).ok);
  const nc = parseAutocryptHeader(`addr=a@b.example; _foo=bar; keydata=${kd}`);
  assert.ok(nc.ok && nc.header.nonCritical['_foo'] === 'bar');
  assert.deepEqual(parseAutocryptHeader(`addr=a@b.example; foo=bar; keydata=${kd}`), {
    ok: false,
    error: 'unknown critical attribute foo',
  });
  assert.deepEqual(parseAutocryptHeader(`keydata=${kd}; addr=a@b.example`), {
    ok: false,
    error: 'keydata is not the last attribute',
  });
  assert.deepEqual(parseAutocryptHeader(`keydata=${kd}`), { ok: false, error: 'missing addr' });
  assert.deepEqual(parseAutocryptHeader(`addr=a@b.example`), { ok: false, error: 'missing keydata' });
  assert.deepEqual(parseAutocryptHeader(`addr=a@b.example; addr=c@b.example; keydata=${kd}`), {
    ok: false,
    error: 'duplicate attribute addr',
  });
  assert.deepEqual(parseAutocryptHeader(`addr=a@b.example; keydata=!!notbase64`), {
    ok: false,
    error: 'keydata is not base64',
  });
  const pe = parseAutocryptHeader(`addr=A@B.Example; prefer-encrypt=yes-please; keydata=${kd}`);
  assert.ok(pe.ok && pe.header.preferEncrypt === 'nopreference' && pe.header.addr === 'a@b.example');
  const big = Buffer.alloc(8000, 7).toString('base64');
  assert.deepEqual(parseAutocryptHeader(`addr=a@b.example; keydata=${big}`), {
    ok: false,
    error: 'header larger than 10 KiB',
  });
  assert.throws(
    () => formatAutocryptHeader({ addr: 'a@b.example', keydata: Buffer.alloc(8000, 7) }),
    /10 KiB/,
  );
});

test('format → parse round trip, folded at 76 columns; gossip carries no prefer-encrypt', () => {
  const keydata = new Uint8Array(Buffer.alloc(700, 3));
  const field = formatAutocryptHeader({ addr: 'me@example.org', preferEncrypt: 'mutual', keydata });
  assert.match(field, /^Autocrypt: addr=me@example.org; prefer-encrypt=mutual; keydata=\r\n /);
  for (const line of field.split('\r\n')) assert.ok(line.length <= 78, line);
  const r = parseAutocryptHeader(field.slice('Autocrypt: '.length));
  assert.ok(r.ok);
  assert.deepEqual(Buffer.from(r.header.keydata), Buffer.from(keydata));
  const g = formatAutocryptHeader({ addr: 'x@example.org', keydata }, 'Autocrypt-Gossip');
  assert.doesNotMatch(g, /prefer-encrypt/);
});

test('minimized key: primary, the UID for addr, self-sig, current encryption subkey, binding', async () => {
  const k = await makeKey('me@example.org', { extraUids: ['other@example.org'] });
  // add a second encryption subkey: only the newest is kept
  const priv = await k.privateKey.addSubkey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    date: new Date(Date.now() + 1000),
  });
  const min = await minimizeKey(priv, 'me@example.org', new Date(Date.now() + 5000));
  const packets = min.toPacketList();
  assert.equal(packets.length, 5);
  assert.deepEqual(min.getUserIDs(), ['<me@example.org>']);
  assert.equal(min.subkeys.length, 1);
  assert.equal(min.subkeys[0]!.getKeyID().toHex(), priv.subkeys[1]!.getKeyID().toHex());
  assert.equal(min.isPrivate(), false);
  const field = formatAutocryptHeader({
    addr: 'me@example.org',
    preferEncrypt: 'mutual',
    keydata: min.write(),
  });
  assert.ok(field.length < 3 * 1024, `ed25519 header ~${field.length} bytes`);
  // the minimized key still encrypts
  await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'x' }),
    encryptionKeys: min,
    date: new Date(Date.now() + 5000),
  });
});
