/**
 * "Encrypt my mailbox at rest" (per account, off by default): replaces every plaintext message at
 * the provider with a copy encrypted to the user's own key (the injected EncryptForUpload hook).
 * Per message: download the provider's original bytes → encrypt → APPEND (same flags and date) →
 * read the copy back and compare → point the local message's mapping at the copy → only then
 * delete the original. A failed APPEND or a full quota stops the conversion with a clear error
 * and leaves every original in place; local UIDs and bytes never change. The folder is left with
 * UNSELECT (remote/mailbox-ops.ts): a message another device only marked \Deleted stays.
 */
import { createHash } from 'node:crypto';
import type { MirroredFolder } from './folders.ts';
import type { SyncContext } from './context.ts';
import { cleanFlags } from './inbound.ts';
import type { EncryptForUpload } from './types.ts';
import { ProviderError } from './remote/errors.ts';
import { leaveMailbox } from './remote/mailbox-ops.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';

export interface ConversionResult {
  converted: number;
  remaining: number;
}

function isEncrypted(contentType: string | undefined): boolean {
  return (contentType ?? '').toLowerCase() === 'multipart/encrypted';
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function errText(err: unknown): string {
  const e = err as { message?: string; responseText?: string; serverResponseCode?: string };
  return `${e?.message ?? ''} ${e?.responseText ?? ''} ${e?.serverResponseCode ?? ''}`.trim();
}

/** Converts the plaintext messages of one folder; throws ProviderError('quota'|'protocol') and stops on failure. */
export async function encryptFolderAtRest(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  encrypt: EncryptForUpload,
  onProgress: (r: ConversionResult) => void,
): Promise<ConversionResult> {
  const { store, accountId } = ctx;
  const path = f.remote.path;
  const lock = await client.lock(path);
  let converted = 0;
  try {
    const mb = client.selected;
    const uidValidity = mb?.uidValidity ?? 0;
    if (!mb || !mb.exists) return { converted: 0, remaining: 0 };
    const plain: number[] = [];
    for await (const m of client.fetch('1:*', { contentType: true }))
      if (!isEncrypted(m.contentType)) plain.push(m.uid);
    let remaining = plain.length;
    for (const uid of plain) {
      if (ctx.interrupted()) break;
      const map = store.remoteMap.find(accountId, path, uidValidity, uid);
      if (!map) {
        remaining--; // not synced here (yet): convert it on a later pass, once it is local
        continue;
      }
      let original: { raw: Buffer; flags: string[]; date: Date | undefined } | null = null;
      for await (const m of client.fetch(String(uid), { source: true, flags: true, internalDate: true }))
        if (m.source)
          original = {
            raw: m.source,
            flags: cleanFlags(m.flags),
            date: m.internalDate instanceof Date ? m.internalDate : undefined,
          };
      if (!original) {
        remaining--;
        continue;
      }
      const upload = await encrypt(original.raw, { accountId, email: ctx.email, remoteMailbox: path });
      let res;
      try {
        res = await client.append(path, upload, original.flags, original.date);
      } catch (err) {
        const t = errText(err);
        if (/OVERQUOTA|quota/i.test(t))
          throw new ProviderError(
            'quota',
            `encrypt at rest stopped: the provider mailbox is full (${converted} converted, ${remaining} left; originals kept)`,
            { cause: err },
          );
        throw new ProviderError('protocol', `encrypt at rest stopped: APPEND to ${path} failed: ${t}`, {
          cause: err,
        });
      }
      if (!res || !res.uid || Number(res.uidValidity) !== uidValidity)
        throw new ProviderError(
          'protocol',
          `encrypt at rest stopped: the provider did not confirm the upload to ${path} (originals kept)`,
        );
      // Verify the copy byte for byte before anything is deleted.
      let back: Buffer | undefined;
      for await (const m of client.fetch(String(res.uid), { source: true })) back = m.source;
      if (!back || sha(back) !== sha(upload)) {
        await client.deleteMessages(String(res.uid)).catch(() => false);
        throw new ProviderError(
          'protocol',
          `encrypt at rest stopped: the encrypted copy in ${path} did not read back intact`,
        );
      }
      store.messages.setRemote(map.messageId, accountId, {
        remoteMailbox: path,
        uidvalidity: uidValidity,
        uid: res.uid,
        ...(map.contentHash ? { contentHash: map.contentHash } : {}),
      });
      const deleted = await client.deleteMessages(String(uid));
      if (!deleted)
        throw new ProviderError('protocol', `encrypt at rest: could not delete the original in ${path}`);
      converted++;
      remaining--;
      onProgress({ converted, remaining });
    }
    return { converted, remaining };
  } finally {
    lock.release();
    // UNSELECT, never CLOSE: CLOSE would expunge what another device only marked \Deleted.
    if (client.usable) await leaveMailbox(client).catch(() => {});
  }
}
