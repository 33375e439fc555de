/**
 * Syncs one remote mailbox into its local mailbox:
 *   1. UIDVALIDITY check (a change → remap by content, local UIDs kept: uid-remap.ts);
 *   2. new messages above the synced range (ascending);
 *   3. flag changes (CONDSTORE CHANGEDSINCE, else a full FLAGS comparison) and expunges (UID
 *      SEARCH diff) within the synced range — local changes still queued win; a full pass removes
 *      the expunged ones after its last folder (`GoneAtProvider`), so moves between folders reuse;
 *   4. initial backfill, newest first, in batches bounded by count and bytes; each batch is
 *      committed together with the sync state (resumable, no duplicates).
 */
import { leaveMailbox } from './remote/mailbox-ops.ts';
import type { RemoteMailbox, RemoteMessage } from './remote/remote-mailbox.ts';
import { holdSmallCache } from '../store/cache-hold.ts';
import type { MirroredFolder } from './folders.ts';
import { cleanFlags, commitBatch, prepareInbound, type FetchedMessage } from './inbound.ts';
import { remapAfterUidValidityChange } from './uid-remap.ts';
import { reuseStored } from './reuse.ts';
import { batchBySize, toUidSet } from './uid-range.ts';
import type { MailboxSyncState } from './types.ts';
import type { SyncContext } from './context.ts';

/**
 * Messages a pass found gone at the provider, kept here until the pass has looked at every folder
 * (`applyGone`): a message another device moved between folders is then still stored when the
 * folder it went to is synced, and is matched to it (reuse.ts) instead of being downloaded again.
 */
export interface GoneAtProvider {
  path: string;
  uidValidity: number;
  remoteUids: number[];
}

export interface MailboxPassResult {
  fetched: number;
  /** The initial backfill still has older messages to fetch. */
  backfillLeft: boolean;
}

function num(v: number | undefined): number {
  return v ?? 0;
}

export function internalDateOf(m: RemoteMessage): number {
  const d = m.internalDate;
  if (d instanceof Date) return d.getTime();
  if (typeof d === 'string') {
    const t = Date.parse(d);
    if (!Number.isNaN(t)) return t;
  }
  return Date.now();
}

/** (uid, size) of every message in a UID range, ascending. */
export async function listUids(
  client: RemoteMailbox,
  range: string,
): Promise<Array<{ uid: number; size: number }>> {
  const out: Array<{ uid: number; size: number }> = [];
  for await (const m of client.fetch(range, { size: true })) out.push({ uid: m.uid, size: m.size ?? 0 });
  return out.sort((a, b) => a.uid - b.uid);
}

/**
 * Fetches one batch from the provider and starts processing its messages; the returned function
 * waits for the processing and commits the batch (with `advance` applied to the state).
 */
async function startBatch(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  uids: number[],
  state: MailboxSyncState,
  advance: (s: MailboxSyncState) => void,
): Promise<() => Promise<number>> {
  const path = f.remote.path;
  const jobs: Array<Promise<Awaited<ReturnType<typeof prepareInbound>>>> = [];
  let bytes = 0;
  const already = ctx.store.remoteMap.remoteUidsIn(
    ctx.accountId,
    path,
    uidValidity,
    uids[0]!,
    uids[uids.length - 1]!,
  );
  const wanted = uids.filter((u) => !already.has(u));
  if (wanted.length) {
    for await (const m of client.fetch(toUidSet(wanted), { flags: true, internalDate: true, source: true })) {
      if (!m.source || already.has(m.uid)) continue;
      bytes += m.source.length;
      const fm: FetchedMessage = {
        uid: m.uid,
        raw: m.source,
        flags: cleanFlags(m.flags),
        internalDate: internalDateOf(m),
      };
      const job = prepareInbound(
        ctx.store,
        fm,
        ctx.processInbound,
        { accountId: ctx.accountId, email: ctx.email, remoteMailbox: path },
        uidValidity,
      ).then(async (p) => ({ ...p, msg: await ctx.store.messages.prepack(p.msg) }));
      job.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
      jobs.push(job);
    }
  }
  return async () => {
    const prepared = await Promise.all(jobs);
    // big bodies are written ahead in chunks (one short transaction each), then linked
    const n = await ctx.store.messages.staged(
      prepared.map((p) => p.msg),
      (msgs) => {
        advance(state);
        return commitBatch(
          ctx.store,
          ctx.accountId,
          f.local.id,
          path,
          prepared.map((p, i) => ({ ...p, msg: msgs[i]! })),
          state,
        );
      },
    );
    if (n) ctx.onStored(f.local.name, n, bytes);
    return n;
  };
}

