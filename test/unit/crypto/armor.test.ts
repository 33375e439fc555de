/**
 * app/crypto/armor.ts writes the armor openpgp.js's Message.armor() writes, with CRLF line ends:
 * messages of lengths around every line and base64 boundary, with and without the CRC-24 line
 * (SEIPD v1 carries it, SEIPD v2 must not), and a message armored from two runs of packets (a
 * copy's PKESKs, then the data packets every copy shares) equals the whole list armored at once.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { armorMessage, writePackets } from '../../../app/crypto/armor.ts';
import { makeKey, type TestKey } from '../../helpers/crypto/keys.ts';
import { seeded } from '../../helpers/seeded.ts';

const random = seeded();

const openpgpArmor = (m: openpgp.Message<Uint8Array>): Buffer =>
  Buffer.from(m.armor().replace(/\n/g, '\r\n'), 'utf8');

async function encrypted(bytes: number, keys: TestKey[]): Promise<openpgp.Message<Uint8Array>> {
  return openpgp.encrypt({
    message: await openpgp.createMessage({ binary: randomBytes(bytes) }),
    encryptionKeys: keys.map((k) => k.publicKey),
    format: 'object',
  });
}

describe('OpenPGP armor with CRLF', () => {
  let a: TestKey;
  let b: TestKey;
  before(async () => {
    a = await makeKey('A', 'a@example.test');
    b = await makeKey('B', 'b@example.test');
  });

  it('is what openpgp.js writes, with CRLF, at every line and base64 boundary', () =>
    random.report(async () => {
      const lengths = [0, 1, 2, 3, 44, 45, 46, 89, 90, 91, 1_000_000];
      for (let i = 0; i < 20; i++) lengths.push(random.int(5000));
      for (const n of lengths) {
        const m = await encrypted(n, [a]);
        const ours = armorMessage([await writePackets(m.packets)]);
        assert.ok(
          ours.includes('\r\n=') && !/[^\r]\n/.test(ours.toString('latin1')),
          `CRC line, CRLF only (${n})`,
        );
        assert.deepEqual(ours, openpgpArmor(m), `payload of ${n} bytes`);
      }
    }));

  it('writes no CRC-24 line after a SEIPD v2 packet (openpgp.js writes that one as a stream)', async () => {
    // a key that announces SEIPD v2: openpgp.js encrypts to it with v2 whatever aeadProtect says
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: 'v2@example.test' }],
      format: 'object',
      config: { aeadProtect: true, v6Keys: false },
    });
    const payload = randomBytes(300);
    const m = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: payload }),
      encryptionKeys: publicKey,
      format: 'object',
    });
    const last = m.packets[m.packets.length - 1];
    assert.ok(last instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket);
    assert.equal((last as unknown as { version: number }).version, 2);
    const ours = armorMessage([await writePackets(m.packets)]).toString('latin1');
    assert.ok(!ours.includes('\r\n=') && !/[^\r]\n/.test(ours), 'no CRC line, CRLF only');
    const read = await openpgp.readMessage({ armoredMessage: ours });
    const { data } = await openpgp.decrypt({ message: read, decryptionKeys: privateKey, format: 'binary' });
    assert.deepEqual(Buffer.from(data as Uint8Array), payload);
  });

  it('armors a copy from its own PKESKs and the shared data packets as the whole message', async () => {
    const m = await encrypted(10_000, [a, b]);
    const isPkesk = (p: openpgp.AnyPacket) => p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket;
    const ours = armorMessage([
      await writePackets(m.packets.filter(isPkesk)),
      await writePackets(m.packets.filter((p) => !isPkesk(p))),
    ]);
    assert.deepEqual(ours, openpgpArmor(m));
    const read = await openpgp.readMessage({ armoredMessage: ours.toString('latin1') });
    const { data } = await openpgp.decrypt({ message: read, decryptionKeys: b.privateKey, format: 'binary' });
    assert.equal((data as Uint8Array).length, 10_000);
  });
});
