/**
 * Local → provider: replays the durable pending_changes queue in order. Uploads (client APPENDs
 * to Sent/Drafts, imports, copies the provider cannot COPY) go through `encryptForUpload`.
 * A local MOVE (queued by the store as appends + expunges in one transaction) becomes a provider
 * UID MOVE when the pair checks out, so the provider keeps its original bytes.
 *
 * Conflict rules (no message is ever lost):
 *  - flags changed here on a message deleted at the provider → the message is uploaded again;
 *  - a folder renamed here whose old name no longer exists there → created under the new name and
 *    its messages uploaded again;
 *  - a change that keeps failing (NO from the provider) is retried with backoff and, after
 *    MAX_ATTEMPTS, dropped with a logged reason (the local state is unaffected).
 */
import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import type { Store } from '../store/store.ts';
import type { PendingRow, RemoteRef } from '../store/repos/pending-changes.ts';
import type { Logger } from '../shared/logger.ts';
import { remoteNameOf } from './folders.ts';
import type { SyncQueries } from './queries.ts';
import { toUidSet } from './uid-range.ts';
import { messageIdKey } from './message-id.ts';
import type { EncryptForUpload, SyncEvent } from './types.ts';
import { ProviderError } from './remote/errors.ts';

export const MAX_ATTEMPTS = 8;

export interface ReplayContext {
  store: Store;
  q: SyncQueries;
  accountId: number;
  email: string;
  logger: Logger;
  encryptForUpload: EncryptForUpload;
  delimiter: string;
  emit(e: SyncEvent): void;
}

/** A NO/BAD for one item, as opposed to a dead connection. */
class ItemError extends Error {
  override name = 'ItemError';
  /** false: keep retrying (with backoff) however often it fails. */
  readonly droppable: boolean;
  constructor(message: string, droppable = true) {
    super(message);
    this.droppable = droppable;
  }
}

function ensureUsable(client: ImapFlow): void {
  if (!client.usable) throw new ProviderError('unreachable', 'the provider connection was lost');
}

function isItemLevel(err: unknown): boolean {
  const e = err as { responseStatus?: string };
  return err instanceof ItemError || e?.responseStatus === 'NO' || e?.responseStatus === 'BAD';
}

/** Replays everything due; returns how many changes were completed. Throws on connection loss. */
export async function replayPending(ctx: ReplayContext, client: ImapFlow): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = ctx.store.pending.list(ctx.accountId, 200);
    if (!rows.length) return done;
    let i = 0;
    while (i < rows.length) {
      const group = takeGroup(rows, i);
      try {
        await applyGroup(ctx, client, group);
        for (const r of group) {
          ctx.store.pending.done(r.id);
          ctx.emit({ type: 'replayed', kind: r.change.kind, ok: true });
        }
        done += group.length;
      } catch (err) {
        if (!isItemLevel(err)) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        const head = group[0]!;
        const droppable = !(err instanceof ItemError) || err.droppable;
        if (droppable && head.attempts + 1 >= MAX_ATTEMPTS) {
          ctx.logger.error(
            { kind: head.change.kind, attempts: head.attempts + 1, err: msg },
            'dropping a local change the provider keeps refusing',
          );
          for (const r of group) {
            ctx.store.pending.done(r.id);
            ctx.emit({ type: 'replayed', kind: r.change.kind, ok: false, error: msg });
          }
        } else {
          const delay = Math.min(3600_000, 5000 * 2 ** head.attempts);
          for (const r of group) ctx.store.pending.failed(r.id, msg.slice(0, 300), Date.now() + delay);
          ctx.logger.warn(
            { kind: head.change.kind, err: msg },
            'provider refused a local change; will retry',
          );
          return done; // keep the order: nothing after a failed change runs before it
        }
      }
      i += group.length;
    }
  }
}