/**
 * Runs batches in order with one batch of look-ahead: the next batch is fetched while the
 * previous one is still being decrypted, and commits stay strictly sequential (resumability).
 */
export async function runBatches(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  batches: Array<Array<{ uid: number }>>,
  state: MailboxSyncState,
  advanceFor: (batch: Array<{ uid: number }>) => (s: MailboxSyncState) => void,
  stoppable: boolean,
): Promise<number> {
  if (!batches.length) return 0;
  const releaseCache = holdSmallCache(ctx.store); // a write burst: see app/store/cache-hold.ts
  try {
    return await runBatchesHeld(ctx, client, f, uidValidity, batches, state, advanceFor, stoppable);
  } finally {
    releaseCache();
  }
}

async function runBatchesHeld(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  batches: Array<Array<{ uid: number }>>,
  state: MailboxSyncState,
  advanceFor: (batch: Array<{ uid: number }>) => (s: MailboxSyncState) => void,
  stoppable: boolean,
): Promise<number> {
  let fetched = 0;
  let prev: Promise<void> = Promise.resolve();
  let beforePrev: Promise<void> = Promise.resolve();
  for (const batch of batches) {
    if (stoppable && ctx.interrupted()) break;
    // Backpressure: at most one batch waits for processing while the next one is fetched.
    await beforePrev;
    let finish: () => Promise<number>;
    try {
      finish = await startBatch(
        ctx,
        client,
        f,
        uidValidity,
        batch.map((b) => b.uid),
        state,
        advanceFor(batch),
      );
    } catch (err) {
      await prev.catch(() => {});
      throw err;
    }
    beforePrev = prev;
    prev = prev.then(async () => {
      fetched += await finish();
    });
    prev.catch(() => {}); // rethrown by the await below
  }
  await prev;
  return fetched;
}

export function freshState(uidValidity: number, uidNext: number): MailboxSyncState {
  const top = Math.max(0, uidNext - 1);
  return {
    uidValidity,
    highSynced: top,
    lowSynced: top + 1,
    initialTop: top,
    initialDone: top === 0,
    modseq: 0,
  };
}

