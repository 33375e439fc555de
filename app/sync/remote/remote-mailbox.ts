/**
 * The provider as sync sees it: one logged-in IMAP connection, with the commands the engine,
 * the folder pass, replay, repair, the UIDVALIDITY remap and encrypt-at-rest send. Sync talks only
 * to this interface; imapflow is behind it in imapflow-mailbox.ts, and the composition root passes
 * the real connector (connect.ts) to the engine, so a test can hand the engine one that fails where
 * it wants (a dropped reply, a refused command, a connection cut mid-fetch).
 *
 * Every message range and result is by UID.
 */
import type { Logger } from '../../shared/logger.ts';
import type { ProviderEndpoint } from './endpoint.ts';

/** The mailbox a connection has selected (SELECT or EXAMINE). */
export interface SelectedMailbox {
  path: string;
  readOnly: boolean;
  uidValidity: number;
  uidNext: number;
  /** 0 when the provider has no CONDSTORE. */
  highestModseq: number;
  /** Messages in the mailbox (EXISTS). */
  exists: number;
}

/** One LIST row. */
export interface ListedFolder {
  path: string;
  delimiter: string;
  specialUse?: string;
  subscribed?: boolean;
  /** The LIST attributes (\Noselect, \NonExistent, …). */
  flags?: ReadonlySet<string>;
  /** The message count, when the listing asked for counts and the provider gave one. */
  messages?: number;
}

export interface FolderStatus {
  uidNext?: number;
  uidValidity?: number;
  highestModseq?: number;
  messages?: number;
}

/** What a FETCH asks for besides the UID. */
export interface FetchFields {
  size?: boolean;
  flags?: boolean;
  internalDate?: boolean;
  /** The whole message (BODY.PEEK[]). */
  source?: boolean;
  /** The header block (BODY.PEEK[HEADER]). */
  headers?: boolean;
  /** The envelope's Message-ID. */
  messageId?: boolean;
  /** The top-level Content-Type from BODYSTRUCTURE. */
  contentType?: boolean;
}

export interface RemoteMessage {
  uid: number;
  size?: number;
  flags?: ReadonlySet<string>;
  internalDate?: Date | string;
  source?: Buffer;
  headers?: Buffer;
  messageId?: string;
  contentType?: string;
}

export interface UidSearch {
  /** A UID set (`1:5,9`). */
  uid?: string;
  deleted?: boolean;
  header?: Record<string, string>;
}

export interface AppendResult {
  uid?: number;
  uidValidity?: number;
}

export interface CopyResult {
  uidValidity?: number;
  /** Source UID → UID of the copy (COPYUID). */
  uidMap?: Map<number, number>;
}

export interface MailboxLock {
  release(): void;
}

export interface RemoteMailbox {
  /** False once the connection is closed or broken. */
  readonly usable: boolean;
  /** The selected mailbox, or null. */
  readonly selected: SelectedMailbox | null;
  hasCapability(name: string): boolean;
  capabilityNames(): string[];

  /** 'close': the connection ended; 'change': EXISTS, EXPUNGE or FETCH arrived unasked; 'error': a socket error. */
  on(event: 'close' | 'change', listener: () => void): void;
  on(event: 'error', listener: (err: unknown) => void): void;

  /** LIST (with LIST-STATUS, or STATUS per folder, when counts are asked for). */
  list(opts?: { counts?: boolean }): Promise<ListedFolder[]>;
  /** STATUS; null when the provider gave no answer. */
  status(
    path: string,
    fields: { uidNext?: boolean; uidValidity?: boolean; highestModseq?: boolean; messages?: boolean },
  ): Promise<FolderStatus | null>;
  /** Selects `path` (EXAMINE when readOnly) and holds it until release; locks queue, they do not nest. */
  lock(path: string, opts?: { readOnly?: boolean }): Promise<MailboxLock>;
  /** Selects `path` with no lock (the IDLE connection, leaving a mailbox without UNSELECT). */
  open(path: string, opts: { readOnly: boolean }): Promise<void>;
  /**
   * UNSELECT (RFC 3691): leaves the selected mailbox, expunging nothing. There is no CLOSE: it
   * expunges every \Deleted message of a read-write mailbox (see mailbox-ops.ts leaveMailbox).
   */
  unselect(): Promise<void>;

  fetch(range: string, fields: FetchFields, opts?: { changedSince?: number }): AsyncIterable<RemoteMessage>;
  /** UID SEARCH in the selected mailbox (ascending as the provider answers; [] when it refuses). */
  search(criteria: UidSearch): Promise<number[]>;
  /**
   * `UID SEARCH UID <uids> BODY|TEXT "needle"` (CHARSET UTF-8 for a needle that is not ASCII) in the
   * selected mailbox: the UIDs that match. Throws a ProviderError when the provider refuses it
   * (unlike `search`: a refusal is not "nothing matches").
   */
  searchText(uids: string, key: 'body' | 'text', needle: string): Promise<number[]>;
  /** UID STORE FLAGS; false when refused. */
  setFlags(uids: string, flags: string[]): Promise<boolean>;
  /** UID STORE +FLAGS; false when refused. */
  addFlags(uids: string, flags: string[]): Promise<boolean>;
  /**
   * UID STORE +FLAGS \Deleted, then UID EXPUNGE of those UIDs (UIDPLUS) or a plain EXPUNGE
   * (without UIDPLUS: see mailbox-ops.ts expungeUids for the safe way).
   */
  deleteMessages(uids: string): Promise<boolean>;
  copy(uids: string, target: string): Promise<CopyResult | null>;
  move(uids: string, target: string): Promise<CopyResult | null>;
  append(path: string, raw: Buffer, flags: string[], date?: Date): Promise<AppendResult | null>;

  createFolder(path: string): Promise<void>;
  renameFolder(from: string, to: string): Promise<void>;
  deleteFolder(path: string): Promise<void>;
  subscribe(path: string): Promise<void>;
  unsubscribe(path: string): Promise<void>;

  noop(): Promise<void>;
  /** IDLE until the provider says something or another command is sent. */
  idle(): Promise<void>;
  logout(): Promise<void>;
  /** Closes the connection at once. */
  close(): void;
}

/**
 * Connects and logs in; throws ProviderError. The caller owns the connection (logout/close).
 * `logger` takes the connection's own debug lines (socket errors after login); the timeouts, when
 * given, replace the defaults (connect.ts ConnectOptions: TCP connect + greeting, an idle socket);
 * `signal` gives the attempt up when it aborts (sync stopped).
 */
export type RemoteConnector = (
  ep: ProviderEndpoint,
  opts: { logger: Logger; connectTimeoutMs?: number; socketTimeoutMs?: number; signal?: AbortSignal },
) => Promise<RemoteMailbox>;
