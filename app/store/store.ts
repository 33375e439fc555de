/**
 * The Store facade: unlock (keywrap.json → data key), lock the data directory, open store.db
 * (SQLCipher), migrate, and expose the typed repositories and the change feed.
 */
import { ForegroundWork } from '../shared/foreground.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { diskFullMessage, freeBytes } from '../config/disk.ts';
import type { KeychainWrapper } from '../../native/keychain.ts';
import { openEncryptedDatabase, WrongKeyError, type SqlDatabase } from '../../native/sqlcipher.ts';
import { ConflictError, UnlockError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { ChangeFeed } from './change-feed.ts';
import { FtsIndexer } from './fts-indexer.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { migrate } from './migrations/runner.ts';
import { AccountsRepo } from './repos/accounts.ts';
import { CredentialsRepo } from './repos/credentials.ts';
import { MailboxesRepo } from './repos/mailboxes.ts';
import { MessagesRepo } from './repos/messages.ts';
import { OutboxRepo } from './repos/outbox.ts';
import { PendingChangesRepo } from './repos/pending-changes.ts';
import { RemoteMapRepo } from './repos/remote-map.ts';
import { SettingsRepo } from './repos/settings.ts';
import { SyncStateRepo } from './repos/sync-state.ts';
import { TlsRepo } from './repos/tls.ts';
import { SmimeRepo } from './repos/smime.ts';
import { STORE_KEY, STORE_SQL, StoreDb } from './sql.ts';
import { acquireDirLock, type DirLock } from './unlock/dir-lock.ts';
import {
  DEFAULT_KDF,
  readKeyWrap,
  unwrapWithKeychain,
  unwrapWithPassphrase,
  wrapWithKeychain,
  wrapWithPassphrase,
  writeKeyWrap,
  type KdfParams,
  type KeyWrapFile,
} from './unlock/keywrap.ts';

export const DB_FILE = 'store.db';
export const KEYWRAP_FILE = 'keywrap.json';

export interface StoreOptions {
  /** The data directory. */
  dir: string;
  passphrase?: string;
  keychain?: KeychainWrapper;
  logger: Logger;
  /** Argon2id parameters for new wraps (default 64 MiB, t=3, p=1). */
  kdf?: KdfParams;
  /** Take the one-bridge-per-directory lock (default true). */
  lock?: boolean;
  /** 'background' (default) drains the full-text backlog on timers; 'manual' only on flushIndex(). */
  ftsIndexing?: 'background' | 'manual';
  /** Deflate message bodies (≈60% less disk for text mail, about CPU-neutral). Default true. */
  compressBodies?: boolean;
  /** Tests only: a different migration list. */
  migrations?: readonly Migration[];
  /** What background upkeep waits for (default: a new one; the IMAP server holds store.foreground). */
  foreground?: ForegroundWork;
}

export class Store {
  readonly dir: string;
  readonly changes: ChangeFeed;
  readonly accounts: AccountsRepo;
  readonly mailboxes: MailboxesRepo;
  readonly messages: MessagesRepo;
  /**
   * Held by the local IMAP server while it answers a command: full-text indexing and body-cache
   * eviction wait meanwhile (shared/foreground.ts).
   */
  readonly foreground: ForegroundWork;
  readonly pending: PendingChangesRepo;
  readonly remoteMap: RemoteMapRepo;
  readonly outbox: OutboxRepo;
  readonly syncState: SyncStateRepo;
  readonly settings: SettingsRepo;
  readonly credentials: CredentialsRepo;
  readonly tls: TlsRepo;
  /** S/MIME certificates and the user's own certificates with their keys (issue 19) */
  readonly smime: SmimeRepo;
  readonly #sql: StoreDb;
  readonly #key: Buffer;
  readonly #lock: DirLock | null;
  readonly #logger: Logger;
  readonly #kdf: KdfParams;
  readonly #indexer: FtsIndexer;
  #closed = false;

  constructor(init: {
    dir: string;
    db: SqlDatabase;
    key: Buffer;
    lock: DirLock | null;
    logger: Logger;
    kdf: KdfParams;
    ftsIndexing: 'background' | 'manual';
    compressBodies: boolean;
    foreground: ForegroundWork;
  }) {
    this.dir = init.dir;
    this.foreground = init.foreground;
    this.#key = init.key;
    this.#lock = init.lock;
    this.#logger = init.logger;
    this.#kdf = init.kdf;
    this.changes = new ChangeFeed(init.logger);
    this.#sql = new StoreDb(init.db, this.changes, () => diskFullMessage(init.dir));
    this.pending = new PendingChangesRepo(this.#sql);
    this.accounts = new AccountsRepo(this.#sql);
    this.mailboxes = new MailboxesRepo(this.#sql, this.pending);
    this.messages = new MessagesRepo(this.#sql, this.pending, {
      compressBodies: init.compressBodies,
      logger: init.logger,
      foreground: this.foreground,
    });
    this.remoteMap = new RemoteMapRepo(this.#sql);
    this.outbox = new OutboxRepo(this.#sql);
    this.syncState = new SyncStateRepo(this.#sql);
    this.settings = new SettingsRepo(this.#sql);
    this.credentials = new CredentialsRepo(this.#sql);
    this.tls = new TlsRepo(this.#sql);
    this.smime = new SmimeRepo(this.#sql);
    this.#indexer = new FtsIndexer(
      this.messages,
      init.logger,
      init.ftsIndexing === 'background',
      this.foreground,
    );
    // Chunks of big bodies no message links any more (deleted, or left by a crash mid-write) are
    // deleted in the background, one transaction per chunk.
    this.changes.on((e) => {
      if (e.type === 'messages-expunged' || e.type === 'mailbox-deleted' || e.type === 'account-removed')
        this.messages.chunks.kick();
    });
    this.messages.chunks.kick();
    // The body cache (when the user set a budget) evicts after new bodies came.
    this.changes.on((e) => {
      if (e.type === 'messages-added') this.messages.bodyCache.kick();
    });
    if (init.ftsIndexing === 'background') {
      this.changes.on((e) => {
        if (e.type === 'messages-added') this.#indexer.noteWrite();
      });
      this.#indexer.kick();
    }
  }

  /** The database behind the repositories: for app/store's own modules only (see STORE_SQL). */
  get [STORE_SQL](): StoreDb {
    return this.#sql;
  }

  /** A copy of the data key, for app/store's own modules (see STORE_KEY); the caller zeroes it. */
  get [STORE_KEY](): Buffer {
    this.#assertOpen();
    return Buffer.from(this.#key);
  }

  /**
   * The sentence for the user while the last write failed because the disk is full; null again
   * after a write succeeds or once the disk has room (4 MiB free) again.
   */
  get diskFull(): string | null {
    if (this.#sql.diskFull && (freeBytes(this.dir) ?? 0) >= 4 * 1024 * 1024) this.#sql.diskFull = null;
    return this.#sql.diskFull;
  }

  /** Runs fn as one write transaction; change events are delivered after the commit. */
  transaction<T>(fn: () => T): T {
    return this.#sql.write(fn);
  }

  /** Runs fn with `actor` attached to the change events it causes (so a session knows its own). */
  as<T>(actor: object | undefined, fn: () => T): T {
    return this.#sql.as(actor, fn);
  }

  /** Indexes the whole full-text backlog now (synchronously). Returns how many were indexed. */
  flushIndex(): number {
    let n = 0;
    for (;;) {
      const k = this.messages.indexBatch(500);
      n += k;
      if (k === 0) return n;
    }
  }

  /** Rewraps the data key under a new passphrase (milliseconds + one Argon2 run; the DB is untouched). */
  async changePassphrase(newPassphrase: string): Promise<void> {
    this.#assertOpen();
    const path = join(this.dir, KEYWRAP_FILE);
    const cur = readKeyWrap(path);
    const wrapped = await wrapWithPassphrase(this.#key, newPassphrase, this.#kdf);
    writeKeyWrap(path, { ...cur, passphrase: wrapped });
    this.#logger.info({}, 'store passphrase changed');
  }

  /** Adds (or with null removes) the OS-keychain-wrapped copy of the data key. */
  setKeychain(keychain: KeychainWrapper | null): void {
    this.#assertOpen();
    const path = join(this.dir, KEYWRAP_FILE);
    const cur = readKeyWrap(path);
    if (keychain && !keychain.available())
      throw new UnlockError('keychain-unavailable', 'the OS keychain is not available');
    if (!keychain && !cur.passphrase)
      throw new UnlockError('no-passphrase-wrap', 'set a passphrase before removing the keychain copy');
    writeKeyWrap(path, { ...cur, keychain: keychain ? wrapWithKeychain(this.#key, keychain) : null });
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#sql.closing) {
      try {
        stop();
      } catch {
        // the database closes all the same
      }
    }
    this.#sql.closing.clear();
    this.#indexer.stop();
    this.messages.closeWorker();
    this.messages.chunks.stop();
    this.messages.bodyCache.stop();
    try {
      this.#sql.db.close();
    } finally {
      this.#key.fill(0);
      this.#lock?.release();
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}

function paths(dir: string): { db: string; keywrap: string } {
  return { db: join(dir, DB_FILE), keywrap: join(dir, KEYWRAP_FILE) };
}

/** True when `dir` already holds a store (either file). */
export function storeExists(dir: string): boolean {
  const p = paths(dir);
  return existsSync(p.db) || existsSync(p.keywrap);
}

async function unwrapKey(file: KeyWrapFile, opts: StoreOptions): Promise<Buffer> {
  if (opts.keychain && file.keychain && opts.keychain.available()) {
    try {
      return unwrapWithKeychain(file, opts.keychain);
    } catch (err) {
      if (opts.passphrase === undefined) throw err;
      opts.logger.warn({}, 'keychain unlock failed; trying the passphrase');
    }
  }
  if (opts.passphrase !== undefined) return unwrapWithPassphrase(file, opts.passphrase);
  if (file.passphrase)
    throw new UnlockError(
      'passphrase-required',
      'a passphrase is required to unlock the store (LOCKBRIDGE_PASSPHRASE)',
    );
  throw new UnlockError(
    'keychain-required',
    'this store is unlocked by the OS keychain, which is not available',
  );
}

function finishOpen(opts: StoreOptions, db: SqlDatabase, key: Buffer, lock: DirLock | null): Store {
  try {
    migrate(db, opts.migrations ?? MIGRATIONS, opts.logger);
  } catch (err) {
    db.close();
    lock?.release();
    throw err;
  }
  return new Store({
    dir: opts.dir,
    db,
    key,
    lock,
    logger: opts.logger,
    kdf: opts.kdf ?? DEFAULT_KDF,
    ftsIndexing: opts.ftsIndexing ?? 'background',
    compressBodies: opts.compressBodies ?? true,
    foreground: opts.foreground ?? new ForegroundWork(),
  });
}

/** Opens an existing store. Wrong passphrase → UnlockError, with nothing on disk changed. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const p = paths(opts.dir);
  const file = readKeyWrap(p.keywrap);
  const key = await unwrapKey(file, opts);
  if (!existsSync(p.db)) throw new UnlockError('no-store', `the store database ${p.db} is missing`);
  const lock = opts.lock === false ? null : acquireDirLock(opts.dir);
  let db: SqlDatabase;
  try {
    db = openEncryptedDatabase(p.db, key, opts.logger, { mustExist: true });
  } catch (err) {
    lock?.release();
    if (err instanceof WrongKeyError)
      throw new UnlockError(
        'store-key-mismatch',
        `${KEYWRAP_FILE} does not unlock ${DB_FILE} (damaged or mixed files)`,
      );
    throw err;
  }
  return finishOpen(opts, db, key, lock);
}

/** Creates a new store in `dir` (refuses an existing one). Needs a passphrase and/or a keychain. */
export async function createStore(opts: StoreOptions): Promise<Store> {
  if (storeExists(opts.dir))
    throw new ConflictError(
      'store-exists',
      `a store already exists in ${opts.dir}; refusing to overwrite it`,
    );
  const useKeychain = opts.keychain?.available() ?? false;
  if (opts.passphrase === undefined && !useKeychain)
    throw new UnlockError(
      'passphrase-required',
      'a passphrase is required to create the store (LOCKBRIDGE_PASSPHRASE)',
    );
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  const file: KeyWrapFile = {
    version: 1,
    passphrase:
      opts.passphrase !== undefined
        ? await wrapWithPassphrase(key, opts.passphrase, opts.kdf ?? DEFAULT_KDF)
        : null,
    keychain: useKeychain ? wrapWithKeychain(key, opts.keychain!) : null,
  };
  const lock = opts.lock === false ? null : acquireDirLock(opts.dir);
  const p = paths(opts.dir);
  let db: SqlDatabase;
  try {
    if (storeExists(opts.dir))
      throw new ConflictError(
        'store-exists',
        `a store already exists in ${opts.dir}; refusing to overwrite it`,
      );
    db = openEncryptedDatabase(p.db, key, opts.logger, { mustExist: false });
  } catch (err) {
    lock?.release();
    throw err;
  }
  // a half-made store must not block the next `init`: remove the database files this call created
  const removeDb = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(p.db + suffix, { force: true });
  };
  let store: Store;
  try {
    store = finishOpen(opts, db, key, lock);
  } catch (err) {
    removeDb();
    throw err;
  }
  try {
    writeKeyWrap(p.keywrap, file);
  } catch (err) {
    store.close();
    removeDb();
    throw err;
  }
  opts.logger.info({ dir: opts.dir }, 'store created');
  return store;
}

/** Changes the passphrase of a store that is not open (rewraps the key only). */
export async function changePassphrase(opts: {
  dir: string;
  oldPassphrase: string;
  newPassphrase: string;
  kdf?: KdfParams;
}): Promise<void> {
  const path = paths(opts.dir).keywrap;
  const file = readKeyWrap(path);
  const key = await unwrapWithPassphrase(file, opts.oldPassphrase);
  try {
    const wrapped = await wrapWithPassphrase(key, opts.newPassphrase, opts.kdf ?? DEFAULT_KDF);
    writeKeyWrap(path, { ...file, passphrase: wrapped });
  } finally {
    key.fill(0);
  }
}
