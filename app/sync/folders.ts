/**
 * Mirrors the provider's folder list into local mailboxes (names with '/' as the delimiter,
 * SPECIAL-USE attributes kept), and orders them for syncing: INBOX first, then the special-use
 * folders, then the rest.
 */
import type { Store } from '../store/store.ts';
import type { Mailbox, SpecialUse } from '../store/repos/mailboxes.ts';
import type { Logger } from '../shared/logger.ts';
import type { RemoteMailbox } from './remote/remote-mailbox.ts';

export interface RemoteFolder {
  /** The provider's path (UTF-8, provider delimiter). */
  path: string;
  delimiter: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  selectable: boolean;
  /** Message count from the listing (LIST-STATUS, else STATUS), null when the provider gave none. */
  messages: number | null;
}

const SPECIAL = new Set(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged']);
const ORDER = ['\\Sent', '\\Drafts', '\\Archive', '\\Junk', '\\Trash', '\\All', '\\Flagged'];

export async function listRemoteFolders(client: RemoteMailbox): Promise<RemoteFolder[]> {
  // the counts let progress show the whole sync's size before the first folder is fetched
  const list = await client.list({ counts: true });
  return list.map((m) => ({
    path: m.path,
    delimiter: m.delimiter || '/',
    specialUse: m.specialUse && SPECIAL.has(m.specialUse) ? (m.specialUse as SpecialUse) : null,
    subscribed: m.subscribed !== false,
    selectable: !(m.flags?.has('\\Noselect') || m.flags?.has('\\NonExistent')),
    messages: typeof m.messages === 'number' ? m.messages : null,
  }));
}

/** Local name for a remote path: the provider delimiter becomes '/'; INBOX canonical. */
export function localNameOf(f: RemoteFolder): string {
  if (f.path.toUpperCase() === 'INBOX') return 'INBOX';
  return f.delimiter === '/' ? f.path : f.path.split(f.delimiter).join('/');
}

/** Remote path for a local name, given the provider's delimiter. */
export function remoteNameOf(localName: string, delimiter: string): string {
  return delimiter === '/' ? localName : localName.split('/').join(delimiter);
}

function rank(f: RemoteFolder): number {
  if (f.path.toUpperCase() === 'INBOX') return 0;
  if (f.specialUse) return 1 + ORDER.indexOf(f.specialUse);
  return 100;
}

export interface MirroredFolder {
  remote: RemoteFolder;
  local: Mailbox;
}

/**
 * Folders renamed at the provider (issue 20, point 4: nothing downloaded twice). A local mailbox
 * whose provider name left the list while a name new here appeared with the UIDVALIDITY this
 * mailbox was synced under, and a UIDNEXT past what was synced, is that folder renamed (IMAP
 * RENAME keeps UIDVALIDITY and UIDs): the local mailbox is renamed to follow (its children too)
 * and its mappings and sync state move to the new name, so its messages keep their local UIDs and
 * nothing is fetched again. Only a one-to-one match is followed; anything else, or a folder change
 * of ours still queued, is left to mirrorFolders (a new folder fetched, the vanished one removed).
 * Runs before mirrorFolders; costs a STATUS per new folder, only when a known folder vanished.
 */
export async function followProviderRenames(
  store: Store,
  accountId: number,
  remote: RemoteFolder[],
  client: RemoteMailbox,
  logger: Logger,
): Promise<void> {
  if (heldByQueue(store, accountId, remote).mailboxes.size) return;
  const delimiter =
    remote.find((f) => f.path.toUpperCase() === 'INBOX')?.delimiter ?? remote[0]?.delimiter ?? '/';
  const listed = new Set(remote.map((f) => f.path));
  const gone = store.mailboxes
    .list(accountId)
    .filter((mb) => mb.remoteName !== null && mb.name !== 'INBOX' && !listed.has(mb.remoteName));
  if (!gone.length) return;
  const fresh = remote.filter(
    (f) =>
      f.selectable &&
      f.path.toUpperCase() !== 'INBOX' &&
      !store.mailboxes.getByRemoteName(accountId, f.path) &&
      !store.mailboxes.getByName(accountId, localNameOf(f)),
  );
  if (!fresh.length) return;
  const byValidity = new Map<number, Array<{ f: RemoteFolder; uidNext: number }>>();
  for (const f of fresh) {
    const st = await client.status(f.path, { uidValidity: true, uidNext: true });
    if (!st?.uidValidity) continue;
    byValidity.set(st.uidValidity, [
      ...(byValidity.get(st.uidValidity) ?? []),
      { f, uidNext: st.uidNext ?? 0 },
    ]);
  }
  // outermost first: a parent's rename carries its children along
  for (const mb of gone.sort((a, b) => a.remoteName!.length - b.remoteName!.length)) {
    const cur = store.mailboxes.get(mb.id);
    if (!cur?.remoteName || listed.has(cur.remoteName)) continue; // followed with its parent
    const state = store.syncState.get<{ uidValidity: number; highSynced: number }>(accountId, cur.remoteName);
    if (!state) continue;
    const cands = (byValidity.get(state.uidValidity) ?? []).filter((c) => c.uidNext > state.highSynced);
    if (cands.length !== 1) continue;
    const to = cands[0]!.f;
    if (store.mailboxes.getByRemoteName(accountId, to.path)) continue; // taken by an earlier match
    try {
      store.transaction(() => {
        store.mailboxes.rename(mb.id, localNameOf(to), 'sync');
        store.remoteMap.followRemoteRename(accountId, cur.remoteName!, to.path, delimiter);
      });
      logger.info({ from: cur.remoteName, to: to.path }, 'folder renamed at the provider; following it');
    } catch (err) {
      // a local name in the way: left to mirrorFolders
      logger.warn({ from: cur.remoteName, to: to.path, err }, 'could not follow a rename at the provider');
    }
  }
}

/**
 * Creates local mailboxes for new remote folders and records remote names; a local mailbox whose
 * remote folder vanished is deleted only when nothing local would be lost (otherwise it is kept
 * and re-created at the provider). Returns the selectable folders in sync order.
 */
export function mirrorFolders(
  store: Store,
  accountId: number,
  remote: RemoteFolder[],
  logger: Logger,
): MirroredFolder[] {
  const out: MirroredFolder[] = [];
  const seen = new Set<number>();
  const held = heldByQueue(store, accountId, remote);
  const sorted = [...remote].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  for (const f of sorted) {
    let local = store.mailboxes.getByRemoteName(accountId, f.path);
    if (!local) {
      if (held.covers(f.path)) continue;
      const name = localNameOf(f);
      local = store.mailboxes.getByName(accountId, name);
      if (local) store.mailboxes.setRemoteName(local.id, f.path);
      else {
        logger.debug({ remote: f.path }, 'new folder at the provider');
        // a sync state left for that name (a folder given up in a rename conflict) describes
        // another mailbox: the new one starts empty and fetches everything
        store.syncState.delete(accountId, f.path);
        local = store.mailboxes.create(accountId, name, {
          specialUse: f.specialUse,
          subscribed: f.subscribed,
          remoteName: f.path,
          origin: 'sync',
        });
      }
      local = store.mailboxes.require(local.id);
    }
    if (f.specialUse && local.specialUse !== f.specialUse)
      store.mailboxes.setSpecialUse(local.id, f.specialUse);
    seen.add(local.id);
    if (f.selectable) out.push({ remote: f, local: store.mailboxes.require(local.id) });
  }
  // Remote folders that disappeared.
  for (const mb of store.mailboxes.list(accountId)) {
    if (seen.has(mb.id) || mb.remoteName === null || mb.name === 'INBOX' || held.mailboxes.has(mb.id))
      continue;
    const unsynced = store.remoteMap.localOnlyCount(mb.id);
    if (unsynced === 0 && store.mailboxes.children(mb.id).length === 0) {
      logger.info({ mailbox: mb.name }, 'folder removed at the provider; removing it locally');
      store.syncState.delete(accountId, mb.remoteName);
      store.mailboxes.delete(mb.id, 'sync');
    } else {
      // Keep what only exists here: re-create the folder at the provider and upload its messages.
      logger.warn(
        { mailbox: mb.name, unsynced },
        'folder removed at the provider but holds local-only mail; re-creating it',
      );
      store.transaction(() => {
        store.mailboxes.setRemoteName(mb.id, null);
        store.pending.enqueue(accountId, { kind: 'mailbox-create', mailboxId: mb.id, name: mb.name });
      });
    }
  }
  return out;
}

/**
 * What queued local folder changes will act on: the provider names they touch (with their
 * children) and the local mailboxes they are about. The provider's list shows it as it was before
 * those changes reach it (a replay stopped at a refused change, a RENAME or CREATE whose reply was
 * lost, a client's change made while the pass listed), so a held name is not mirrored as a new
 * folder, and a held mailbox missing from the list is not taken for one deleted at the provider.
 */
function heldByQueue(
  store: Store,
  accountId: number,
  remote: RemoteFolder[],
): { covers(path: string): boolean; mailboxes: Set<number> } {
  const delimiter =
    remote.find((f) => f.path.toUpperCase() === 'INBOX')?.delimiter ?? remote[0]?.delimiter ?? '/';
  const names = new Set<string>();
  const mailboxes = new Set<number>();
  for (const c of store.pending.folderChanges(accountId)) {
    mailboxes.add(c.mailboxId);
    const remoteName = store.mailboxes.get(c.mailboxId)?.remoteName;
    if (remoteName) names.add(remoteName);
    names.add(remoteNameOf(c.name, delimiter));
    if (c.kind === 'mailbox-rename') names.add(remoteNameOf(c.oldName, delimiter));
    if (c.kind === 'mailbox-delete' && c.remoteName) names.add(c.remoteName);
  }
  return {
    covers: (path) => [...names].some((n) => path === n || path.startsWith(n + delimiter)),
    mailboxes,
  };
}