/** Groups consecutive rows that can go in one command (same kind and remote mailbox), or a MOVE. */
function takeGroup(rows: PendingRow[], i: number): PendingRow[] {
  const first = rows[i]!;
  const c = first.change;
  if (c.kind === 'append') {
    // appends A1..An followed by n expunges with remote refs from one mailbox, same transaction → a MOVE candidate
    let j = i;
    while (
      j + 1 < rows.length &&
      rows[j + 1]!.change.kind === 'append' &&
      rows[j + 1]!.id === rows[j]!.id + 1 &&
      (rows[j + 1]!.change as { mailboxId: number }).mailboxId === c.mailboxId
    )
      j++;
    const n = j - i + 1;
    const ex = rows.slice(j + 1, j + 1 + n);
    if (
      ex.length === n &&
      ex.every(
        (r, k) =>
          r.change.kind === 'expunge' &&
          r.change.remote !== null &&
          r.id === rows[j]!.id + 1 + k &&
          Math.abs(r.createdAt - first.createdAt) < 1000 &&
          r.change.remote.remoteMailbox === (ex[0]!.change as { remote: RemoteRef }).remote.remoteMailbox,
      )
    )
      return rows.slice(i, j + 1 + n);
    return [first];
  }
  if (c.kind === 'expunge' || c.kind === 'flags') {
    const key = (r: PendingRow) =>
      r.change.kind === c.kind && 'remote' in r.change && r.change.remote
        ? `${r.change.remote.remoteMailbox}\u0000${r.change.remote.uidvalidity}`
        : null;
    const k0 = key(first);
    if (!k0) return [first];
    let j = i;
    while (j + 1 < rows.length && key(rows[j + 1]!) === k0 && j - i < 500) j++;
    return rows.slice(i, j + 1);
  }
  return [first];
}

