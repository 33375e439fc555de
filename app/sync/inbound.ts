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
import type { Store } from '../store/store.ts';
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
}

/** The default hook: plain mail stored as it came (the composition root injects crypto). */
export const identityInbound: ProcessInbound = async (raw) => ({ served: raw });

export function cleanFlags(flags: Iterable<string> | undefined): string[] {
  const out: string[] = [];
  for (const f of flags ?? []) if (f !== '\\Recent' && f !== '*') out.push(f);
  return out;
}

/** Runs one fetched message through the hook and the analyzer. */
export async function prepareInbound(
  m: FetchedMessage,
  hook: ProcessInbound,
  ctx: InboundContext,
  uidValidity: number,
): Promise<PreparedMessage> {
  let served: Buffer;
  try {
    served = (await hook(m.raw, ctx)).served;
  } catch {
    // The hook must never lose mail: on an unexpected failure the message is kept as it came.
    served = m.raw;
  }
  // Served with CRLF line ends and binary parts in base64, like an APPEND or an import.
  served = canonicalMessage(served);
  const sha = createHash('sha256').update(served).digest();
  return {
    uid: m.uid,
    msg: {
      raw: served,
      analysis: analyzeMessage(served),
      flags: m.flags,
      internalDate: m.internalDate,
      sha256: sha,
      remote: { remoteMailbox: ctx.remoteMailbox, uidvalidity: uidValidity, uid: m.uid, contentHash: sha },
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
      (p) => !store.remoteMap.find(accountId, remoteMailbox, state.uidValidity, p.uid),
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
