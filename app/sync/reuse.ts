/**
 * Provider messages new to a folder that are already stored here (issue 20, point 4: nothing is
 * downloaded twice). Sync records what each provider message looked like when it stored it — its
 * RFC822.SIZE and the SHA-256 of its BODY[HEADER] (remote_map, migration 17; the header block holds
 * its Message-ID, Date and the provider's Received lines). Before the bodies of new UIDs are
 * fetched, those whose size some stored message had are asked for their header block only; one
 * whose size and header digest match a stored message is not downloaded:
 * - the stored one is in this folder and its old UID is gone at the provider (a restored backup,
 *   messages re-imported under new UIDs): its mapping moves to the new UID, its local UID stays;
 * - otherwise (a copy made by another device, the old UID still there): a local copy sharing the
 *   stored body is made and mapped to the new UID (its flags follow from the provider's as usual).
 * Matching on the header block and size, not the body: a message with the same header block (and so
 * the same Message-ID, Date and delivery trace) and the same size is the same delivery.
 */
import type { MirroredFolder } from './folders.ts';
import type { SyncContext } from './context.ts';
import { headDigest } from './inbound.ts';
import { toUidSet } from './uid-range.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';

/** Returns the UIDs of `fresh` that need no download (reused now, or mapped already). */
export async function reuseStored(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  fresh: ReadonlyArray<{ uid: number; size: number }>,
): Promise<Set<number>> {
  const { store, accountId } = ctx;
  const path = f.remote.path;
  const done = new Set<number>();
  const open: Array<{ uid: number; size: number }> = [];
  for (const m of fresh) {
    // mapped already (a batch committed before a crash): nothing to fetch
    if (store.remoteMap.find(accountId, path, uidValidity, m.uid)) done.add(m.uid);
    else open.push(m);
  }
  // a COPY/MOVE of ours whose reply was not heard is adopted by commitBatch, not copied here again
  if (store.pending.copyAttemptsInto(accountId, path).length) return done;
  const known = store.remoteMap.knownSizes(
    accountId,
    open.map((m) => m.size),
  );
  const asked = open.filter((m) => known.has(m.size));
  if (!asked.length) return done;

  const seen: Array<{ uid: number; size: number; head: Buffer }> = [];
  for await (const m of client.fetch(toUidSet(asked.map((m) => m.uid)), { size: true, headers: true }))
    if (m.headers) seen.push({ uid: m.uid, size: m.size ?? 0, head: headDigest(m.headers) });
  const matches = seen
    .map((s) => ({ s, locals: store.remoteMap.findByIdentity(accountId, s.size, s.head) }))
    .filter((m) => m.locals.length > 0);
  if (!matches.length) return done;

  // which of the stored ones of this folder still have their UID at the provider
  const here = (l: { remoteMailbox: string; remoteUidValidity: number; mailboxId: number }) =>
    l.remoteMailbox === path && l.remoteUidValidity === uidValidity && l.mailboxId === f.local.id;
  const oldUids = [...new Set(matches.flatMap((m) => m.locals.filter(here).map((l) => l.remoteUid)))];
  const still = new Set<number>();
  if (oldUids.length) for await (const m of client.fetch(toUidSet(oldUids), {})) still.add(m.uid);

  let moved = 0;
  let copied = 0;
  const taken = new Set<number>();
  store.transaction(() => {
    for (const { s, locals } of matches.sort((a, b) => a.s.uid - b.s.uid)) {
      const identity = { size: s.size, head: s.head };
      const remote = { remoteMailbox: path, uidvalidity: uidValidity, uid: s.uid, identity };
      const stale = locals.find((l) => here(l) && !still.has(l.remoteUid) && !taken.has(l.messageId));
      if (stale) {
        taken.add(stale.messageId);
        store.messages.setRemote(stale.messageId, accountId, {
          ...remote,
          ...(stale.contentHash ? { contentHash: stale.contentHash } : {}),
        });
        moved++;
      } else {
        const src = locals[0]!;
        const pair = store.messages.copy(src.mailboxId, [src.uid], f.local.id, 'sync')[0];
        const copy = pair ? store.messages.get(f.local.id, pair[1]) : null;
        if (!copy) continue; // the stored one went meanwhile: fetched as usual
        store.messages.setRemote(copy.id, accountId, {
          ...remote,
          ...(src.contentHash ? { contentHash: src.contentHash } : {}),
        });
        copied++;
      }
      done.add(s.uid);
    }
  });
  ctx.logger.info(
    { mailbox: path, moved, copied },
    'provider messages matched to stored ones: not downloaded',
  );
  if (copied) ctx.onStored(f.local.name, copied, 0);
  return done;
}
