/**
 * Repair of one folder (Proton Bridge's "repair", done safely): the normal pass first
 * (mailbox-sync.ts: UIDVALIDITY, new messages, flags, expunges — no other deletion rule), then
 *   1. the provider's full UID list against the local mapping: a message of the synced range
 *      missing locally (a row lost behind the engine's back) is fetched again through the normal
 *      batch path (runBatches → commitBatch: own uploads adopted, nothing stored twice); a message
 *      whose local expunge still waits for the provider is not missing;
 *   2. every local copy's stored bytes against the length and SHA-256 recorded at insert: a
 *      damaged one is fetched again and written back in place when the provider's message gives
 *      the same bytes (the UID stays), else replaced by a new local message with its flags.
 * Nothing is written at the provider (EXAMINE, UNSELECT); local flags and queued local changes are
 * left as they are.
 */
import type { MirroredFolder } from './folders.ts';
import { listUids, runBatches, syncMailbox } from './mailbox-sync.ts';
import type { SyncContext } from './context.ts';
import { leaveMailbox } from './remote/mailbox-ops.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';
import { batchBySize } from './uid-range.ts';
import type { FolderRepair, MailboxSyncState } from './types.ts';
import { fetchPrepared, writeBack } from './body-fetch.ts';

export async function repairMailbox(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
): Promise<FolderRepair> {
  const { store, accountId } = ctx;
  const path = f.remote.path;
  const out: FolderRepair = {
    folder: f.local.name,
    provider: 0,
    checked: 0,
    fetched: 0,
    refetched: 0,
    repaired: 0,
    unrepaired: 0,
    dropped: 0,
  };
  const before = store.remoteMap.countIn(accountId, path);
  out.fetched = (await syncMailbox(ctx, client, f, { backfill: true })).fetched;
  out.dropped = Math.max(0, before + out.fetched - store.remoteMap.countIn(accountId, path));

  const lock = await client.lock(path, { readOnly: true });
  try {
    const mb = client.selected;
    if (!mb) throw new Error(`could not select ${path}`);
    const uidValidity = mb.uidValidity;
    out.provider = mb.exists;
    const state = store.syncState.get<MailboxSyncState>(accountId, path);
    if (!state || state.uidValidity !== uidValidity) return out; // changed meanwhile: the next pass remaps

    // 1. Missing locally within the synced range.
    const remote = mb.exists ? await listUids(client, '1:*') : [];
    const lo = state.initialDone ? 1 : state.lowSynced;
    const mapped = store.remoteMap.remoteUidsIn(accountId, path, uidValidity, lo, state.highSynced);
    const waiting = store.pending.expungesWaiting(accountId, path, uidValidity);
    const missing = remote.filter(
      (m) => m.uid >= lo && m.uid <= state.highSynced && !mapped.has(m.uid) && !waiting.has(m.uid),
    );
    out.refetched = await runBatches(
      ctx,
      client,
      f,
      uidValidity,
      batchBySize(missing, ctx.batchMessages, ctx.batchBytes),
      state,
      () => () => {}, // the synced range stays as it is
      false,
    );

    // 2. Damaged local copies.
    const present = new Set(remote.map((m) => m.uid));
    const locals = store.remoteMap
      .inRemoteMailbox(accountId, path)
      .filter((m) => m.remoteUidValidity === uidValidity);
    out.checked = locals.length;
    const damaged: typeof locals = [];
    let slice = performance.now();
    for (const m of locals) {
      if (!(await store.messages.intact(m.blobId))) damaged.push(m);
      // Reading every body is long for a big folder: the servers get a turn every 20 ms.
      if (performance.now() - slice > 20) {
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      }
    }
    const fetchable = damaged.filter((m) => present.has(m.remoteUid));
    out.unrepaired = damaged.length - fetchable.length;
    const fresh = await fetchPrepared(
      ctx,
      client,
      fetchable.map((d) => d.remoteUid),
      path,
      uidValidity,
    );
    for (const d of fetchable) {
      const p = fresh.get(d.remoteUid);
      if (!p) {
        out.unrepaired++;
        continue;
      }
      if (await store.messages.intact(d.blobId)) {
        out.repaired++;
        continue;
      }
      const done = await writeBack(ctx, d, p);
      if (done === 'kept') out.unrepaired++;
      else if (done !== 'gone') out.repaired++;
    }
    ctx.logger.info({ mailbox: path, ...out }, 'folder repaired');
    return out;
  } finally {
    lock.release();
    if (client.usable) await leaveMailbox(client).catch(() => {});
  }
}
