/**
 * The copy for the user's own mailboxes at the provider (sync's `EncryptForUpload` hook, wired by
 * app/control/runtime.ts): what Lockbridge uploads to the provider (Sent and Drafts copies,
 * imports, the encrypt-at-rest conversion) is encrypted to the user's own key and signed, so the
 * provider never sees it in plaintext. Messages that are already PGP/MIME encrypted go as they are.
 */
import type { CryptoEngine } from '../crypto/engine.ts';
import { parseHeaderBlock, firstValue } from '../mime/header-block.ts';
import { parseContentType } from '../mime/params.ts';
import type { Keyring } from '../keys/keyring.ts';
import { UserError } from '../shared/errors.ts';
import { isSetupMessage } from '../keys/autocrypt/setup-message.ts';
import { isLocalOnlyField } from './prepare.ts';

export function isPgpEncrypted(raw: Buffer): boolean {
  const block = parseHeaderBlock(raw, 0, raw.length);
  const ct = parseContentType(firstValue(raw, block, 'content-type'));
  return ct !== null && `${ct.type}/${ct.subtype}`.toLowerCase() === 'multipart/encrypted';
}

/** Removes the local-only fields (X-Lockbridge-*, Autocrypt-Draft-State) from the top-level header. */
export function stripLocalHeaders(raw: Buffer): Buffer {
  const block = parseHeaderBlock(raw, 0, raw.length);
  const keep: Buffer[] = [];
  for (const f of block.fields) if (!isLocalOnlyField(f.lower)) keep.push(raw.subarray(f.start, f.end));
  return Buffer.concat([...keep, raw.subarray(block.headerEnd)]);
}

/** A copy for the account's own mailbox at the provider, as it is uploaded (sync's `EncryptForUpload`). */
export type EncryptToSelf = (raw: Buffer, ctx: { email: string }) => Promise<Buffer>;

export function createUploadEncryptor(deps: { keyring: Keyring; engine: CryptoEngine }): EncryptToSelf {
  return async (raw, ctx) => {
    // Already ciphertext: PGP/MIME, or an Autocrypt Setup Message (encrypted to its setup code and
    // meant to be read by the user's other devices as it is).
    if (isPgpEncrypted(raw) || isSetupMessage(raw)) return raw;
    const own = deps.keyring.own.active(ctx.email);
    if (!own)
      throw new UserError('no-own-key', `no own key for ${ctx.email}: cannot upload encrypted to self`);
    const key = await deps.keyring.own.privateKey(own);
    return deps.engine.encryptMessage(stripLocalHeaders(raw), {
      encryptionKeys: [key.toPublic()],
      signingKeys: [key],
    });
  };
}
