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
import { sha256Sliced } from '../store/repos/raw-codec.ts';
import {
  cleanFlags,
  prepareInbound,
  servedBytes,
  type FetchedMessage,
  type PreparedMessage,
} from './inbound.ts';
import { internalDateOf } from './mailbox-sync.ts';
import type { SyncContext } from './context.ts';
import type { InboundContext } from './types.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';
import { toUidSet } from './uid-range.ts';

export interface BodyFetchResult {
  /** Local UIDs whose body is local now (fetched, or back already), or that are gone locally. */
  restored: number[];
  /** Local UIDs whose body could not be had (no provider copy, another UIDVALIDITY, other bytes). */
  failed: number[];
}

/** What readBodies gives: the result, the bodies fetched, and their write-back. */
export interface BodiesRead extends BodyFetchResult {
  /**
   * The bodies fetched from the provider, by local UID (among `restored`): exactly the bytes the
   * message was served with (size and SHA-256 recorded at insert), checked, maybe not stored yet.
   */
  bodies: Map<number, Buffer>;
  /** Resolves once those bodies are stored again (never rejects: a failed write is logged). */
  stored: Promise<void>;
}

interface Wanted {
  uid: number;
  blobId: number;
  remoteUid: number;
}

/** A body checked and handed out, to be stored back: `prepare` analyses and packs it then. */
interface ToStore {
  local: Wanted;
  prepare: () => Promise<PreparedMessage>;
}

/**
 * The write-backs of bodies already handed out (readBodies), each batch's in one task: a later
 * request for one of those bodies waits for it before it looks at what is evicted (a body just
 * fetched is not fetched again; others need not wait), and the engine's stop waits for them all
 * (nothing writes to the store after it).
 */
export class WriteBacks {
  /** by blob id: the task writing it back */
  readonly #pending = new Map<number, Promise<void>>();