async function applyGroup(ctx: ReplayContext, client: ImapFlow, group: PendingRow[]): Promise<void> {
  ensureUsable(client);
  const c = group[0]!.change;
  switch (c.kind) {
    case 'append':
      if (group.length > 1) return await applyMove(ctx, client, group);
      return await applyAppend(ctx, client, c.mailboxId, c.uid);
    case 'flags':
      return await applyFlags(ctx, client, group);
    case 'expunge':
      return await applyExpunge(ctx, client, group);
    case 'mailbox-create': {
      const remote = remoteNameOf(c.name, ctx.delimiter);
      await client.mailboxCreate(remote);
      if (ctx.store.mailboxes.get(c.mailboxId)) ctx.store.mailboxes.setRemoteName(c.mailboxId, remote);
      return;
    }
    case 'mailbox-rename':
      return await applyRename(ctx, client, c.mailboxId, c.oldName, c.name);
    case 'mailbox-delete': {
      const remote = c.remoteName ?? remoteNameOf(c.name, ctx.delimiter);
      try {
        await client.mailboxDelete(remote);
      } catch (err) {
        if (!/NONEXISTENT|does not exist|doesn't exist/i.test(errText(err))) throw err;
      }
      ctx.store.syncState.delete(ctx.accountId, remote);
      return;
    }
    case 'mailbox-subscribe': {
      const mb = ctx.store.mailboxes.get(c.mailboxId);
      const remote = mb?.remoteName ?? remoteNameOf(c.name, ctx.delimiter);
      if (c.subscribed) await client.mailboxSubscribe(remote);
      else await client.mailboxUnsubscribe(remote);
      return;
    }
  }
}

function errText(err: unknown): string {
  const e = err as { message?: string; responseText?: string; serverResponseCode?: string };
  return `${e?.message ?? ''} ${e?.responseText ?? ''} ${e?.serverResponseCode ?? ''}`;
}

/** The local mailbox's provider name, creating the folder there when it has none yet. */
async function remoteFolderFor(
  ctx: ReplayContext,
  client: ImapFlow,
  mailboxId: number,
): Promise<string | null> {
  const mb = ctx.store.mailboxes.get(mailboxId);
  if (!mb) return null;
  if (mb.remoteName) return mb.remoteName;
  const remote = remoteNameOf(mb.name, ctx.delimiter);
  await client.mailboxCreate(remote);
  ctx.store.mailboxes.setRemoteName(mb.id, remote);
  return remote;
}

async function applyAppend(
  ctx: ReplayContext,
  client: ImapFlow,
  mailboxId: number,
  uid: number,
): Promise<void> {
  const { store, accountId } = ctx;
  const m = ctx.q.message(mailboxId, uid);
  if (!m) return; // gone locally before it was uploaded
  if (store.remoteMap.forMessage(m.id)) return; // already there
  const remote = await remoteFolderFor(ctx, client, mailboxId);
  if (!remote) return;
  const raw = store.messages.raw(m.blobId);
  const hash = createHash('sha256').update(raw).digest();
  const meta = store.messages.get(mailboxId, uid);
  const flags = (meta?.flags ?? []).filter((f) => f !== '\\Recent');

  // A local COPY of a message that is on the provider: copy it there too (keeps the original bytes).
  const sib = ctx.q.mappedSibling(accountId, m.blobId, m.id);
  if (sib) {
    const lock = await client.getMailboxLock(sib.remoteMailbox);
    try {
      if (Number(client.mailbox && client.mailbox.uidValidity) === sib.uidvalidity) {
        const res = await client.messageCopy(String(sib.uid), remote, { uid: true });
        const newUid = res && res.uidMap?.get(sib.uid);
        if (res && newUid && res.uidValidity !== undefined) {
          store.messages.setRemote(m.id, accountId, {
            remoteMailbox: remote,
            uidvalidity: Number(res.uidValidity),
            uid: newUid,
            contentHash: hash,
          });
          if (flags.length) await setFlagsIn(client, remote, [newUid], flags);
          return;
        }
        ensureUsable(client);
      }
    } finally {
      lock.release();
    }
  }

  // Crash safety: an earlier attempt may have uploaded it and died before recording the UID.
  // The provider's copy carries the same Message-ID; adopt it instead of uploading twice.
  const mid = store.messages.headers(m.blobId)?.messageId ?? null;
  if (mid) {
    const adopted = await adoptEarlierUpload(ctx, client, remote, mid);
    if (adopted) {
      store.messages.setRemote(m.id, accountId, {
        remoteMailbox: remote,
        uidvalidity: adopted.uidValidity,
        uid: adopted.uid,
        contentHash: hash,
      });
      return;
    }
  }

  let upload: Buffer;
  try {
    upload = await ctx.encryptForUpload(raw, { accountId, email: ctx.email, remoteMailbox: remote });
  } catch (err) {
    // e.g. no own key yet: never upload plaintext instead; retry later, never drop.
    throw new ItemError(
      `cannot encrypt the upload: ${err instanceof Error ? err.message : String(err)}`,
      false,
    );
  }
  let res;
  try {
    res = await client.append(remote, upload, flags, new Date(m.internalDate));
  } catch (err) {
    if (/OVERQUOTA|quota/i.test(errText(err)))
      throw new ItemError(`the provider mailbox is over quota; ${remote} upload waits`);
    throw err;
  }
  if (!res) {
    ensureUsable(client);
    throw new ItemError(`APPEND to ${remote} failed`);
  }
  if (res.uid && res.uidValidity !== undefined)
    store.messages.setRemote(m.id, accountId, {
      remoteMailbox: remote,
      uidvalidity: Number(res.uidValidity),
      uid: res.uid,
      contentHash: hash,
    });
  // Without UIDPLUS the next pull maps it by content.
}

/** An unmapped provider message in `remote` with this Message-ID, if there is exactly one. */
async function adoptEarlierUpload(
  ctx: ReplayContext,
  client: ImapFlow,
  remote: string,
  messageId: string,
): Promise<{ uid: number; uidValidity: number } | null> {
  const lock = await client.getMailboxLock(remote);
  try {
    const uidValidity = Number(client.mailbox && client.mailbox.uidValidity);
    const found = (await client.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
    const free = found.filter((uid) => !ctx.store.remoteMap.find(ctx.accountId, remote, uidValidity, uid));
    return free.length === 1 ? { uid: free[0]!, uidValidity } : null;
  } finally {
    lock.release();
  }
}

async function setFlagsIn(client: ImapFlow, remote: string, uids: number[], flags: string[]): Promise<void> {
  const lock = await client.getMailboxLock(remote);
  try {
    const ok = await client.messageFlagsSet(toUidSet(uids), flags, { uid: true });
    if (!ok) {
      ensureUsable(client);
      throw new ItemError(`STORE in ${remote} failed`);
    }
  } finally {
    lock.release();
  }
}

async function applyMove(ctx: ReplayContext, client: ImapFlow, group: PendingRow[]): Promise<void> {
  const { store, accountId } = ctx;
  const n = group.length / 2;
  const appends = group.slice(0, n);
  const expunges = group.slice(n);
  const first = expunges[0]!.change as { remote: RemoteRef };
  const src = first.remote;
  const dstMailboxId = (appends[0]!.change as { mailboxId: number }).mailboxId;
  const dst = await remoteFolderFor(ctx, client, dstMailboxId);
  const locals = appends.map((a) => {
    const c = a.change as { mailboxId: number; uid: number };
    return ctx.q.message(c.mailboxId, c.uid);
  });
  let moved = false;
  if (dst && locals.every((l) => l !== null)) {
    const lock = await client.getMailboxLock(src.remoteMailbox);
    try {
      const uids = expunges.map((e) => (e.change as { remote: RemoteRef }).remote.uid);
      if (Number(client.mailbox && client.mailbox.uidValidity) === src.uidvalidity) {
        // Verify the pairing by Message-ID before moving anything.
        const remoteIds = new Map<number, string | null>();
        for await (const m of client.fetch(toUidSet(uids), { uid: true, envelope: true }, { uid: true }))
          remoteIds.set(m.uid, messageIdKey(m.envelope?.messageId));
        const pairsOk = uids.every((u, k) => {
          const local = store.messages.headers(locals[k]!.blobId);
          const lid = messageIdKey(local?.messageId);
          return remoteIds.has(u) && remoteIds.get(u) === lid;
        });
        if (pairsOk) {
          const res = await client.messageMove(toUidSet(uids), dst, { uid: true });
          if (res && res.uidMap && res.uidValidity !== undefined) {
            store.transaction(() => {
              uids.forEach((u, k) => {
                const nu = res.uidMap!.get(u);
                const l = locals[k]!;
                if (nu)
                  store.messages.setRemote(l.id, accountId, {
                    remoteMailbox: dst,
                    uidvalidity: Number(res.uidValidity),
                    uid: nu,
                    contentHash: createHash('sha256').update(store.messages.raw(l.blobId)).digest(),
                  });
              });
            });
            moved = true;
          } else ensureUsable(client);
        }
      }
    } finally {
      lock.release();
    }
  }
  if (moved) return;
  // Not a verifiable move: upload then expunge, one by one (always correct).
  for (const a of appends) {
    const c = a.change as { mailboxId: number; uid: number };
    await applyAppend(ctx, client, c.mailboxId, c.uid);
  }
  await applyExpunge(ctx, client, expunges);
}

async function applyFlags(ctx: ReplayContext, client: ImapFlow, group: PendingRow[]): Promise<void> {
  const first = group[0]!.change as { remote: RemoteRef | null };
  if (!first.remote) return; // never uploaded: the pending append carries the current flags
  const { remoteMailbox, uidvalidity } = first.remote;
  const lock = await client.getMailboxLock(remoteMailbox).catch((err: unknown) => {
    if (isItemLevel(err)) return null;
    throw err;
  });
  if (!lock) {
    // The folder is gone at the provider: treat every message as deleted there.
    await restoreMissing(
      ctx,
      group.map((g) => g.change as { mailboxId: number; uid: number }),
    );
    return;
  }
  try {
    if (Number(client.mailbox && client.mailbox.uidValidity) !== uidvalidity) return; // remap will reconcile
    // Last write wins per message; one STORE per distinct flag set.
    const latest = new Map<number, { flags: string[]; mailboxId: number; uid: number }>();
    for (const r of group) {
      const c = r.change as { remote: RemoteRef; flags: string[]; mailboxId: number; uid: number };
      latest.set(c.remote.uid, {
        flags: c.flags.filter((f) => f !== '\\Recent'),
        mailboxId: c.mailboxId,
        uid: c.uid,
      });
    }
    const bySet = new Map<string, number[]>();
    for (const [ruid, v] of latest) {
      const k = [...v.flags].sort().join(' ');
      bySet.set(k, [...(bySet.get(k) ?? []), ruid]);
    }
    for (const [k, uids] of bySet) {
      const ok = await client.messageFlagsSet(toUidSet(uids), k ? k.split(' ') : [], { uid: true });
      if (!ok) {
        ensureUsable(client);
        throw new ItemError(`STORE in ${remoteMailbox} failed`);
      }
    }
    // Deleted there while changed here → keep it: upload it again.
    const present = new Set(
      (await client.search({ uid: toUidSet([...latest.keys()]) }, { uid: true })) || [],
    );
    const missing = [...latest.entries()].filter(([ruid]) => !present.has(ruid)).map(([, v]) => v);
    if (missing.length) await restoreMissing(ctx, missing);
  } finally {
    lock.release();
  }
}

async function restoreMissing(
  ctx: ReplayContext,
  items: Array<{ mailboxId: number; uid: number }>,
): Promise<void> {
  ctx.store.transaction(() => {
    for (const it of items) {
      const m = ctx.q.message(it.mailboxId, it.uid);
      if (!m) continue;
      ctx.store.remoteMap.unmap(m.id);
      ctx.store.pending.enqueue(ctx.accountId, { kind: 'append', mailboxId: it.mailboxId, uid: it.uid });
      ctx.logger.info(
        { mailboxId: it.mailboxId },
        'message deleted at the provider but changed here; uploading it again',
      );
    }
  });
}

async function applyExpunge(ctx: ReplayContext, client: ImapFlow, group: PendingRow[]): Promise<void> {
  const refs = group
    .map((g) => (g.change as { remote: RemoteRef | null }).remote)
    .filter((r): r is RemoteRef => r !== null);
  if (!refs.length) return;
  const byBox = new Map<string, RemoteRef[]>();
  for (const r of refs)
    byBox.set(`${r.remoteMailbox}\u0000${r.uidvalidity}`, [
      ...(byBox.get(`${r.remoteMailbox}\u0000${r.uidvalidity}`) ?? []),
      r,
    ]);
  for (const list of byBox.values()) {
    const { remoteMailbox, uidvalidity } = list[0]!;
    const lock = await client.getMailboxLock(remoteMailbox).catch((err: unknown) => {
      if (isItemLevel(err)) return null; // folder gone: nothing to delete
      throw err;
    });
    if (!lock) continue;
    try {
      if (Number(client.mailbox && client.mailbox.uidValidity) !== uidvalidity) continue;
      const ok = await client.messageDelete(toUidSet(list.map((r) => r.uid)), { uid: true });
      if (!ok) {
        ensureUsable(client);
        throw new ItemError(`EXPUNGE in ${remoteMailbox} failed`);
      }
    } finally {
      lock.release();
    }
  }
}

async function applyRename(
  ctx: ReplayContext,
  client: ImapFlow,
  mailboxId: number,
  oldName: string,
  name: string,
): Promise<void> {
  const { store, accountId } = ctx;
  const mb = store.mailboxes.get(mailboxId);
  const oldRemote =
    mb?.remoteName && mb.remoteName !== remoteNameOf(name, ctx.delimiter)
      ? mb.remoteName
      : remoteNameOf(oldName, ctx.delimiter);
  const newRemote = remoteNameOf(name, ctx.delimiter);
  try {
    await client.mailboxRename(oldRemote, newRemote);
    ctx.q.renameRemote(accountId, oldRemote, newRemote, ctx.delimiter);
  } catch (err) {
    if (!isItemLevel(err)) throw err;
    // Done before a crash (old name gone, new one there)? Then only the local records are behind.
    const names = new Set((await client.list()).map((f) => f.path));
    if (!names.has(oldRemote) && names.has(newRemote)) {
      ctx.q.renameRemote(accountId, oldRemote, newRemote, ctx.delimiter);
      return;
    }
    // Renamed (or deleted) at the provider too: create the new name and upload the messages again
    // (uploads adopt copies already there by Message-ID).
    ctx.logger.warn(
      { from: oldRemote, to: newRemote },
      'rename conflict at the provider; re-creating the folder',
    );
    await client.mailboxCreate(newRemote);
    if (!mb) return;
    store.transaction(() => {
      store.mailboxes.setRemoteName(mb.id, newRemote);
      for (const meta of store.messages.iterateMeta(mb.id)) {
        store.remoteMap.unmap(meta.id);
        store.pending.enqueue(accountId, { kind: 'append', mailboxId: mb.id, uid: meta.uid });
      }
    });
  }
}
