/**
 * Inbound pipeline for messages fetched from the provider: processInbound (decrypt + served
 * message, injected) → MIME analysis → one store transaction per batch that inserts the
 * messages with their remote mapping AND advances the mailbox's sync state, so a crash resumes
 * from the last committed batch without duplicates or gaps.
 */
import { createHash } from 'node:crypto';
import { analyzeMessage } from '../mime/analyze.ts';
import { canonicalMessage } from '../mime/canonical.ts';
import type { NewMessage } from '../store/repos/messages.ts';
import type { CopyIdentity, PendingRow } from '../store/repos/pending-changes.ts';
import type { Store } from '../store/store.ts';
import { uploadTokenOf } from './upload-token.ts';
import type { InboundContext, MailboxSyncState, ProcessInbound } from './types.ts';

export interface FetchedMessage {
  uid: number;
  raw: Buffer;
  flags: string[];
  internalDate: number;
}

export interface PreparedMessage {
  uid: number;
  msg: NewMessage;
  /** the X-Lockbridge-Upload token of a copy this bridge uploaded */
  uploadToken: string | null;
  /** as the provider has it (to recognise a copy this bridge made: see replay.ts applyCopy) */
  identity: CopyIdentity;
}

/** SHA-256 of BODY[HEADER]: the header block with its blank line (all of it when there is none). */
export function headDigest(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  return createHash('sha256')
    .update(end < 0 ? raw : raw.subarray(0, end + 4))
    .digest();
}

/** Size, internal date and the digest of BODY[HEADER] (the header block with its blank line). */
function identityOf(raw: Buffer, internalDate: number): CopyIdentity {
  return { size: raw.length, internalDate, header: headDigest(raw).toString('hex') };
}

/** The default hook: plain mail stored as it came (the composition root injects crypto). */
export const identityInbound: ProcessInbound = async (raw) => ({ served: raw });

export function cleanFlags(flags: Iterable<string> | undefined): string[] {
  const out: string[] = [];
  for (const f of flags ?? []) if (f !== '\\Recent' && f !== '*') out.push(f);
  return out;
}

/** The bytes the hook gives for a fetched message: decrypted, or as it came. */
export async function servedBytes(raw: Buffer, hook: ProcessInbound, ctx: InboundContext): Promise<Buffer> {
  try {
    return (await hook(raw, ctx)).served;
  } catch {
    // The hook must never lose mail: on an unexpected failure the message is kept as it came.
    return raw;
  }
}

/**
 * Runs one fetched message through the hook (unless its output `served` is given) and the
 * analyzer: the store's prepareToInsert, which analyses a big or many-part message on its MIME
 * worker (~1 MiB of 14,000 small parts held the event loop ~300 ms here).
 */
export async function prepareInbound(
  store: Store,
  m: FetchedMessage,
  hook: ProcessInbound,
  ctx: InboundContext,
  uidValidity: number,
  given?: Buffer,
): Promise<PreparedMessage> {
  let served = given ?? (await servedBytes(m.raw, hook, ctx));
  // Served with CRLF line ends and binary parts in base64, like an APPEND or an import.
  const p = await store.messages.prepareToInsert(served);
  let msg: NewMessage;
  if (p.ok) msg = p.value;
  else {
    // refused as an APPEND would be (blank, unparsable): stored as before, or the error thrown
    served = canonicalMessage(served);
    msg = { raw: served, analysis: analyzeMessage(served) };
  }
  const sha = msg.sha256 ?? createHash('sha256').update(msg.raw).digest();
  return {
    uid: m.uid,
    uploadToken: uploadTokenOf(m.raw),
    identity: identityOf(m.raw, m.internalDate),
    msg: {
      ...msg,
      flags: m.flags,
      internalDate: m.internalDate,
      sha256: sha,
      remote: {
        remoteMailbox: ctx.remoteMailbox,
        uidvalidity: uidValidity,
        uid: m.uid,
        contentHash: sha,
        identity: { size: m.raw.length, head: headDigest(m.raw) },
      },
    },
  };
}

/**
 * Inserts prepared messages (ascending remote UID) into the local mailbox and saves `state` in
 * the same transaction. Messages whose remote UID is already mapped are skipped (idempotent).
 */
export function commitBatch(
  store: Store,
  accountId: number,
  mailboxId: number,
  remoteMailbox: string,
  prepared: PreparedMessage[],
  state: MailboxSyncState,
): number {
  const sorted = [...prepared].sort((a, b) => a.uid - b.uid);
  return store.transaction(() => {
    const fresh = sorted.filter(
      (p) =>
        !store.remoteMap.find(accountId, remoteMailbox, state.uidValidity, p.uid) &&
        !adoptOwnUpload(store, accountId, remoteMailbox, state.uidValidity, p),
    );
    if (fresh.length)
      store.messages.insertBatch(
        mailboxId,
        fresh.map((p) => p.msg),
        'sync',
      );
    store.syncState.put(accountId, remoteMailbox, state);
    return fresh.length;
  });
}

/** The pending COPY/MOVE (reply not heard) that made this message, matched by identity. */
function ownCopy(
  store: Store,
  accountId: number,
  remoteMailbox: string,
  uidValidity: number,
  p: PreparedMessage,
): PendingRow | null {
  const rows = store.pending.copyAttemptsInto(accountId, remoteMailbox);
  if (!rows.length) return null;
  for (const r of rows) {
    const a = r.attempt;
    if (a?.kind !== 'copy' || a.uidValidity !== uidValidity || p.uid < a.uidNext) continue;
    if (
      a.identity.size === p.identity.size &&
      a.identity.internalDate === p.identity.internalDate &&
      a.identity.header === p.identity.header
    )
      return r;
  }
  return null;
}

/**
 * A copy this bridge uploaded whose reply never came (the pending upload still waits): it is that
 * local message, not a new one. Maps it and completes the upload; true when adopted.
 */
function adoptOwnUpload(
  store: Store,
  accountId: number,
  remoteMailbox: string,
  uidValidity: number,
  p: PreparedMessage,
): boolean {
  const row = p.uploadToken
    ? store.pending.findByUploadToken(accountId, p.uploadToken)
    : ownCopy(store, accountId, remoteMailbox, uidValidity, p);
  if (!row || row.change.kind !== 'append') return false;
  const local = store.messages.get(row.change.mailboxId, row.change.uid);
  if (!local) {
    // Expunged here while its upload was under way: the user deleted it, so the copy goes too.
    store.pending.done(row.id);
    store.pending.enqueue(accountId, {
      kind: 'expunge',
      mailboxId: row.change.mailboxId,
      uid: row.change.uid,
      remote: { remoteMailbox, uidvalidity: uidValidity, uid: p.uid },
    });
    return true;
  }
  if (!store.remoteMap.forMessage(local.id))
    store.messages.setRemote(local.id, accountId, { remoteMailbox, uidvalidity: uidValidity, uid: p.uid });
  store.pending.done(row.id);
  return true;
}