export async function syncMailbox(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  opts: { backfill: boolean; quick?: boolean; gone?: GoneAtProvider[] },
): Promise<MailboxPassResult> {
  const { store, accountId } = ctx;
  const path = f.remote.path;
  let state = store.syncState.get<MailboxSyncState>(accountId, path);

  // Fast path: STATUS says nothing changed since the last complete pass.
  if (state && state.initialDone && state.modseq && !opts.quick) {
    const st = await client.status(path, {
      uidNext: true,
      uidValidity: true,
      highestModseq: true,
      messages: true,
    });
    if (
      st &&
      num(st.uidValidity) === state.uidValidity &&
      num(st.highestModseq) === state.modseq &&
      (st.uidNext ?? 0) - 1 <= state.highSynced
    ) {
      ctx.progress.setFolder(f.local.name, st.messages ?? 0, ctx.store.remoteMap.countIn(accountId, path));
      return { fetched: 0, backfillLeft: false };
    }
  }

  // EXAMINE: a pass only reads, and a read-only mailbox can never be expunged by leaving it.
  const lock = await client.lock(path, { readOnly: true });
  let fetched = 0;
  try {
    const mb = client.selected;
    if (!mb) throw new Error(`could not select ${path}`);
    const uidValidity = mb.uidValidity;
    const uidNext = mb.uidNext;
    const highestModseq = mb.highestModseq;
    const condstore = highestModseq > 0;

    if (!state) {
      state = freshState(uidValidity, uidNext);
      store.syncState.put(accountId, path, state);
    } else if (state.uidValidity !== uidValidity) {
      ctx.logger.warn(
        { mailbox: path, old: state.uidValidity, new: uidValidity },
        'UIDVALIDITY changed at the provider; remapping by content',
      );
      state = await remapAfterUidValidityChange(ctx, client, f, uidValidity, uidNext);
    }
    ctx.progress.setFolder(f.local.name, mb.exists, ctx.store.remoteMap.countIn(accountId, path));

    // 2. New messages (ascending, committed per batch).
    if (opts.quick || uidNext - 1 > state.highSynced) {
      let fresh = (await listUids(client, `${state.highSynced + 1}:*`)).filter(
        (m) => m.uid > state!.highSynced,
      );
      // already stored here under another UID or folder: not downloaded again (reuse.ts)
      const reused = fresh.length ? await reuseStored(ctx, client, f, uidValidity, fresh) : null;
      if (reused?.size) fresh = fresh.filter((m) => !reused.has(m.uid));
      fetched += await runBatches(
        ctx,
        client,
        f,
        uidValidity,
        batchBySize(fresh, ctx.batchMessages, ctx.batchBytes),
        state,
        (batch) => (s) => {
          s.highSynced = batch[batch.length - 1]!.uid;
        },
        false,
      );
      if (state.highSynced < uidNext - 1) {
        state.highSynced = uidNext - 1;
        store.syncState.put(accountId, path, state);
      }
    }

    ctx.logger.debug(
      { mailbox: path, quick: opts.quick ?? false, state, highestModseq, uidNext },
      'mailbox pass',
    );
    // 3. Flags and expunges within the synced range.
    const lo = Math.max(1, state.lowSynced);
    const hi = state.highSynced;
    // (quick = the IDLE connection: its cached HIGHESTMODSEQ may lag, so always look.)
    if (hi >= lo && (opts.quick || !condstore || highestModseq !== state.modseq)) {
      await reconcileFlags(
        ctx,
        client,
        f,
        uidValidity,
        lo,
        hi,
        condstore && state.modseq > 0 ? state.modseq : 0,
      );
      const gone = await expungedAtProvider(ctx, client, f, uidValidity, lo, hi);
      if (gone.length) {
        const found = { path, uidValidity, remoteUids: gone };
        if (opts.gone) opts.gone.push(found);
        else applyGone(ctx, found);
      }
    }

    // 4. Initial backfill, newest first, one window of UIDs at a time: the list of what is left
    // is never held whole (a million-message folder's was ~50 MB of heap).
    if (!state.initialDone && opts.backfill) {
      let span = ctx.backfillWindow;
      while (state.lowSynced > 1 && !ctx.interrupted()) {
        const hi = state.lowSynced - 1;
        const lo = Math.max(1, hi - span + 1);
        const listed = await listUids(client, `${lo}:${hi}`);
        const rest = listed.filter((m) => m.uid >= lo && m.uid <= hi).reverse();
        fetched += await runBatches(
          ctx,
          client,
          f,
          uidValidity,
          batchBySize(rest, ctx.batchMessages, ctx.batchBytes),
          state,
          (batch) => (s) => {
            s.lowSynced = batch[batch.length - 1]!.uid;
          },
          true,
        );
        if (ctx.interrupted()) break;
        // every UID of the window is here now (or was never at the provider)
        state.lowSynced = lo;
        store.syncState.put(accountId, path, state);
        // sparse UIDs (a folder that had many deleted): wider windows, fewer round trips
        if (rest.length < span / 4) span = Math.min(span * 4, ctx.backfillWindow * 1024);
      }
      if (!ctx.interrupted()) {
        state.lowSynced = 1;
        state.initialDone = true;
      }
    }
    // Only a pass on a fresh SELECT may advance the CONDSTORE mark.
    if (state.initialDone && condstore && !opts.quick) state.modseq = highestModseq;
    store.syncState.put(accountId, path, state);
    ctx.progress.setFolder(f.local.name, mb.exists, ctx.store.remoteMap.countIn(accountId, path));
    return { fetched, backfillLeft: !state.initialDone };
  } finally {
    lock.release();
    // Leave nothing selected on the pass connection: STATUS on a selected mailbox may answer
    // from the session's stale view, which would hide changes from the next fast path.
    // (UNSELECT, never CLOSE: CLOSE expunges what other devices only marked \Deleted.)
    if (!opts.quick && client.usable) await leaveMailbox(client).catch(() => {});
  }
}

async function reconcileFlags(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  lo: number,
  hi: number,
  changedSince: number,
): Promise<void> {
  const path = f.remote.path;
  // With CHANGEDSINCE the provider answers only what changed: one command. Without (a provider
  // without CONDSTORE, or before the first complete pass) it answers every message of the range:
  // asked backfillWindow messages mapped here at a time, so a big folder's flags are never held
  // whole (1,000,000 messages' were ~100 MB of heap, at every pass).
  const ranges: string[] = [];
  if (changedSince > 0) ranges.push(`${lo}:${hi}`);
  else {
    const mapped = ctx.store.remoteMap.sortedRemoteUidsIn(ctx.accountId, path, uidValidity, lo, hi);
    for (let i = 0; i < mapped.length; i += ctx.backfillWindow)
      ranges.push(`${mapped[i]}:${mapped[Math.min(mapped.length, i + ctx.backfillWindow) - 1]}`);
  }
  const q = changedSince > 0 ? { changedSince } : {};
  for (const range of ranges) {
    let updates: Array<{ uid: number; flags: string[] }> = [];
    for await (const m of client.fetch(range, { flags: true }, q)) {
      updates.push({ uid: m.uid, flags: cleanFlags(m.flags) });
      // applied as they come: a mass change (CHANGEDSINCE after "mark all read") is not held whole
      if (updates.length >= FLAGS_APPLY) {
        applyFlags(ctx, path, uidValidity, updates);
        updates = [];
      }
    }
    applyFlags(ctx, path, uidValidity, updates);
  }
}

