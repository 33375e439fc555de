/**
 * What a discovery source returned → the usable keys for the queried address: binary or armored
 * bodies, text/html refused, User IDs filtered to the address (a provider's filtering is never
 * trusted), keys that are expired, revoked or cannot encrypt dropped.
 */
import * as openpgp from 'openpgp';
import { inspectKey, keepOnlyUserIdsFor } from '../key-info.ts';

/** `unusable`: keys for the address that are revoked/expired (used only to merge a revocation into a known key). */
export type AcceptResult =
  | { ok: true; keys: openpgp.PublicKey[]; unusable: openpgp.PublicKey[] }
  | { ok: false; reason: string; unusable: openpgp.PublicKey[] };

export async function acceptKeyBody(
  body: Uint8Array,
  contentType: string,
  email: string,
  at: Date,
): Promise<AcceptResult> {
  if (contentType.startsWith('text/html')) return { ok: false, reason: 'text/html response', unusable: [] };
  if (body.length === 0) return { ok: false, reason: 'empty response', unusable: [] };
  let keys: openpgp.Key[];
  try {
    const text = Buffer.from(body).toString('latin1');
    if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
      const block = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/.exec(
        text,
      );
      keys = await openpgp.readKeys({ armoredKeys: block ? block[0] : text });
    } else {
      keys = await openpgp.readKeys({ binaryKeys: body });
    }
  } catch {
    return { ok: false, reason: 'not an OpenPGP key', unusable: [] };
  }
  const out: openpgp.PublicKey[] = [];
  const unusable: openpgp.PublicKey[] = [];
  let reason = 'no key for this address';
  for (const k of keys) {
    if (k.isPrivate()) continue;
    const filtered = await keepOnlyUserIdsFor(k, email);
    if (!filtered) continue;
    const info = await inspectKey(
      filtered,
      new Date(Math.max(at.getTime(), filtered.getCreationTime().getTime())),
    );
    if (!info.canEncrypt) {
      reason = info.revoked ? 'key is revoked' : info.expired ? 'key is expired' : 'key cannot encrypt';
      unusable.push(filtered);
      continue;
    }
    out.push(filtered);
  }
  return out.length ? { ok: true, keys: out, unusable } : { ok: false, reason, unusable };
}
