/**
 * Full-text search of evicted bodies at the provider (issue 20 point 3). A message whose body the
 * local body cache evicted is searched through the full-text index, which cannot decide every
 * needle (app/store/repos/messages/full-text.ts: shorter than 3 characters, or text beyond what was
 * indexed). Those are asked of the provider's SEARCH, in the provider folder each is mapped to:
 * `UID SEARCH UID <set> BODY|TEXT "needle"`, at most SEARCH_UIDS per command. Only where the
 * provider holds the text as it is served: not for mail decrypted here (the served message says
 * `X-Lockbridge-Encryption: encrypted`), nor for a provider copy that is encrypted or opaque-signed
 * (its Content-Type, read in the same folder first: encrypt-at-rest copies, S/MIME signed-data
 * unwrapped here); the provider's SEARCH cannot see into them.
 */
import { firstValue, parseHeaderBlock } from '../mime/header-block.ts';
import type { SyncContext } from './context.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';
import { toUidSet } from './uid-range.ts';

/** Remote UIDs per provider command: the UID set of a SEARCH (and its FETCH) stays a short line. */
export const SEARCH_UIDS = 500;

export interface BodySearchResult {
  /** Local UIDs that match. */
  found: number[];
  /**
   * Local UIDs that could not be searched: no provider mapping, another UIDVALIDITY, gone at the
   * provider, encrypted there. The others do not match (or are gone locally).
   */
  failed: number[];
}

/** Provider Content-Types whose text the provider's SEARCH cannot see. */
const SEALED = /^(multipart\/encrypted|application\/(x-)?pkcs7-mime)$/i;

/** Whether the message served with this header block was decrypted here (encrypted at the provider). */
function decryptedHere(head: Buffer): boolean {
  const v = firstValue(head, parseHeaderBlock(head, 0, head.length), 'x-lockbridge-encryption');
  return v !== null && v.trim().toLowerCase() === 'encrypted';
}

interface Wanted {
  uid: number;
  remoteUid: number;
}

/** Runs `work` on the provider connection for searches (the engine's on-demand one), in turn. */
export type OnConnection = <T>(work: (client: RemoteMailbox) => Promise<T>) => Promise<T>;

/**
 * Searches `needle` (`key` BODY or TEXT) in the provider's copies of the local messages `uids` of
 * mailbox `mailboxId`: SEARCH_UIDS local messages at a time, each provider folder's share of them
 * one task on the connection (`onConnection`), so that the bodies fetched on demand meanwhile wait
 * for one command only, and the event loop gets a turn between them. After a provider error (also
 * no connection), the messages not searched yet are `failed`; it is handed to `onError`. `alive`
 * is asked before each task (when its turn on the connection comes): once false (the client that
 * searches went away), the messages not searched yet are `failed` and the provider is not asked.
 */
export async function searchAtProvider(
  ctx: SyncContext,
  onConnection: OnConnection,
  mailboxId: number,
  key: 'body' | 'text',
  needle: string,
  uids: readonly number[],
  alive: () => boolean,
  onError: (err: unknown) => void,
): Promise<BodySearchResult> {
  const out: BodySearchResult = { found: [], failed: [] };
  for (let i = 0; i < uids.length; i += SEARCH_UIDS) {
    const slice = uids.slice(i, i + SEARCH_UIDS);
    const byFolder = plan(ctx, mailboxId, slice, out);
    let gone = false;
    try {
      for (const [path, folder] of byFolder) {
        gone = await onConnection(async (client) => {
          if (!alive()) return true;
          await searchFolder(client, path, folder, key, needle, out);
          return false;
        });
        if (gone) break;
        byFolder.delete(path);
      }
    } catch (err) {
      onError(err);
      gone = true;
    }
    if (gone) {
      for (const f of byFolder.values()) for (const w of f.wanted) out.failed.push(w.uid);
      for (const uid of uids.slice(i + SEARCH_UIDS)) out.failed.push(uid);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Groups local messages by the provider folder they are mapped to; what cannot be asked is `failed`. */
function plan(
  ctx: SyncContext,
  mailboxId: number,
  uids: readonly number[],
  out: BodySearchResult,
): Map<string, { uidValidity: number; wanted: Wanted[] }> {
  const { store } = ctx;
  const byFolder = new Map<string, { uidValidity: number; wanted: Wanted[] }>();
  for (const uid of uids) {
    const m = store.messages.get(mailboxId, uid);
    if (!m) continue; // expunged meanwhile: no match
    const map = store.remoteMap.forMessage(m.id);
    const folder = map ? byFolder.get(map.remoteMailbox) : undefined;
    if (
      !map ||
      (folder && folder.uidValidity !== map.remoteUidValidity) ||
      decryptedHere(store.messages.header(m.blobId))
    ) {
      out.failed.push(uid);
      continue;
    }
    const w = { uid, remoteUid: map.remoteUid };
    if (folder) folder.wanted.push(w);
    else byFolder.set(map.remoteMailbox, { uidValidity: map.remoteUidValidity, wanted: [w] });
  }
  return byFolder;
}

/**
 * One provider folder's share (at most SEARCH_UIDS): the Content-Types of its copies, then one
 * SEARCH among the plaintext ones. Provider errors are thrown.
 */
async function searchFolder(
  client: RemoteMailbox,
  path: string,
  { uidValidity, wanted }: { uidValidity: number; wanted: Wanted[] },
  key: 'body' | 'text',
  needle: string,
  out: BodySearchResult,
): Promise<void> {
  const lock = await client.lock(path, { readOnly: true });
  try {
    if (client.selected?.uidValidity !== uidValidity) {
      // renumbered at the provider: the next pass remaps (uid-remap.ts)
      for (const w of wanted) out.failed.push(w.uid);
      return;
    }
    const set = toUidSet(wanted.map((w) => w.remoteUid));
    const plain = new Set<number>();
    for await (const m of client.fetch(set, { contentType: true }))
      if (!SEALED.test(m.contentType ?? '')) plain.add(m.uid);
    const hits = plain.size ? new Set(await client.searchText(toUidSet([...plain]), key, needle)) : null;
    for (const w of wanted) {
      if (!plain.has(w.remoteUid))
        out.failed.push(w.uid); // sealed, or gone at the provider
      else if (hits!.has(w.remoteUid)) out.found.push(w.uid);
    }
  } finally {
    // left EXAMINEd (read-only) for the next on-demand request, as body-fetch.ts does
    lock.release();
  }
}