/** Provider flags applied per transaction by reconcileFlags. */
const FLAGS_APPLY = 2_000;

function applyFlags(
  ctx: SyncContext,
  path: string,
  uidValidity: number,
  updates: ReadonlyArray<{ uid: number; flags: string[] }>,
): void {
  if (!updates.length) return;
  ctx.store.transaction(() => {
    for (const u of updates) {
      const map = ctx.store.remoteMap.find(ctx.accountId, path, uidValidity, u.uid);
      if (!map) continue;
      if (ctx.store.pending.hasLocalChange(ctx.accountId, map.mailboxId, map.uid)) continue; // local change wins; replay pushes it
      const cur = ctx.store.messages.get(map.mailboxId, map.uid);
      if (!cur) continue;
      if (sameFlags(cur.flags, u.flags)) continue;
      ctx.store.messages.storeFlags(map.mailboxId, [map.uid], 'replace', u.flags, { origin: 'sync' });
    }
  });
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((x) => x.toLowerCase()));
  return b.every((x) => s.has(x.toLowerCase()));
}

/**
 * The provider is asked which UIDs it still has EXPUNGE_WINDOW_FACTOR x backfillWindow mapped
 * messages at a time (100,000 by default: ~0.7 MB of answer and ~1 MB of heap; a million-message
 * folder's whole list at once was ~7 MB of answer and a million-element array), 10 round trips
 * per pass at a million.
 */
const EXPUNGE_WINDOW_FACTOR = 10;

/** The remote UIDs of the synced range `lo:hi` that are mapped here and gone at the provider. */
async function expungedAtProvider(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  lo: number,
  hi: number,
): Promise<number[]> {
  const path = f.remote.path;
  // both sides as sorted 4-byte UIDs, compared in one merge per window: no Set of a folder's UIDs
  const mapped = ctx.store.remoteMap.sortedRemoteUidsIn(ctx.accountId, path, uidValidity, lo, hi);
  if (!mapped.length) return [];
  const window = ctx.backfillWindow * EXPUNGE_WINDOW_FACTOR;
  const gone: number[] = [];
  let asked = 0;
  for (let i = 0; i < mapped.length; i += window) {
    const end = Math.min(mapped.length, i + window);
    const present = Uint32Array.from(await client.search({ uid: `${mapped[i]}:${mapped[end - 1]}` })).sort();
    asked += present.length;
    let j = 0;
    for (let k = i; k < end; k++) {
      const uid = mapped[k]!;
      while (j < present.length && present[j]! < uid) j++;
      if (present[j] !== uid) gone.push(uid);
    }
  }
  ctx.logger.debug(
    { mailbox: path, lo, hi, mapped: mapped.length, present: asked, gone: gone.length },
    'expunge check',
  );
  return gone;
}

/**
 * Removes here what was found gone at the provider — what is still mapped to those remote UIDs (a
 * message matched to a new UID meanwhile is not). One changed here meanwhile is kept and uploaded
 * again (no loss).
 */
export function applyGone(ctx: SyncContext, g: GoneAtProvider): void {
  ctx.store.transaction(() => {
    const byMailbox = new Map<number, number[]>();
    for (const ruid of g.remoteUids) {
      const map = ctx.store.remoteMap.find(ctx.accountId, g.path, g.uidValidity, ruid);
      if (!map) continue;
      if (ctx.store.pending.hasLocalChange(ctx.accountId, map.mailboxId, map.uid)) {
        // Deleted at the provider while changed here: keep it and upload it again (no loss).
        ctx.store.remoteMap.unmap(map.messageId);
        ctx.store.pending.enqueue(ctx.accountId, { kind: 'append', mailboxId: map.mailboxId, uid: map.uid });
        continue;
      }
      const list = byMailbox.get(map.mailboxId) ?? [];
      list.push(map.uid);
      byMailbox.set(map.mailboxId, list);
    }
    for (const [mailboxId, uids] of byMailbox) ctx.store.messages.remove(mailboxId, uids, 'sync');
  });
}
