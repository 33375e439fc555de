/**
 * The provider changed a mailbox's UIDVALIDITY (it was recreated, restored, or the server lost
 * its index). Local UIDs must not change: remote messages are matched back to local ones by
 * Message-ID (when unique on both sides), then by RFC822.SIZE and the digest of BODY[HEADER] as
 * recorded when stored (header blocks fetched, no body), and otherwise by the SHA-256 of the bytes
 * as stored locally (the message is downloaded and processed again to compute it). Only the remote_map rows
 * change. Unmatched remote messages are new; unmatched local ones are uploaded again (never lost).
 */
import { cleanFlags, commitBatch, headDigest, prepareInbound, type PreparedMessage } from './inbound.ts';
import type { MirroredFolder } from './folders.ts';
import type { SyncContext } from './context.ts';
import type { MappedMessage } from '../store/repos/remote-map.ts';
import { batchBySize, toUidSet } from './uid-range.ts';
import { messageIdKey } from './message-id.ts';
import type { MailboxSyncState } from './types.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';

const normId = messageIdKey;

export async function remapAfterUidValidityChange(
  ctx: SyncContext,
  client: RemoteMailbox,
  f: MirroredFolder,
  uidValidity: number,
  uidNext: number,
): Promise<MailboxSyncState> {
  const { store, accountId } = ctx;
  const path = f.remote.path;
  const locals = ctx.store.remoteMap.inRemoteMailbox(accountId, path);

  // Remote side: UID, size, Message-ID.
  const remote: Array<{ uid: number; size: number; mid: string | null }> = [];
  for await (const m of client.fetch('1:*', { size: true, messageId: true }))
    remote.push({ uid: m.uid, size: m.size ?? 0, mid: normId(m.messageId) });

  const count = (ids: Array<string | null>) => {
    const c = new Map<string, number>();
    for (const id of ids) if (id) c.set(id, (c.get(id) ?? 0) + 1);
    return c;
  };
  const remoteCounts = count(remote.map((r) => r.mid));
  const localCounts = count(locals.map((l) => normId(l.messageIdHeader)));
  const localByMid = new Map<string, MappedMessage>();
  for (const l of locals) {
    const id = normId(l.messageIdHeader);
    if (id && localCounts.get(id) === 1) localByMid.set(id, l);
  }

  const matched = new Set<number>(); // local message ids
  const remaps: Array<{ local: MappedMessage; uid: number }> = [];
  const unmatchedRemote: Array<{ uid: number; size: number }> = [];
  for (const r of remote) {
    const l = r.mid && remoteCounts.get(r.mid) === 1 ? localByMid.get(r.mid) : undefined;
    if (l && !matched.has(l.messageId)) {
      matched.add(l.messageId);
      remaps.push({ local: l, uid: r.uid });
    } else unmatchedRemote.push({ uid: r.uid, size: r.size });
  }

  // Then by what they looked like at the provider when stored (size + BODY[HEADER] digest, schema
  // 17): their header blocks only are fetched, no body.
  const byIdentity = new Map<string, MappedMessage[]>();
  for (const l of locals) {
    if (matched.has(l.messageId) || l.remoteSize === null || !l.remoteHead) continue;
    const k = `${l.remoteSize}:${l.remoteHead.toString('hex')}`;
    byIdentity.set(k, [...(byIdentity.get(k) ?? []), l]);
  }
  let toDownload = unmatchedRemote;
  const sizes = new Set([...byIdentity.keys()].map((k) => Number(k.slice(0, k.indexOf(':')))));
  const asked = unmatchedRemote.filter((r) => sizes.has(r.size));
  if (asked.length) {
    const found = new Set<number>();
    for await (const m of client.fetch(toUidSet(asked.map((r) => r.uid)), { size: true, headers: true })) {
      if (!m.headers) continue;
      const l = byIdentity.get(`${m.size ?? 0}:${headDigest(m.headers).toString('hex')}`)?.shift();
      if (!l) continue;
      matched.add(l.messageId);
      remaps.push({ local: l, uid: m.uid });
      found.add(m.uid);
    }
    toDownload = unmatchedRemote.filter((r) => !found.has(r.uid));
  }

  // The rest: download, process, compare the hash of the stored bytes.
  const byHash = new Map<string, MappedMessage[]>();
  for (const l of locals) {
    if (matched.has(l.messageId) || !l.contentHash) continue;
    const k = l.contentHash.toString('hex');
    byHash.set(k, [...(byHash.get(k) ?? []), l]);
  }
  const newcomers: PreparedMessage[] = [];
  for (const batch of batchBySize(toDownload, ctx.batchMessages, ctx.batchBytes)) {
    const jobs: Array<Promise<PreparedMessage>> = [];
    for await (const m of client.fetch(toUidSet(batch.map((b) => b.uid)), {
      flags: true,
      internalDate: true,
      source: true,
    })) {
      if (!m.source) continue;
      const date = m.internalDate instanceof Date ? m.internalDate.getTime() : Date.now();
      jobs.push(
        prepareInbound(
          ctx.store,
          { uid: m.uid, raw: m.source, flags: cleanFlags(m.flags), internalDate: date },
          ctx.processInbound,
          { accountId, email: ctx.email, remoteMailbox: path },
          uidValidity,
        ),
      );
    }
    for (const p of await Promise.all(jobs)) {
      const k = (p.msg.sha256 as Buffer).toString('hex');
      const cands = byHash.get(k);
      const l = cands?.shift();
      if (l) {
        matched.add(l.messageId);
        remaps.push({ local: l, uid: p.uid });
      } else newcomers.push(p);
    }
  }

  const top = Math.max(0, uidNext - 1);
  const state: MailboxSyncState = {
    uidValidity,
    highSynced: top,
    lowSynced: 1,
    initialTop: top,
    initialDone: true,
    modseq: 0,
  };
  store.transaction(() => {
    // Drop old mappings first: the (account, mailbox, uidvalidity, uid) key must stay unique.
    for (const l of locals) store.remoteMap.unmap(l.messageId);
    for (const r of remaps)
      store.messages.setRemote(r.local.messageId, accountId, {
        remoteMailbox: path,
        uidvalidity: uidValidity,
        uid: r.uid,
        ...(r.local.contentHash ? { contentHash: r.local.contentHash } : {}),
        // the same provider message under the new UIDVALIDITY: what it looked like stays recorded,
        // or a later move or restore of it would not be matched (reuse.ts) and be downloaded again
        ...(r.local.remoteSize !== null && r.local.remoteHead
          ? { identity: { size: r.local.remoteSize, head: r.local.remoteHead } }
          : {}),
      });
    for (const l of locals) {
      if (matched.has(l.messageId)) continue;
      // Not at the provider any more under the new UIDVALIDITY: upload it again rather than lose it.
      store.pending.enqueue(accountId, { kind: 'append', mailboxId: l.mailboxId, uid: l.uid });
    }
    commitBatch(store, accountId, f.local.id, path, newcomers, state);
  });
  ctx.logger.info(
    {
      mailbox: path,
      remapped: remaps.length,
      added: newcomers.length,
      reupload: locals.length - matched.size,
    },
    'remapped after UIDVALIDITY change',
  );
  if (newcomers.length) ctx.onStored(f.local.name, newcomers.length, 0);
  return state;
}
