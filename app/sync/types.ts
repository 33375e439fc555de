/**
 * Public types of the sync engine: the hooks the composition root injects (inbound decryption,
 * upload encryption), the change sink local writers may call, status and progress events.
 */
import type { PendingChange } from '../store/repos/pending-changes.ts';

export type { PendingChange } from '../store/repos/pending-changes.ts';
export type {
  ConnectionState,
  FolderProgress,
  SyncProgress,
  FolderRepair,
  RepairReport,
} from './progress-types.ts';
import type { ConnectionState, SyncProgress } from './progress-types.ts';
/** What processInbound makes of one message fetched from the provider. */
export interface InboundResult {
  /** The exact bytes stored and served to local clients (CRLF, status headers fixed). */
  served: Buffer;
  /** Armored keys found (attached application/pgp-keys, Autocrypt) — for the keys layer. */
  keys?: string[];
  /** Free-form metadata (decryption status, signer) for logs / UI; never message content. */
  meta?: Record<string, unknown>;
}

export interface InboundContext {
  accountId: number;
  email: string;
  remoteMailbox: string;
}

/** Turns a provider message into what the bridge stores (decrypt, verify, status headers). */
export type ProcessInbound = (raw: Buffer, ctx: InboundContext) => Promise<InboundResult>;

/** Turns a local message into what the provider gets (by default: encrypted to the user's own key). */
export type EncryptForUpload = (raw: Buffer, ctx: InboundContext) => Promise<Buffer>;

/**
 * Where local changes go to reach the provider. The store's repos already enqueue every change
 * made with origin 'local' (IMAP sessions, imports) into pending_changes in the same transaction,
 * so adapters normally need not call `enqueue`; it exists for writers that bypass the repos.
 * `kick` wakes the replay loop (the engine also wakes itself on store change events).
 */
export interface RemoteChangeSink {
  enqueue(accountId: number, change: PendingChange): void;
  kick(accountId?: number): void;
}

/** Per remote mailbox state kept in sync_state (JSON). */
export interface MailboxSyncState {
  uidValidity: number;
  /** Every remote UID ≥ lowSynced and ≤ highSynced has been fetched (newest-first initial sync). */
  highSynced: number;
  lowSynced: number;
  /** Remote UIDNEXT when the initial sync started (the initial range is [1, initialTop]). */
  initialTop: number;
  /** True once every message in [1, initialTop] is local. */
  initialDone: boolean;
  /** HIGHESTMODSEQ seen at the last complete pass (CONDSTORE), 0 when unknown. */
  modseq: number;
}

export interface SyncStatus {
  connection: ConnectionState;
  sync: SyncProgress;
  lastError: string | null;
  paused: boolean;
  /** Local changes waiting for the provider. */
  pending: number;
}

export type SyncEvent =
  | { type: 'progress'; progress: SyncProgress }
  | { type: 'connection'; state: ConnectionState; error: string | null }
  /** New messages stored locally from the provider. */
  | { type: 'messages'; mailbox: string; count: number }
  /** One pass (initial or incremental) over every folder finished. */
  | { type: 'pass-complete'; durationMs: number }
  /**
   * A repair moves on: `folder` is being checked now (null once all are done) and `done` of
   * `total` folders are finished.
   */
  | { type: 'repair-progress'; folder: string | null; done: number; total: number }
  /** A local change reached the provider (or was dropped with a reason). */
  | { type: 'replayed'; kind: PendingChange['kind']; ok: boolean; error?: string }
  | { type: 'encrypt-at-rest'; converted: number; remaining: number; error: string | null };

export type SyncListener = (event: SyncEvent) => void;
