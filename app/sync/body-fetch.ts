/**
 * Bodies on demand (issue 20): the body of a message evicted from the local body cache
 * (app/store/repos/messages/body-cache.ts) is fetched again from the provider when a client asks
 * for it, through the same inbound processing as a sync (decrypted on the crypto worker pool), and
 * written back in place only when it gives exactly the bytes recorded at insert (size and SHA-256):
 * RFC822.SIZE, BODYSTRUCTURE and BODY[] served before the eviction, while evicted and after stay
 * the same. When the provider's message no longer gives those bytes (e.g. the keyring changed
 * since), the local message is replaced by a new one holding what the provider gives now, with its
 * flags (as repair does: writeBack), and this request for the old UID fails.
 */
import { cleanFlags, prepareInbound, type PreparedMessage } from './inbound.ts';
import { internalDateOf } from './mailbox-sync.ts';
import type { SyncContext } from './context.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';
import { toUidSet } from './uid-range.ts';

export interface BodyFetchResult {
  /** Local UIDs whose body is local now (fetched, or back already), or that are gone locally. */
  restored: number[];
  /** Local UIDs whose body could not be had (no provider copy, another UIDVALIDITY, other bytes). */
  failed: number[];
}

interface Wanted {
  uid: number;
  blobId: number;
  remoteUid: number;
}

/**
 * Fetches the evicted bodies of the messages `uids` of local mailbox `mailboxId` on `client` and
 * writes them back. A message that is gone locally or whose body is local already counts as
 * restored. Provider errors are thrown (the caller answers every UID not done as unavailable).
 */
export async function fetchBodies(
  ctx: SyncContext,
  client: RemoteMailbox,
  mailboxId: number,
  uids: readonly number[],
): Promise<BodyFetchResult> {
  const { store } = ctx;
  const out: BodyFetchResult = { restored: [], failed: [] };
  // remote mailbox → (uidvalidity, messages)
  const byFolder = new Map<string, { uidValidity: number; wanted: Wanted[] }>();
  for (const uid of uids) {
    const m = store.messages.get(mailboxId, uid);
    if (!m || !store.messages.bodyEvicted(m.blobId)) {
      out.restored.push(uid);
      continue;
    }
    const map = store.remoteMap.forMessage(m.id);
    const folder = map ? byFolder.get(map.remoteMailbox) : undefined;
    if (!map || (folder && folder.uidValidity !== map.remoteUidValidity)) {
      out.failed.push(uid);
      continue;
    }
    const w = { uid, blobId: m.blobId, remoteUid: map.remoteUid };
    if (folder) folder.wanted.push(w);
    else byFolder.set(map.remoteMailbox, { uidValidity: map.remoteUidValidity, wanted: [w] });
  }
  for (const [path, { uidValidity, wanted }] of byFolder) {
    const lock = await client.lock(path, { readOnly: true });
    try {
      if (client.selected?.uidValidity !== uidValidity) {
        // renumbered at the provider: the next pass remaps (uid-remap.ts), then it can be fetched
        for (const w of wanted) out.failed.push(w.uid);
        continue;
      }
      const byRemote = new Map(wanted.map((w) => [w.remoteUid, w]));
      const fresh = await fetchPrepared(ctx, client, [...byRemote.keys()], path, uidValidity);
      for (const w of wanted) {
        const p = fresh.get(w.remoteUid);
        // gone at the provider: the next pass removes it locally
        if (!p) {
          out.failed.push(w.uid);
          continue;
        }
        const done = await writeBack(ctx, { mailboxId, uid: w.uid, blobId: w.blobId }, p);
        // 'gone': expunged here while the provider was asked, nothing to write back
        if (done === 'restored' || done === 'gone') out.restored.push(w.uid);
        else {
          out.failed.push(w.uid);
          ctx.logger.warn(
            { mailbox: path, uid: w.uid, outcome: done },
            'the provider no longer gives the bytes this message was served with',
          );
        }
      }
    } finally {
      // the folder stays EXAMINEd (read-only: nothing is ever expunged by leaving it): the next
      // request for it needs no EXAMINE, and the connection closes after a minute unused
      lock.release();
    }
  }
  return out;
}

/**
 * Writes a local message's bytes back from the provider's copy `p`: in place when they are
 * exactly the bytes recorded (the UID stays: 'restored'); else the local message is replaced by a
 * new one with the old one's flags ('replaced'), unless a local change of it still waits ('kept');
 * 'gone' when the local message was expunged meanwhile (nothing written). Repair (damaged copies)
 * and bodies on demand (evicted ones) both go this way.
 */
export async function writeBack(
  ctx: SyncContext,
  local: { mailboxId: number; uid: number; blobId: number },
  p: PreparedMessage,
): Promise<'restored' | 'replaced' | 'kept' | 'gone'> {
  const { store, accountId } = ctx;
  if (await store.messages.restoreRaw(local.blobId, p.msg)) return 'restored';
  const m = store.messages.get(local.mailboxId, local.uid);
  if (!m) return 'gone';
  // The provider's message no longer gives the same bytes (e.g. the keyring changed): a new
  // local message with the old one's flags, unless a local change of it still waits.
  if (store.pending.hasLocalChange(accountId, local.mailboxId, local.uid)) return 'kept';
  // a big body is written ahead in chunks (staged): the transaction only links it
  await store.messages.staged([p.msg], ([msg]) =>
    store.transaction(() => {
      store.messages.remove(local.mailboxId, [local.uid], 'sync');
      store.messages.insert(
        local.mailboxId,
        { ...msg!, flags: m.flags, internalDate: m.internalDate },
        'sync',
      );
    }),
  );
  return 'replaced';
}

/**
 * Fetches `uids` of the selected provider folder `path` again and prepares each as a sync pass
 * does (decrypted on the pool, analysed, packed): by remote UID, those the provider still has.
 */
export async function fetchPrepared(
  ctx: SyncContext,
  client: RemoteMailbox,
  uids: readonly number[],
  path: string,
  uidValidity: number,
): Promise<Map<number, PreparedMessage>> {
  const fresh = new Map<number, PreparedMessage>();
  if (!uids.length) return fresh;
  const want = new Set(uids);
  for await (const m of client.fetch(toUidSet([...want].sort((a, b) => a - b)), {
    flags: true,
    internalDate: true,
    source: true,
  })) {
    if (!m.source || !want.has(m.uid)) continue;
    const prepared = await prepareInbound(
      ctx.store,
      { uid: m.uid, raw: m.source, flags: cleanFlags(m.flags), internalDate: internalDateOf(m) },
      ctx.processInbound,
      { accountId: ctx.accountId, email: ctx.email, remoteMailbox: path },
      uidValidity,
    );
    fresh.set(m.uid, { ...prepared, msg: await ctx.store.messages.prepack(prepared.msg) });
  }
  return fresh;
}
