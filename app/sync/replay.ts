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
import type { Store } from '../store/store.ts';
import type { CopyIdentity, PendingAttempt, PendingRow, RemoteRef } from '../store/repos/pending-changes.ts';
import type { Logger } from '../shared/logger.ts';
import { remoteNameOf } from './folders.ts';
import { toUidSet } from './uid-range.ts';
import { findUploads, newUploadToken, withUploadToken } from './upload-token.ts';
import { expungeUids, leaveMailbox } from './remote/mailbox-ops.ts';
import type { EncryptForUpload, SyncEvent } from './types.ts';
import { ProviderError } from './remote/errors.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';

export const MAX_ATTEMPTS = 8;

export interface ReplayContext {
  store: Store;
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

function ensureUsable(client: RemoteMailbox): void {
  if (!client.usable) throw new ProviderError('unreachable', 'the provider connection was lost');
}

function isItemLevel(err: unknown): boolean {
  const e = err as { responseStatus?: string };
  return err instanceof ItemError || e?.responseStatus === 'NO' || e?.responseStatus === 'BAD';
}

/** Replays everything due; returns how many changes were completed. Throws on connection loss. */
export async function replayPending(ctx: ReplayContext, client: RemoteMailbox): Promise<number> {
  try {
    return await replayAll(ctx, client);
  } finally {
    // Leave no mailbox selected read-write (and never with CLOSE).
    if (client.usable) await leaveMailbox(client).catch(() => {});
  }
}

async function replayAll(ctx: ReplayContext, client: RemoteMailbox): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = ctx.store.pending.list(ctx.accountId, 200);
    if (!rows.length) return done;
    let i = 0;
    while (i < rows.length) {
      const group = takeGroup(rows, i);
      try {
        ctx.logger.debug({ changes: group.map((r) => ({ id: r.id, ...r.change })) }, 'replaying');
        await applyGroup(ctx, client, group);
        for (const r of group) {
          ctx.store.pending.done(r.id);
          ctx.emit({ type: 'replayed', kind: r.change.kind, ok: true });
        }
        done += group.length;
        // a rename rewrote the provider names queued behind it: read them again
        if (group[0]!.change.kind === 'mailbox-rename') break;
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
    if (!c.source) return [first];
    // Copies of provider messages from one source folder into one folder go in one COPY; when the
    // expunges of exactly those sources follow (a local MOVE, or COPY + EXPUNGE), in one MOVE.
    const src = c.source;
    let j = i;
    while (j + 1 < rows.length && j - i < 499) {
      const n = rows[j + 1]!.change;
      if (
        n.kind !== 'append' ||
        n.mailboxId !== c.mailboxId ||
        !n.source ||
        n.source.remoteMailbox !== src.remoteMailbox ||
        n.source.uidvalidity !== src.uidvalidity
      )
        break;
      j++;
    }
    const appends = rows.slice(i, j + 1);
    const want = new Set(appends.map((r) => (r.change as { source: RemoteRef }).source.uid));
    const ex = rows.slice(j + 1, j + 1 + appends.length);
    const isMove =
      ex.length === appends.length &&
      ex.every(
        (r) =>
          r.change.kind === 'expunge' &&
          r.change.remote !== null &&
          r.change.remote.remoteMailbox === src.remoteMailbox &&
          r.change.remote.uidvalidity === src.uidvalidity &&
          want.delete(r.change.remote.uid),
      );
    return isMove ? [...appends, ...ex] : appends;
  }
  if (c.kind === 'expunge' || c.kind === 'flags') {
    const key = (r: PendingRow) =>
      r.change.kind === c.kind && 'remote' in r.change && r.change.remote
        ? `${r.change.remote.remoteMailbox}\u0000${r.change.remote.uidvalidity}`
        : null;
    const k0 = key(first);
    if (!k0) return [first]; // (flags of a message not yet mapped: applyFlags looks it up)
    let j = i;
    while (j + 1 < rows.length && key(rows[j + 1]!) === k0 && j - i < 500) j++;
    return rows.slice(i, j + 1);
  }
  return [first];
}

async function applyGroup(ctx: ReplayContext, client: RemoteMailbox, group: PendingRow[]): Promise<void> {
  ensureUsable(client);
  const c = group[0]!.change;
  switch (c.kind) {
    case 'append':
      if (!c.source) return await applyAppend(ctx, client, group[0]!);
      return await applyCopy(
        ctx,
        client,
        group.filter((r) => r.change.kind === 'append'),
        group.filter((r) => r.change.kind === 'expunge'),
      );
    case 'flags':
      return await applyFlags(ctx, client, group);
    case 'expunge':
      return await applyExpunge(ctx, client, group);
    case 'mailbox-create': {
      const remote = remoteNameOf(c.name, ctx.delimiter);
      await client.createFolder(remote);
      if (ctx.store.mailboxes.get(c.mailboxId)) ctx.store.mailboxes.setRemoteName(c.mailboxId, remote);
      return;
    }
    case 'mailbox-rename':
      return await applyRename(ctx, client, c.mailboxId, c.oldName, c.name);
    case 'mailbox-delete': {
      const remote = c.remoteName ?? remoteNameOf(c.name, ctx.delimiter);
      try {
        await client.deleteFolder(remote);
      } catch (err) {
        if (!/NONEXISTENT|does not exist|doesn't exist/i.test(errText(err))) throw err;
      }
      ctx.store.syncState.delete(ctx.accountId, remote);
      return;
    }
    case 'mailbox-subscribe': {
      const mb = ctx.store.mailboxes.get(c.mailboxId);
      const remote = mb?.remoteName ?? remoteNameOf(c.name, ctx.delimiter);
      if (c.subscribed) await client.subscribe(remote);
      else await client.unsubscribe(remote);
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
  client: RemoteMailbox,
  mailboxId: number,
): Promise<string | null> {
  const mb = ctx.store.mailboxes.get(mailboxId);
  if (!mb) return null;
  if (mb.remoteName) return mb.remoteName;
  const remote = remoteNameOf(mb.name, ctx.delimiter);
  await client.createFolder(remote);
  ctx.store.mailboxes.setRemoteName(mb.id, remote);
  return remote;
}

/** The local message a pending append is about, or null when it is gone or already there. */
function pendingLocal(
  ctx: ReplayContext,
  row: PendingRow,
): { id: number; blobId: number; internalDate: number; mailboxId: number; uid: number } | null {
  const c = row.change as { mailboxId: number; uid: number };
  const m = ctx.store.messages.get(c.mailboxId, c.uid);
  if (!m || ctx.store.remoteMap.forMessage(m.id)) return null;
  return { ...m, mailboxId: c.mailboxId, uid: c.uid };
}

function changeOf(row: PendingRow): { mailboxId: number; uid: number } {
  return row.change as { mailboxId: number; uid: number };
}

function localFlags(ctx: ReplayContext, mailboxId: number, uid: number): string[] {
  return (ctx.store.messages.get(mailboxId, uid)?.flags ?? []).filter((f) => f !== '\\Recent');
}

/**
 * Records that the provider's `uid` is this local message — unless a local client expunged the
 * message (or moved it on) while its upload or copy was on its way: then the provider's copy is
 * queued for expunging instead, or it would stay there as mail the user deleted. False then.
 */
function mapTo(
  ctx: ReplayContext,
  local: { id: number; blobId: number; mailboxId: number; uid: number },
  remoteMailbox: string,
  uidvalidity: number,
  uid: number,
): boolean {
  return ctx.store.transaction(() => {
    if (ctx.store.messages.get(local.mailboxId, local.uid)?.id !== local.id) {
      expungeOrphan(ctx, local, { remoteMailbox, uidvalidity, uid });
      return false;
    }
    // the SHA-256 of the served bytes, recorded at insert (not the 20 MB of a big message read again)
    const hash = ctx.store.messages.sha256(local.blobId);
    ctx.store.messages.setRemote(local.id, ctx.accountId, {
      remoteMailbox,
      uidvalidity,
      uid,
      contentHash: hash,
    });
    return true;
  });
}

/** Queues the expunge of a provider copy whose local message a client expunged meanwhile. */
function expungeOrphan(
  ctx: ReplayContext,
  local: { mailboxId: number; uid: number },
  remote: RemoteRef,
): void {
  ctx.store.pending.enqueue(ctx.accountId, {
    kind: 'expunge',
    mailboxId: local.mailboxId,
    uid: local.uid,
    remote,
  });
  ctx.logger.info(
    { mailbox: remote.remoteMailbox },
    'a message expunged here while it was on its way to the provider: removing the provider copy',
  );
}

/**
 * Maps a local copy to the provider's copy of it. The provider's copy carries the flags its source
 * had there when it was copied, which need not be the local copy's: the source's flags may have
 * changed here since (a flag change replayed before the copy sends the source's flags as they are
 * now), or may still wait for the provider. Then the local copy's flags are queued for the
 * provider's copy, in the same transaction (until they are sent, a pull keeps the local flags).
 */
function mapCopy(
  ctx: ReplayContext,
  local: { id: number; blobId: number; mailboxId: number; uid: number },
  remoteMailbox: string,
  uidvalidity: number,
  uid: number,
  remoteFlags: readonly string[],
): void {
  ctx.store.transaction(() => {
    if (!mapTo(ctx, local, remoteMailbox, uidvalidity, uid)) return;
    const flags = localFlags(ctx, local.mailboxId, local.uid);
    const norm = (f: readonly string[]) =>
      f
        .filter((x) => x !== '\\Recent')
        .map((x) => x.toLowerCase())
        .sort()
        .join(' ');
    if (norm(flags) !== norm(remoteFlags))
      ctx.store.pending.enqueue(ctx.accountId, {
        kind: 'flags',
        mailboxId: local.mailboxId,
        uid: local.uid,
        flags,
        remote: { remoteMailbox, uidvalidity, uid },
      });
  });
}

/** Puts one local message at the provider as a new upload (idempotent: see upload-token.ts). */
async function applyAppend(ctx: ReplayContext, client: RemoteMailbox, row: PendingRow): Promise<void> {
  const { store, accountId } = ctx;
  const prior = row.attempt?.kind === 'upload' ? row.attempt : null;
  const local = pendingLocal(ctx, row);
  if (!local) {
    // Gone locally (or already there). Expunged here after an attempt the provider may have
    // stored: that copy must not come back as new mail.
    const c = row.change as { mailboxId: number; uid: number };
    if (prior && !ctx.store.messages.get(c.mailboxId, c.uid)) await dropStrayUpload(ctx, client, prior);
    return;
  }
  const remote = await remoteFolderFor(ctx, client, local.mailboxId);
  if (!remote) return;

  // An earlier attempt may have been stored by the provider without us hearing the reply.
  if (prior) {
    let adopted: number | null = null;
    const lock = await client.lock(prior.remoteMailbox, { readOnly: true });
    try {
      const uidValidity = client.selected?.uidValidity ?? 0;
      const found = (await findUploads(client, prior.token)).filter(
        (u) => !store.remoteMap.find(accountId, prior.remoteMailbox, uidValidity, u),
      );
      if (found.length) {
        adopted = found[0]!;
        // (expunged here meanwhile: its provider copy is queued for expunging, nothing to upload)
        if (!mapTo(ctx, local, prior.remoteMailbox, uidValidity, adopted)) return;
      }
    } finally {
      lock.release(); // before setFlagsIn takes its own: mailbox locks do not nest
    }
    if (adopted !== null) {
      ctx.logger.info({ mailbox: prior.remoteMailbox }, 'an earlier upload had arrived; not uploading again');
      // Flag changes made while its outcome was unknown went nowhere: send the current flags.
      await setFlagsIn(client, prior.remoteMailbox, [adopted], localFlags(ctx, local.mailboxId, local.uid));
      return;
    }
  }

  let upload: Buffer;
  try {
    upload = await ctx.encryptForUpload(await store.messages.rawAsync(local.blobId), {
      accountId,
      email: ctx.email,
      remoteMailbox: remote,
    });
  } catch (err) {
    // e.g. no own key yet: never upload plaintext instead; retry later, never drop.
    throw new ItemError(
      `cannot encrypt the upload: ${err instanceof Error ? err.message : String(err)}`,
      false,
    );
  }
  const token = newUploadToken();
  store.pending.setAttempt(row.id, { kind: 'upload', token, remoteMailbox: remote });
  let res;
  try {
    res = await client.append(
      remote,
      withUploadToken(upload, token),
      localFlags(ctx, local.mailboxId, local.uid),
      new Date(local.internalDate),
    );
  } catch (err) {
    if (/OVERQUOTA|quota/i.test(errText(err)))
      throw new ItemError(`the provider mailbox is over quota; ${remote} upload waits`);
    throw err;
  }
  if (!res) {
    ensureUsable(client);
    throw new ItemError(`APPEND to ${remote} failed`);
  }
  if (res.uid && res.uidValidity !== undefined) {
    if (!store.remoteMap.forMessage(local.id)) mapTo(ctx, local, remote, Number(res.uidValidity), res.uid);
    return;
  }
  // No APPENDUID (no UIDPLUS): find it by its token.
  const lock = await client.lock(remote, { readOnly: true });
  try {
    const uidValidity = client.selected?.uidValidity ?? 0;
    const [uid] = await findUploads(client, token);
    if (uid && !store.remoteMap.forMessage(local.id)) mapTo(ctx, local, remote, uidValidity, uid);
  } finally {
    lock.release();
  }
}

async function dropStrayUpload(
  ctx: ReplayContext,
  client: RemoteMailbox,
  prior: Extract<PendingAttempt, { kind: 'upload' }>,
): Promise<void> {
  const lock = await client.lock(prior.remoteMailbox).catch((err: unknown) => {
    if (isItemLevel(err)) return null;
    throw err;
  });
  if (!lock) return;
  try {
    const uidValidity = client.selected?.uidValidity ?? 0;
    const stray = (await findUploads(client, prior.token)).filter(
      (u) => !ctx.store.remoteMap.find(ctx.accountId, prior.remoteMailbox, uidValidity, u),
    );
    if (stray.length && (await expungeUids(client, stray)) === 'failed') ensureUsable(client);
  } finally {
    lock.release();
  }
}

async function setFlagsIn(
  client: RemoteMailbox,
  remote: string,
  uids: number[],
  flags: string[],
): Promise<void> {
  const lock = await client.lock(remote);
  try {
    const ok = await client.setFlags(toUidSet(uids), flags);
    if (!ok) {
      ensureUsable(client);
      throw new ItemError(`STORE in ${remote} failed`);
    }
  } finally {
    lock.release();
  }
}

interface Identified {
  uid: number;
  identity: CopyIdentity;
  /** its flags at the provider (a COPY/MOVE gives the copy these) */
  flags: string[];
}

/** Size, internal date, header digest and flags of messages in the selected mailbox. */
async function identities(client: RemoteMailbox, range: string): Promise<Identified[]> {
  const out: Identified[] = [];
  for await (const m of client.fetch(range, { size: true, internalDate: true, headers: true, flags: true }))
    out.push({
      uid: m.uid,
      flags: [...(m.flags ?? [])],
      identity: {
        size: m.size ?? 0,
        internalDate: m.internalDate instanceof Date ? m.internalDate.getTime() : 0,
        header: createHash('sha256')
          .update(m.headers ?? Buffer.alloc(0))
          .digest('hex'),
      },
    });
  return out;
}

function sameIdentity(a: CopyIdentity, b: CopyIdentity): boolean {
  return a.size === b.size && a.internalDate === b.internalDate && a.header === b.header;
}

/**
 * Local COPY/MOVE of messages that are on the provider (appends carrying `source`, optionally
 * followed by the expunges of those sources: a MOVE): the provider copies its own bytes. Before the
 * command, each row durably records the target's UIDNEXT and its message's identity; after a lost
 * reply the next attempt finds the copies above that UIDNEXT instead of copying again. A source the
 * provider no longer has is uploaded from the local copy instead.
 */
async function applyCopy(
  ctx: ReplayContext,
  client: RemoteMailbox,
  appends: PendingRow[],
  expunges: PendingRow[],
): Promise<void> {
  const { store, accountId } = ctx;
  const src = (appends[0]!.change as { source: RemoteRef }).source;
  const dstMailboxId = (appends[0]!.change as { mailboxId: number }).mailboxId;
  const target = await remoteFolderFor(ctx, client, dstMailboxId);
  if (!target) {
    await applyExpunge(ctx, client, expunges);
    return;
  }
  const todo = new Map<PendingRow, NonNullable<ReturnType<typeof pendingLocal>>>();
  for (const a of appends) {
    const l = pendingLocal(ctx, a);
    if (l) todo.set(a, l);
  }

  // 1. Recover what an earlier attempt did: adopt its copies, or — for a local copy a client
  // expunged meanwhile — remove them.
  const gone = appends.filter(
    (a) =>
      a.attempt?.kind === 'copy' &&
      !todo.has(a) &&
      !store.messages.get(changeOf(a).mailboxId, changeOf(a).uid),
  );
  const recovering = [...todo.keys(), ...gone].filter((a) => a.attempt?.kind === 'copy');
  if (recovering.length) {
    const att = recovering[0]!.attempt as Extract<PendingAttempt, { kind: 'copy' }>;
    const lock = await client.lock(att.target, { readOnly: true });
    try {
      const uidValidity = client.selected?.uidValidity ?? 0;
      if (uidValidity === att.uidValidity) {
        const fresh = (await identities(client, `${att.uidNext}:*`)).filter(
          (x) => x.uid >= att.uidNext && !store.remoteMap.find(accountId, att.target, uidValidity, x.uid),
        );
        const adopted: number[] = [];
        for (const a of recovering) {
          const want = (a.attempt as Extract<PendingAttempt, { kind: 'copy' }>).identity;
          const k = fresh.findIndex((x) => sameIdentity(x.identity, want));
          if (k < 0) continue;
          const [hit] = fresh.splice(k, 1);
          const l = todo.get(a);
          if (l) mapCopy(ctx, l, att.target, uidValidity, hit!.uid, hit!.flags);
          else
            expungeOrphan(ctx, changeOf(a), {
              remoteMailbox: att.target,
              uidvalidity: uidValidity,
              uid: hit!.uid,
            });
          adopted.push(hit!.uid);
          todo.delete(a);
        }
        if (adopted.length)
          ctx.logger.info(
            { mailbox: att.target, count: adopted.length },
            'earlier copies had arrived; not copying again',
          );
      }
    } finally {
      lock.release();
    }
  }

  // 2. Copy (or move) what is left, from the sources the provider still has.
  const moving = expunges.length > 0;
  const upload: PendingRow[] = [];
  // A source folder the provider no longer has (deleted or renamed there): upload the local copies.
  const lock = todo.size
    ? await client.lock(src.remoteMailbox, { readOnly: !moving }).catch((err: unknown) => {
        if (isItemLevel(err)) return null;
        throw err;
      })
    : null;
  if (todo.size && !lock) upload.push(...todo.keys());
  if (lock) {
    try {
      const valid = (client.selected?.uidValidity ?? 0) === src.uidvalidity;
      const rows = [...todo.keys()];
      const srcUid = (a: PendingRow) => (a.change as { source: RemoteRef }).source.uid;
      const present = valid ? await identities(client, toUidSet(rows.map(srcUid))) : [];
      const byUid = new Map(present.map((p) => [p.uid, p]));
      const copyable = rows.filter((a) => byUid.has(srcUid(a)));
      upload.push(...rows.filter((a) => !byUid.has(srcUid(a))));
      if (copyable.length) {
        const st = await client.status(target, { uidNext: true, uidValidity: true });
        if (!st || st.uidNext === undefined || st.uidValidity === undefined) {
          ensureUsable(client);
          throw new ItemError(`STATUS of ${target} failed`);
        }
        for (const a of copyable)
          store.pending.setAttempt(a.id, {
            kind: 'copy',
            target,
            uidValidity: Number(st.uidValidity),
            uidNext: st.uidNext,
            identity: byUid.get(srcUid(a))!.identity,
          });
        const uids = copyable.map(srcUid);
        const set = toUidSet(uids);
        const res =
          moving && client.hasCapability('MOVE')
            ? await client.move(set, target)
            : await client.copy(set, target);
        if (!res) {
          ensureUsable(client);
          throw new ItemError(`${moving ? 'MOVE' : 'COPY'} to ${target} failed`);
        }
        if (res.uidMap && res.uidValidity !== undefined)
          for (const a of copyable) {
            const nu = res.uidMap.get(srcUid(a));
            const l = todo.get(a)!;
            if (nu && !store.remoteMap.forMessage(l.id))
              mapCopy(ctx, l, target, Number(res.uidValidity), nu, byUid.get(srcUid(a))!.flags);
          }
        // Without UIDPLUS the next pull maps the copies by content.
      }
    } finally {
      lock.release();
    }
  }
  for (const a of upload) await applyAppend(ctx, client, a);
  // 3. The sources of a MOVE: UID EXPUNGE exactly those (MOVE already did, unless it was a COPY).
  await applyExpunge(ctx, client, expunges);
}

async function applyFlags(ctx: ReplayContext, client: RemoteMailbox, group: PendingRow[]): Promise<void> {
  const first = group[0]!.change as {
    remote: RemoteRef | null;
    mailboxId: number;
    uid: number;
    flags: string[];
  };
  if (!first.remote) {
    // Not on the provider when it changed: the upload carries the flags of its moment, so a change
    // made after that (or while its reply was lost) goes to wherever it is now.
    const m = ctx.store.messages.get(first.mailboxId, first.uid);
    const map = m ? ctx.store.remoteMap.forMessage(m.id) : null;
    if (!map) return;
    const lock = await client.lock(map.remoteMailbox).catch((err: unknown) => {
      if (isItemLevel(err)) return null;
      throw err;
    });
    if (!lock) return;
    try {
      if ((client.selected?.uidValidity ?? 0) !== map.remoteUidValidity) return;
      const flags = localFlags(ctx, first.mailboxId, first.uid);
      if (!(await client.setFlags(String(map.remoteUid), flags))) ensureUsable(client);
    } finally {
      lock.release();
    }
    return;
  }
  const { remoteMailbox, uidvalidity } = first.remote;
  const lock = await client.lock(remoteMailbox).catch((err: unknown) => {
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
    if ((client.selected?.uidValidity ?? 0) !== uidvalidity) return; // remap will reconcile
    // The message's flags as they are now (a change retried after a newer one went through must
    // not undo it); the recorded ones only for a message no longer here. One STORE per flag set.
    const latest = new Map<number, { flags: string[]; mailboxId: number; uid: number }>();
    for (const r of group) {
      const c = r.change as { remote: RemoteRef; flags: string[]; mailboxId: number; uid: number };
      const now = ctx.store.messages.get(c.mailboxId, c.uid) ? localFlags(ctx, c.mailboxId, c.uid) : null;
      latest.set(c.remote.uid, {
        flags: now ?? c.flags.filter((f) => f !== '\\Recent'),
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
      const ok = await client.setFlags(toUidSet(uids), k ? k.split(' ') : []);
      if (!ok) {
        ensureUsable(client);
        throw new ItemError(`STORE in ${remoteMailbox} failed`);
      }
    }
    // Deleted there while changed here → keep it: upload it again.
    const present = new Set(await client.search({ uid: toUidSet([...latest.keys()]) }));
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
      const m = ctx.store.messages.get(it.mailboxId, it.uid);
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

async function applyExpunge(ctx: ReplayContext, client: RemoteMailbox, group: PendingRow[]): Promise<void> {
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
    const lock = await client.lock(remoteMailbox).catch((err: unknown) => {
      if (isItemLevel(err)) return null; // folder gone: nothing to delete
      throw err;
    });
    if (!lock) continue;
    try {
      if ((client.selected?.uidValidity ?? 0) !== uidvalidity) continue;
      // Only those still there (a lost reply may have done it already); exactly those, never a
      // message another device marked \Deleted.
      const wanted = list.map((r) => r.uid);
      const present = await client.search({ uid: toUidSet(wanted) });
      if (!present.length) continue;
      const res = await expungeUids(client, present);
      if (res === 'failed') {
        ensureUsable(client);
        throw new ItemError(`EXPUNGE in ${remoteMailbox} failed`);
      }
      if (res === 'kept-marked')
        ctx.logger.warn(
          { mailbox: remoteMailbox, count: present.length },
          'the provider has no UIDPLUS and other messages are marked deleted: ours stay marked, nothing else is expunged',
        );
    } finally {
      lock.release();
    }
  }
}

/** The local records of a provider folder renamed by us: mappings and queued changes alike. */
function followRename(ctx: ReplayContext, oldRemote: string, newRemote: string): void {
  ctx.store.transaction(() => {
    ctx.store.remoteMap.followRemoteRename(ctx.accountId, oldRemote, newRemote, ctx.delimiter);
    ctx.store.pending.followRemoteRename(ctx.accountId, oldRemote, newRemote, ctx.delimiter);
  });
}

async function applyRename(
  ctx: ReplayContext,
  client: RemoteMailbox,
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
    await client.renameFolder(oldRemote, newRemote);
    followRename(ctx, oldRemote, newRemote);
  } catch (err) {
    if (!isItemLevel(err)) throw err;
    // Done before a crash (old name gone, new one there)? Then only the local records are behind.
    const names = new Set((await client.list()).map((f) => f.path));
    if (!names.has(oldRemote) && names.has(newRemote)) {
      followRename(ctx, oldRemote, newRemote);
      return;
    }
    // Renamed (or deleted) at the provider too: create the new name and upload the messages again
    // (uploads adopt copies already there by Message-ID).
    ctx.logger.warn(
      { from: oldRemote, to: newRemote, err },
      'rename conflict at the provider; re-creating the folder',
    );
    await client.createFolder(newRemote);
    if (!mb) return;
    store.transaction(() => {
      store.mailboxes.setRemoteName(mb.id, newRemote);
      // read them all first: SQLite cannot write while a read of the same connection is open
      for (const meta of [...store.messages.iterateMeta(mb.id)]) {
        store.remoteMap.unmap(meta.id);
        store.pending.enqueue(accountId, { kind: 'append', mailboxId: mb.id, uid: meta.uid });
      }
    });
  }
}