  /** Runs `task` (which must not reject), writing back the blobs `blobIds`, in the background. */
  add(blobIds: readonly number[], task: Promise<void>): Promise<void> {
    const done = task.finally(() => {
      for (const id of blobIds) if (this.#pending.get(id) === done) this.#pending.delete(id);
    });
    for (const id of blobIds) this.#pending.set(id, done);
    return done;
  }

  /** Resolves once the blobs `blobIds` (all, when not given) are not being written back. */
  async settled(blobIds?: Iterable<number>): Promise<void> {
    for (;;) {
      const ids = blobIds ? [...blobIds].filter((id) => this.#pending.has(id)) : [...this.#pending.keys()];
      if (!ids.length) return;
      await Promise.all(ids.map((id) => this.#pending.get(id)));
    }
  }
}

/**
 * Fetches the evicted bodies of the messages `uids` of local mailbox `mailboxId` on `client` and
 * checks them against the bytes recorded: they are handed out (`bodies`) as soon as they are
 * checked, and written back in the background (`stored`, tracked by `writes`). A message that is
 * gone locally or whose body is local already counts as restored. Provider errors are thrown (the
 * caller answers every UID not done as unavailable).
 */
export async function readBodies(
  ctx: SyncContext,
  client: RemoteMailbox,
  mailboxId: number,
  uids: readonly number[],
  writes: WriteBacks,
): Promise<BodiesRead> {
  const { store } = ctx;
  // a body handed out a moment ago is stored first, not fetched again
  await writes.settled(uids.flatMap((uid) => store.messages.get(mailboxId, uid)?.blobId ?? []));
  const out: BodyFetchResult = { restored: [], failed: [] };
  const bodies = new Map<number, Buffer>();
  const toStore: ToStore[] = [];
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
  let stored = Promise.resolve();
  try {
    await checkFolders(ctx, client, mailboxId, byFolder, out, bodies, toStore);
  } finally {
    // what was checked is stored, also when a later folder failed
    if (toStore.length)
      stored = writes.add(
        toStore.map((t) => t.local.blobId),
        storeAll(ctx, mailboxId, toStore),
      );
  }
  return { ...out, bodies, stored };
}

/**
 * readBodies' provider part: each remote folder's bodies fetched in one FETCH, then checked. The
 * hook's bytes (decrypted, or as they came) are compared with the SHA-256 recorded first: when
 * they are exactly the bytes served before (the usual case), they are handed out at once and
 * analysed and packed only as they are stored back (0.5 ms of a 40 KB message's 5 ms here, in
 * bench/sync.ts's on-demand row); else they are prepared as a sync pass would (canonical line
 * ends) and compared again.
 */
async function checkFolders(
  ctx: SyncContext,
  client: RemoteMailbox,
  mailboxId: number,
  byFolder: Map<string, { uidValidity: number; wanted: Wanted[] }>,
  out: BodyFetchResult,
  bodies: Map<number, Buffer>,
  toStore: ToStore[],
): Promise<void> {
  const { store } = ctx;
  for (const [path, { uidValidity, wanted }] of byFolder) {
    const lock = await client.lock(path, { readOnly: true });
    try {
      if (client.selected?.uidValidity !== uidValidity) {
        // renumbered at the provider: the next pass remaps (uid-remap.ts), then it can be fetched
        for (const w of wanted) out.failed.push(w.uid);
        continue;
      }
      const inbound = { accountId: ctx.accountId, email: ctx.email, remoteMailbox: path };
      const fetched = await fetchServed(ctx, client, new Set(wanted.map((w) => w.remoteUid)), inbound);
      for (const w of wanted) {
        const f = fetched.get(w.remoteUid);
        // gone at the provider: the next pass removes it locally
        if (!f) {
          out.failed.push(w.uid);
          continue;
        }
        // expunged here while the provider was asked: nothing to serve or store
        if (!store.messages.get(mailboxId, w.uid)) {
          out.restored.push(w.uid);
          continue;
        }
        const recorded = store.messages.sha256(w.blobId);
        const prepare = async () => {
          const p = await prepareInbound(store, f.m, ctx.processInbound, inbound, uidValidity, f.served);
          return { ...p, msg: await store.messages.prepack(p.msg) };
        };
        if ((await sha256Sliced(f.served)).equals(recorded)) {
          out.restored.push(w.uid);
          bodies.set(w.uid, f.served);
          toStore.push({ local: w, prepare });
          continue;
        }
        const p = await prepare();
        if (p.msg.sha256!.equals(recorded)) {
          out.restored.push(w.uid);
          bodies.set(w.uid, p.msg.raw);
          toStore.push({ local: w, prepare: () => Promise.resolve(p) });
          continue;
        }
        // other bytes: the local message is replaced now (writeBack), this request fails
        const done = await writeBack(ctx, { mailboxId, uid: w.uid, blobId: w.blobId }, p);
        out.failed.push(w.uid);
        ctx.logger.warn(
          { mailbox: path, uid: w.uid, outcome: done },
          'the provider no longer gives the bytes this message was served with',
        );
      }
    } finally {
      // the folder stays EXAMINEd (read-only: nothing is ever expunged by leaving it): the next
      // request for it needs no EXAMINE, and the connection closes after a minute unused
      lock.release();
    }
  }
}

/**
 * Writes back bodies checked by readBodies, one after the other, from the next turn of the event
 * loop on (the reader they were handed to goes first); a failure is logged.
 */
async function storeAll(ctx: SyncContext, mailboxId: number, bodies: readonly ToStore[]): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  for (const { local, prepare } of bodies) {
    try {
      // 'gone': expunged meanwhile; nothing else can come of bytes already checked
      await writeBack(ctx, { mailboxId, uid: local.uid, blobId: local.blobId }, await prepare());
    } catch (err) {
      ctx.logger.warn({ err, uid: local.uid }, 'a body fetched on demand could not be stored again');
    }
  }
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
 * Fetches the messages `uids` of the selected provider folder again, each with the hook's bytes
 * (decrypted on the pool, or as they came): by remote UID, those the provider still has.
 */
async function fetchServed(
  ctx: SyncContext,
  client: RemoteMailbox,
  uids: ReadonlySet<number>,
  inbound: InboundContext,
): Promise<Map<number, { m: FetchedMessage; served: Buffer }>> {
  const out = new Map<number, { m: FetchedMessage; served: Buffer }>();
  if (!uids.size) return out;
  for await (const f of client.fetch(toUidSet([...uids].sort((a, b) => a - b)), {
    flags: true,
    internalDate: true,
    source: true,
  })) {
    if (!f.source || !uids.has(f.uid)) continue;
    const m = { uid: f.uid, raw: f.source, flags: cleanFlags(f.flags), internalDate: internalDateOf(f) };
    out.set(f.uid, { m, served: await servedBytes(m.raw, ctx.processInbound, inbound) });
  }
  return out;
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
  const inbound = { accountId: ctx.accountId, email: ctx.email, remoteMailbox: path };
  const fresh = new Map<number, PreparedMessage>();
  for (const [uid, { m, served }] of await fetchServed(ctx, client, new Set(uids), inbound)) {
    const p = await prepareInbound(ctx.store, m, ctx.processInbound, inbound, uidValidity, served);
    fresh.set(uid, { ...p, msg: await ctx.store.messages.prepack(p.msg) });
  }
  return fresh;
}
