/**
 * The minimal key for Autocrypt keydata (standards 3.4): exactly primary key, one User ID (the
 * one for `addr` when present), its current self-signature, the current encryption subkey and its
 * binding signature. Other User IDs, old subkeys and third-party certifications are dropped.
 */
import * as openpgp from 'openpgp';
import { tryCanonicalAddress } from '../address.ts';

export async function minimizeKey(
  input: openpgp.Key,
  addr: string,
  at: Date = new Date(),
): Promise<openpgp.PublicKey> {
  const key = input.toPublic();
  const user =
    key.users.find((u) => {
      const raw = u.userID?.email || u.userID?.userID || '';
      return raw !== '' && tryCanonicalAddress(raw) === addr;
    }) ?? null;
  const primary = user?.userID
    ? await key.getPrimaryUser(at, {
        email: user.userID.email,
        name: user.userID.name,
        comment: user.userID.comment,
      })
    : await key.getPrimaryUser(at);
  if (!primary.user.userID) throw new Error('key has no User ID packet');
  const enc = await key.getEncryptionKey(undefined, at);
  const list = new openpgp.PacketList<openpgp.AnyPacket>();
  list.push(key.keyPacket as openpgp.PublicKeyPacket);
  list.push(primary.user.userID);
  list.push(primary.selfCertification);
  if (enc instanceof openpgp.Subkey) {
    const binding = await enc.verify(at);
    list.push(enc.keyPacket as openpgp.PublicSubkeyPacket);
    list.push(binding);
  }
  return new openpgp.PublicKey(list);
}
