/**
 * What sync reports about itself: connection state, progress, repair results. The control
 * contract re-exports these, so the renderer type-checks this file: it imports nothing.
 */
/** The provider connection as the UI shows it (re-exported by app/control/contract.ts). */
export type ConnectionState =
  | 'offline'
  | 'connecting'
  | 'online'
  | 'auth-failed'
  | 'tls-failed'
  | 'error'
  | 'paused'
  /** signed out keeping its local mail: no engine runs for it */
  | 'signed-out';

export interface FolderProgress {
  name: string;
  total: number;
  synced: number;
}

export interface SyncProgress {
  phase: 'idle' | 'initial' | 'incremental';
  messagesTotal: number;
  messagesSynced: number;
  bytesSynced: number;
  /** Seconds, when an estimate exists. */
  eta: number | null;
  folders: FolderProgress[];
  /**
   * False until every folder's size is known (a new account, or before the first listing):
   * totals and percentages are then incomplete and should be shown as indeterminate.
   */
  sizesKnown: boolean;
}

/** What `repair` found and did in one folder (counts of messages). */
export interface FolderRepair {
  folder: string;
  /** Messages at the provider. */
  provider: number;
  /** Local copies of provider messages whose stored bytes were checked. */
  checked: number;
  /** New at the provider (the normal sync's part). */
  fetched: number;
  /** Provider messages missing locally, fetched again. */
  refetched: number;
  /** Local copies whose stored bytes were damaged, written again from the provider. */
  repaired: number;
  /** Damaged local copies that could not be restored (no provider copy, or a local change waits). */
  unrepaired: number;
  /** Local copies dropped because the provider no longer has them (as a normal sync does). */
  dropped: number;
}

export interface RepairReport {
  folders: FolderRepair[];
}
