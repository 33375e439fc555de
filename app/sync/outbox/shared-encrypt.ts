/**
 * Encrypt-once for several copies of one message. The payload (protected headers + content, and
 * the signature inside it) is the same for every encrypted copy, so it is signed and encrypted
 * ONCE under one session key; each copy then gets only its own PKESK packets (its recipients + the
 * sender) in front of the shared SEIPD packet. A copy therefore names exactly its own recipients'
 * keys, and nothing about the other copies; the shared ciphertext reveals nothing a recipient
 * could not read anyway (everyone receives the same content).
 *
 * The PGP/MIME framing is Thunderbird's layout (RFC 3156), as app/crypto writes it.
 */
import * as openpgp from 'openpgp';
import { interopConfig } from '../../crypto/openpgp-config.ts';
import { splitMessage } from '../../crypto/message-parts.ts';
import { buildProtectedPayload, OBSCURED_SUBJECT, PROTECTED_FIELDS } from '../../crypto/protected-headers.ts';
import { foldField, freshBoundary, rawField } from '../../mime/build.ts';
import { normalizeCrlf } from '../../mime/crlf.ts';

export interface SharedEncryptInput {
  /** the prepared message (transport headers + content entity) */
  base: Buffer;
  /** one key list per copy (already including the sender's key when wanted) */
  copies: openpgp.PublicKey[][];
  signingKeys: openpgp.PrivateKey[];
  /** Autocrypt-Gossip values (visible recipients only, never Bcc) */
  gossip: string[];
}

/** Returns one complete message per entry of `copies`, in order. */
export async function encryptShared(input: SharedEncryptInput): Promise<Buffer[]> {
  if (!input.copies.length) return [];
  const { transport, entity } = splitMessage(input.base);
  const protectedFields = transport.filter((h) => (PROTECTED_FIELDS as readonly string[]).includes(h.lname));
  const payload = buildProtectedPayload(entity, protectedFields, input.gossip);
  const all = dedupe(input.copies.flat());
  const sessionKey = await openpgp.generateSessionKey({ encryptionKeys: all, config: interopConfig });
  const encrypted = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: normalizeCrlf(payload) }),
    encryptionKeys: input.copies[0]!,
    signingKeys: input.signingKeys,
    sessionKey,
    format: 'object',
    config: interopConfig,
  });
  const dataPackets = encrypted.packets.filter(
    (p) => !(p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket),
  );
  const outer = Buffer.concat(
    transport
      .filter((h) => h.lname !== 'autocrypt-gossip')
      .map((h) =>
        h.lname === 'subject' ? Buffer.from(foldField('Subject', OBSCURED_SUBJECT)) : rawField(h),
      ),
  );
  const out: Buffer[] = [];
  for (const [i, keys] of input.copies.entries()) {
    let pkesks: openpgp.AnyPacket[];
    if (i === 0) {
      pkesks = encrypted.packets.filter((p) => p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket);
    } else {
      const m = await openpgp.encryptSessionKey({
        ...sessionKey,
        encryptionKeys: keys,
        format: 'object',
        config: interopConfig,
      });
      pkesks = [...m.packets];
    }
    const list = new openpgp.PacketList<openpgp.AnyPacket>();
    list.push(...pkesks, ...dataPackets);
    const armored = new openpgp.Message(list).armor({ ...openpgp.config, ...interopConfig });
    out.push(frame(outer, armored));
  }
  return out;
}

function dedupe(keys: openpgp.PublicKey[]): openpgp.PublicKey[] {
  const seen = new Map<string, openpgp.PublicKey>();
  for (const k of keys) seen.set(k.getFingerprint(), k);
  return [...seen.values()];
}

function frame(outer: Buffer, armoredText: string): Buffer {
  const armor = normalizeCrlf(Buffer.from(armoredText, 'utf8'));
  const boundary = freshBoundary(armor);
  return Buffer.concat([
    outer,
    Buffer.from(
      'MIME-Version: 1.0\r\n' +
        `Content-Type: multipart/encrypted;\r\n protocol="application/pgp-encrypted";\r\n boundary="${boundary}"\r\n\r\n` +
        'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n' +
        `--${boundary}\r\n` +
        'Content-Type: application/pgp-encrypted\r\n' +
        'Content-Description: PGP/MIME version identification\r\n' +
        '\r\n' +
        'Version: 1\r\n' +
        '\r\n' +
        `--${boundary}\r\n` +
        'Content-Type: application/octet-stream; name="encrypted.asc"\r\n' +
        'Content-Description: OpenPGP encrypted message\r\n' +
        'Content-Disposition: inline; filename="encrypted.asc"\r\n' +
        '\r\n',
    ),
    armor,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}
