/**
 * The per-account sync engine: one connection for the passes (replay local changes, mirror the
 * folder list, sync every folder — INBOX first, initial sync newest first and resumable), one
 * IDLE connection on INBOX for push, polling for the other folders, reconnects with backoff.
 *
 *   const engine = createSyncEngine({ store, accountId, logger, connect, processInbound, encryptForUpload });
 *
 * It talks to the provider only through RemoteMailbox (remote/remote-mailbox.ts); `connect` makes
 * those connections (the product passes remote/connect.ts's connectProvider).
 *   engine.on((e) => ...); engine.start(); ... await engine.stop();
 */
import type { Store } from '../store/store.ts';
import type { Logger } from '../shared/logger.ts';
import { Backoff } from './backoff.ts';
import { followProviderRenames, listRemoteFolders, mirrorFolders, type MirroredFolder } from './folders.ts';
import { identityInbound } from './inbound.ts';
import { applyGone, syncMailbox, type GoneAtProvider } from './mailbox-sync.ts';
import type { SyncContext } from './context.ts';
import { KeyedMutex } from '../shared/keyed-mutex.ts';
import { ProgressTracker } from './progress.ts';
import { replayPending, type ReplayContext } from './replay.ts';
import { encryptFolderAtRest } from './encrypt-at-rest.ts';
import { repairMailbox } from './repair.ts';
import { readBodies, WriteBacks, type BodiesRead, type BodyFetchResult } from './body-fetch.ts';
import { searchAtProvider, type BodySearchResult } from './body-search.ts';
import { UserError } from '../shared/errors.ts';
import { endpointOf, type ProviderEndpoint } from './remote/endpoint.ts';
import { liveness, probe, SleepDetector, type Liveness } from './remote/liveness.ts';
import { classifyProviderError, ProviderError } from './remote/errors.ts';
import type { RemoteConnector, RemoteMailbox } from './remote/remote-mailbox.ts';
import type { AccessTokens } from './remote/access-tokens.ts';
import type {
  ConnectionState,
  EncryptForUpload,
  ProcessInbound,
  RemoteChangeSink,
  RepairReport,
  SyncEvent,
  SyncListener,
  SyncStatus,
} from './types.ts';

export interface SyncEngineOptions {
  store: Store;
  accountId: number;
  logger: Logger;
  /** Opens a logged-in provider connection (the product: connectProvider from remote/connect.ts). */
  connect: RemoteConnector;
  /** Decrypt/verify + build the served message (default: store as it came). */
  processInbound?: ProcessInbound;
  /** Encrypt what is uploaded (default: upload as is). */
  encryptForUpload?: EncryptForUpload;
  /** Never contact the provider (changes stay queued). */
  offline?: boolean;
  /** Polling interval for folders other than INBOX (ms, default 60 s). */
  pollIntervalMs?: number;
  /** IDLE on INBOX (default true). */
  idle?: boolean;
  /**
   * Messages per fetch batch (default 50) and bytes per batch (default 8 MiB). Two batches are in
   * flight (one fetched while the previous one is decrypted), each held ~3 times over (as fetched,
   * the copy a crypto worker gets, the served message), so these bound a sync's working set:
   * ~50 MB of message bytes at worst (the goal: peak RSS <= 300 MB while syncing). Measured on 10k 20 KB PGP
   * messages: 50 instead of 100 per batch, ~15 MB less peak RSS at the same speed.
   */
  batchMessages?: number;
  batchBytes?: number;
  /**
   * UIDs the initial backfill lists at a time (default 10,000: ~1 MB of listing, and one round
   * trip per 10,000 messages), and messages whose flags a pass reads at a time from a provider
   * without CONDSTORE; tests set it small.
   */
  backfillWindow?: number;
  /** Reconnect backoff (default 1 s doubling to 30 s: back within 60 s of the network's return). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * "Encrypt my mailbox at rest": replace plaintext messages at the provider with copies made by
   * encryptForUpload. Default: the account's `settings.encryptAtRest === true` (off).
   * Needs encryptForUpload.
   */
  encryptAtRest?: boolean;
  /** Access tokens of OAuth accounts; needed only when the account signs in with OAuth. */
  tokens?: AccessTokens;
  /**
   * How often a quiet provider connection is probed (ms; default 20 s): a probe unanswered within
   * three quarters of it, or a new connection not greeted within it, counts as a dead connection
   * (remote/liveness.ts).
   */
  probeEveryMs?: number;
  /**
   * Bodies on demand: how long the provider may stay silent (TCP connect, greeting, a command in
   * flight) before the request is answered as unavailable (the local client's FETCH gets
   * NO [UNAVAILABLE]); default: as long as a liveness probe may take (15 s). The on-demand
   * connection is also closed once unused this long (its socket timeout would).
   */
  onDemandSilenceMs?: number;
}

export interface SyncEngine {
  readonly accountId: number;
  /** Local changes enter here (the store's repos already enqueue local writes themselves). */
  readonly sink: RemoteChangeSink;
  start(): void;
  /** Stops at the next batch boundary and closes the connections. */
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Replay local changes and look at the provider now. */
  kick(): void;
  /** After an auth failure: the password was changed, try again. */
  credentialsChanged(): void;
  status(): SyncStatus;
  on(listener: SyncListener): () => void;
  /**
   * Resolves after a complete pass that started after this call, with the initial sync done and
   * nothing left to replay. Rejects after timeoutMs.
   */
  whenSynced(timeoutMs?: number): Promise<void>;
  /**
   * Re-checks every folder against the provider and fetches again what is missing or damaged
   * locally (repair.ts). A running session does it between passes on its connection (never beside
   * a replay); a paused or stopped engine opens a connection of its own. Writes nothing at the
   * provider; rejects with a one-line reason when the provider cannot be reached.
   */
  repair(): Promise<RepairReport>;
  /**
   * Bodies on demand (body-fetch.ts): fetches the evicted bodies of local messages `uids` of
   * mailbox `mailboxId` from the provider now, on a connection of its own (opened when needed,
   * closed once unused for the silence limit; the requests waiting for the same mailbox go in one
   * FETCH), and writes them back. Rejects with a one-line reason when the provider cannot be asked
   * (offline, paused, stopped, unreachable) or stays silent longer than the limit (onDemandSilenceMs).
   */
  fetchBodies(mailboxId: number, uids: readonly number[]): Promise<BodyFetchResult>;
  /**
   * fetchBodies for a reader that takes the bytes (the IMAP server's FETCH): resolves as soon as
   * the provider's bodies are checked against the bytes recorded, with them (`bodies`); they are
   * written back in the background (`stored`), before any later request for them is looked at and
   * before stop() resolves.
   */
  readBodies(mailboxId: number, uids: readonly number[]): Promise<BodiesRead>;
  /**
   * Full-text search of evicted bodies the local index cannot decide (body-search.ts): asks the
   * provider's SEARCH on the on-demand connection (after the body fetches before it). Never
   * rejects: what the provider cannot be asked about (offline, paused, stopped, unreachable, an
   * error) is `failed`, and logged. `alive` is asked before each provider folder's commands:
   * once false (the client that searches went away), what is not searched yet is `failed`.
   */
  searchBodies(
    mailboxId: number,
    key: 'body' | 'text',
    needle: string,
    uids: readonly number[],
    alive?: () => boolean,
  ): Promise<BodySearchResult>;
}

interface OnDemandRequest {
  mailboxId: number;
  uids: readonly number[];
  resolve: (r: BodiesRead) => void;
  reject: (err: Error) => void;
}

/** No connection to the provider could be opened for an on-demand batch (`reason` says why). */
class NoOnDemandConnection extends Error {
  readonly reason: Error;
  constructor(reason: Error) {
    super(reason.message);
    this.reason = reason;
  }
}

export function createSyncEngine(options: SyncEngineOptions): SyncEngine {
  return new Engine(options);
}

class Engine implements SyncEngine {
  readonly accountId: number;
  readonly sink: RemoteChangeSink;
  readonly #o: SyncEngineOptions;
  readonly #live: Liveness;
  /** Aborted by stop(): a connection attempt still in progress is given up (new at each start). */
  #stopping = new AbortController();
  readonly #store: Store;
  readonly #log: Logger;
  readonly #progress = new ProgressTracker();
  readonly #listeners = new Set<SyncListener>();
  readonly #mutex = new KeyedMutex();
  readonly #backoff: Backoff;
  #connection: ConnectionState = 'offline';
  #lastError: string | null = null;
  #paused = false;
  #authBlocked = false;
  #stopped = true;
  #running: Promise<void> | null = null;
  #wakeFlag = false;
  /**
   * What the IDLE connection found gone from INBOX, for the next pass to remove after it has looked
   * at every folder; `#backfilling`: the initial download is still running (they are removed at once).
   */
  #goneLater: GoneAtProvider[] = [];
  #backfilling = true;
  #wakeFn: (() => void) | null = null;
  #main: RemoteMailbox | null = null;
  #idleClient: RemoteMailbox | null = null;
  #idleTask: Promise<void> | null = null;
  #delimiter = '/';
  #inbox: MirroredFolder | null = null;
  #unsubscribeStore: (() => void) | null = null;
  #kickTimer: NodeJS.Timeout | null = null;
  #lastProgressEmit = 0;
  #passSeq = 0;
  #waiters: Array<{ after: number; resolve: () => void }> = [];
  #atRestRetryAt = 0;
  #repairs: Array<{ resolve: (r: RepairReport) => void; reject: (err: Error) => void }> = [];
  readonly #sleepDetector: SleepDetector;
  /**
   * The connection bodies on demand are fetched on, its idle timer, the requests waiting, the
   * task serving them and the write-backs of the bodies handed out.
   */
  #onDemand: RemoteMailbox | null = null;
  #onDemandIdle: NodeJS.Timeout | null = null;
  #onDemandQueue: OnDemandRequest[] = [];
  #onDemandDrain: Promise<void> | null = null;
  /** The last task on the on-demand connection: each waits for the one before (#onDemandTask). */
  #onDemandTurn: Promise<void> = Promise.resolve();
  readonly #writeBacks = new WriteBacks();

  constructor(o: SyncEngineOptions) {
    this.#o = o;
    this.#live = liveness(o.probeEveryMs);
    this.accountId = o.accountId;
    this.#store = o.store;
    this.#log = o.logger.child({ module: 'sync', accountId: o.accountId });
    this.#backoff = new Backoff(o.backoffBaseMs ?? 1000, o.backoffMaxMs ?? 30_000);
    this.#sleepDetector = new SleepDetector((sleptMs) => {
      // The machine slept: its connections are probably dead, and waiting to find out is slow.
      this.#log.info({ sleptMs: Math.round(sleptMs) }, 'resumed from sleep; reconnecting to the provider');
      this.#backoff.reset();
      this.#main?.close();
      this.#idleClient?.close();
      this.#wake();
    });
    this.sink = {
      enqueue: (accountId, change) => {
        this.#store.pending.enqueue(accountId, change);
        this.kick();
      },
      kick: () => this.kick(),
    };
  }

  on(listener: SyncListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: SyncEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        this.#log.error({ err }, 'sync listener failed');
      }
    }
  }

  #setConnection(state: ConnectionState, error: string | null = this.#lastError): void {
    if (state === this.#connection && error === this.#lastError) return;
    this.#connection = state;
    this.#lastError = error;
    this.#emit({ type: 'connection', state, error });
  }

  #emitProgress(force = false): void {
    const now = Date.now();
    if (!force && now - this.#lastProgressEmit < 250) return;
    this.#lastProgressEmit = now;
    this.#emit({ type: 'progress', progress: this.#progress.snapshot() });
  }

  status(): SyncStatus {
    return {
      connection: this.#connection,
      sync: this.#progress.snapshot(),
      lastError: this.#lastError,
      paused: this.#paused,
      pending: this.#store.closed ? 0 : this.#store.pending.count(this.accountId),
    };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    // Local writes enqueue pending changes in the same transaction: wake up when there are some.
    this.#unsubscribeStore = this.#store.changes.on(() => {
      if (this.#kickTimer) return;
      this.#kickTimer = setTimeout(() => {
        this.#kickTimer = null;
        if (!this.#stopped && !this.#store.closed && this.#store.pending.count(this.accountId) > 0)
          this.kick();
      }, 20);
    });
    this.#sleepDetector.start();
    this.#running = this.#run().catch((err: unknown) => {
      this.#log.error({ err }, 'sync engine crashed');
      this.#setConnection('error', err instanceof Error ? err.message : String(err));
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopping.abort();
    this.#sleepDetector.stop();
    this.#unsubscribeStore?.();
    if (this.#kickTimer) clearTimeout(this.#kickTimer);
    this.#kickTimer = null;
    this.#wake();
    this.#main?.close();
    this.#idleClient?.close();
    this.#closeOnDemand();
    await this.#running;
    await this.#idleTask;
    await this.#onDemandDrain;
    await this.#writeBacks.settled();
    this.#failRepairs(new UserError('stopped', 'sync stopped before the repair could run'));
  }

  pause(): void {
    this.#paused = true;
    this.#failRepairs(new UserError('paused', 'sync was paused before the repair could run; try again'));
    this.#main?.close();
    this.#wake();
  }

  resume(): void {
    this.#paused = false;
    this.#wake();
  }

  kick(): void {
    this.#wake();
  }

  credentialsChanged(): void {
    this.#authBlocked = false;
    this.#backoff.reset();
    this.#wake();
  }

  whenSynced(timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== entry);
        reject(
          new Error(
            `sync did not complete within ${timeoutMs} ms (state ${this.#connection}${this.#lastError ? `: ${this.#lastError}` : ''})`,
          ),
        );
      }, timeoutMs);
      const entry = {
        after: this.#passSeq,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
      this.#waiters.push(entry);
      this.kick();
    });
  }

  repair(): Promise<RepairReport> {
    if (this.#o.offline)
      return Promise.reject(new UserError('offline', 'cannot repair while offline (serve --offline)'));
    if (!this.#stopped && !this.#paused && this.#connection === 'online' && this.#main?.usable)
      return new Promise((resolve, reject) => {
        this.#repairs.push({ resolve, reject });
        this.#wake();
      });
    return this.#repairOnce();
  }

  async fetchBodies(mailboxId: number, uids: readonly number[]): Promise<BodyFetchResult> {
    const { restored, failed, stored } = await this.readBodies(mailboxId, uids);
    await stored;
    return { restored, failed };
  }

  readBodies(mailboxId: number, uids: readonly number[]): Promise<BodiesRead> {
    if (this.#o.offline)
      return Promise.reject(new UserError('offline', 'the bridge runs offline: the provider is not asked'));
    if (this.#stopped) return Promise.reject(new UserError('stopped', 'sync is stopped'));
    if (this.#paused) return Promise.reject(new UserError('paused', 'sync is paused'));
    return new Promise((resolve, reject) => {
      this.#onDemandQueue.push({ mailboxId, uids, resolve, reject });
      if (this.#onDemandDrain) return;
      // started after this turn: the requests made in the same turn go in one batch
      this.#onDemandDrain = Promise.resolve().then(() => this.#drainOnDemand());
    });
  }

  /**
   * Serves the waiting on-demand requests, one provider FETCH for all those of the same mailbox
   * (the clients' requests made while the previous batch was being fetched go together). When no
   * connection could be opened, every request waiting is answered with that reason at once: each
   * would otherwise wait out the same silence in turn (minutes for a few mailboxes). Requests still
   * waiting when sync is stopped or paused are refused as new ones are.
   */
  async #drainOnDemand(): Promise<void> {
    try {
      while (this.#onDemandQueue.length) {
        const refused = this.#stopped
          ? new UserError('stopped', 'sync is stopped')
          : this.#paused
            ? new UserError('paused', 'sync is paused')
            : null;
        if (refused) {
          this.#failOnDemand(this.#onDemandQueue.splice(0), refused);
          break;
        }
        const mailboxId = this.#onDemandQueue[0]!.mailboxId;
        const batch = this.#onDemandQueue.filter((r) => r.mailboxId === mailboxId);
        this.#onDemandQueue = this.#onDemandQueue.filter((r) => r.mailboxId !== mailboxId);
        try {
          const res = await this.#fetchBodiesNow(mailboxId, [...new Set(batch.flatMap((r) => r.uids))]);
          const failed = new Set(res.failed);
          for (const r of batch)
            r.resolve({
              restored: r.uids.filter((u) => !failed.has(u)),
              failed: r.uids.filter((u) => failed.has(u)),
              bodies: new Map(r.uids.flatMap((u) => (res.bodies.has(u) ? [[u, res.bodies.get(u)!]] : []))),
              stored: res.stored,
            });
        } catch (err) {
          if (err instanceof NoOnDemandConnection)
            this.#failOnDemand(
              [...batch, ...this.#onDemandQueue.splice(0)],
              // a connection attempt given up by stop()
              this.#stopped ? new UserError('stopped', 'sync is stopped') : err.reason,
            );
          else this.#failOnDemand(batch, err as Error);
        }
      }
    } finally {
      this.#onDemandDrain = null;
    }
  }

  #failOnDemand(requests: OnDemandRequest[], err: Error): void {
    for (const r of requests) r.reject(err);
  }

  searchBodies(
    mailboxId: number,
    key: 'body' | 'text',
    needle: string,
    uids: readonly number[],
    alive: () => boolean = () => true,
  ): Promise<BodySearchResult> {
    if (this.#o.offline || this.#stopped || this.#paused)
      return Promise.resolve({ found: [], failed: [...uids] });
    return searchAtProvider(
      this.#ctx(),
      (work) => this.#onDemandTask(work),
      mailboxId,
      key,
      needle,
      uids,
      alive,
      (thrown) => {
        const err = thrown instanceof NoOnDemandConnection ? thrown.reason : thrown;
        this.#log.info(
          { err, mailboxId, messages: uids.length },
          'the provider could not search the bodies not stored here',
        );
      },
    );
  }

  #fetchBodiesNow(mailboxId: number, uids: readonly number[]): Promise<BodiesRead> {
    return this.#onDemandTask((client) => readBodies(this.#ctx(), client, mailboxId, uids, this.#writeBacks));
  }

  /**
   * Runs `work` on the on-demand connection (opened when needed; closed once unused for the
   * silence limit), after the tasks before it: one command sequence at a time, and one connection.
   * A kept connection that died quietly is replaced and `work` tried once more. Throws
   * NoOnDemandConnection when none could be opened, else the provider's error, classified.
   */
  #onDemandTask<T>(work: (client: RemoteMailbox) => Promise<T>): Promise<T> {
    const next = (): Promise<T> =>
      // stopped or paused while it waited: refused as a new request is
      this.#stopped
        ? Promise.reject(new UserError('stopped', 'sync is stopped'))
        : this.#paused
          ? Promise.reject(new UserError('paused', 'sync is paused'))
          : this.#onDemandNow(work);
    const run = this.#onDemandTurn.then(next);
    this.#onDemandTurn = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  async #onDemandNow<T>(work: (client: RemoteMailbox) => Promise<T>): Promise<T> {
    const account = this.#store.accounts.get(this.accountId);
    if (!account) throw new UserError('not-found', 'the account no longer exists');
    const ep = endpointOf(account);
    const silenceMs = this.#o.onDemandSilenceMs ?? this.#live.deadlineMs;
    if (this.#onDemandIdle) clearTimeout(this.#onDemandIdle);
    this.#onDemandIdle = null;
    try {
      // a kept connection may have died quietly: one more try on a fresh one
      for (let attempt = 0; ; attempt++) {
        const kept = this.#onDemand?.usable ? this.#onDemand : null;
        let client = kept;
        if (!client) {
          this.#closeOnDemand();
          try {
            client = await this.#connect(ep, { connectTimeoutMs: silenceMs, socketTimeoutMs: silenceMs });
          } catch (err) {
            throw new NoOnDemandConnection(classifyProviderError(err, ep));
          }
          client.on('error', () => {});
          this.#onDemand = client;
        }
        try {
          return await work(client);
        } catch (err) {
          this.#closeOnDemand();
          if (kept && attempt === 0) continue;
          throw classifyProviderError(err, ep);
        }
      }
    } finally {
      if (this.#stopped) this.#closeOnDemand();
      else if (this.#onDemand) {
        this.#onDemandIdle = setTimeout(() => this.#closeOnDemand(), silenceMs);
        this.#onDemandIdle.unref();
      }
    }
  }

  #closeOnDemand(): void {
    if (this.#onDemandIdle) clearTimeout(this.#onDemandIdle);
    this.#onDemandIdle = null;
    this.#onDemand?.close();
    this.#onDemand = null;
  }

  /** Repair on a connection of its own (no session runs: paused, stopped, or not connected). */
  async #repairOnce(): Promise<RepairReport> {
    const account = this.#store.accounts.get(this.accountId);
    if (!account) throw new UserError('not-found', 'the account no longer exists');
    const ep = endpointOf(account);
    let client: RemoteMailbox;
    try {
      client = await this.#connect(ep);
    } catch (err) {
      throw classifyProviderError(err, ep);
    }
    client.on('error', () => {});
    try {
      return await this.#repairWith(client);
    } catch (err) {
      throw classifyProviderError(err, ep);
    } finally {
      client.close();
    }
  }

  async #repairWith(client: RemoteMailbox): Promise<RepairReport> {
    const remote = await listRemoteFolders(client);
    await followProviderRenames(this.#store, this.accountId, remote, client, this.#log);
    const folders = mirrorFolders(this.#store, this.accountId, remote, this.#log);
    // A repair asked for while paused still finishes each folder's backfill.
    const ctx: SyncContext = { ...this.#ctx(), interrupted: () => this.#stopped };
    const report: RepairReport = { folders: [] };
    const total = folders.length;
    for (const f of folders) {
      this.#emit({ type: 'repair-progress', folder: f.local.name, done: report.folders.length, total });
      report.folders.push(await this.#mutex.run(f.remote.path, () => repairMailbox(ctx, client, f)));
    }
    this.#emit({ type: 'repair-progress', folder: null, done: total, total });
    this.#log.info({ folders: report.folders.length }, 'repair complete');
    return report;
  }

  /** Runs the repairs asked for, on the session's connection (between passes). */
  async #runRepairs(client: RemoteMailbox, ep: ProviderEndpoint): Promise<void> {
    const asked = this.#repairs.splice(0);
    try {
      const report = await this.#repairWith(client);
      for (const r of asked) r.resolve(report);
    } catch (err) {
      const pe = classifyProviderError(err, ep);
      for (const r of asked) r.reject(pe);
      throw err;
    }
  }

  #failRepairs(err: Error): void {
    for (const r of this.#repairs.splice(0)) r.reject(err);
  }

  #wake(): void {
    this.#wakeFlag = true;
    const fn = this.#wakeFn;
    this.#wakeFn = null;
    fn?.();
  }

  /**
   * Waits for a wake-up (or the timeout); returns at once if one came since the last wait.
   * true: woken; false: the time ran out.
   */
  async #sleep(ms: number | null): Promise<boolean> {
    if (this.#wakeFlag) {
      this.#wakeFlag = false;
      return true;
    }
    const woken = await new Promise<boolean>((resolve) => {
      const t = ms === null ? null : setTimeout(() => done(false), ms);
      const done = (w: boolean) => {
        if (t) clearTimeout(t);
        this.#wakeFn = null;
        resolve(w);
      };
      this.#wakeFn = () => done(true);
    });
    this.#wakeFlag = false;
    return woken;
  }

  /** Waits `ms` (or a wake-up) between passes, probing the quiet connection all the while. */
  async #quietWait(client: RemoteMailbox, ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (!this.#stopped && !this.#paused && client.usable) {
      const left = until - performance.now();
      if (left <= 0) return;
      const every = this.#live.probeEveryMs;
      if (await this.#sleep(Math.min(left, every))) return;
      if (left > every) await probe(client, this.#live.deadlineMs);
    }
  }

  #ctx(): SyncContext {
    const account = this.#store.accounts.get(this.accountId);
    return {
      store: this.#store,
      accountId: this.accountId,
      email: account?.email ?? '',
      logger: this.#log,
      processInbound: this.#o.processInbound ?? identityInbound,
      batchMessages: this.#o.batchMessages ?? 50,
      batchBytes: this.#o.batchBytes ?? 8 * 1024 * 1024,
      backfillWindow: this.#o.backfillWindow ?? 10_000,
      progress: this.#progress,
      interrupted: () => this.#stopped || this.#paused,
      onStored: (mailbox, count, bytes) => {
        this.#atRestClean = false; // new mail may be plaintext: convert it on the next pass
        this.#progress.add(mailbox, count, bytes);
        this.#emit({ type: 'messages', mailbox, count });
        this.#emitProgress();
      },
    };
  }

  #replayCtx(): ReplayContext {
    const account = this.#store.accounts.get(this.accountId);
    return {
      store: this.#store,
      accountId: this.accountId,
      email: account?.email ?? '',
      logger: this.#log,
      encryptForUpload: this.#o.encryptForUpload ?? (async (raw) => raw),
      delimiter: this.#delimiter,
      emit: (e) => this.#emit(e),
    };
  }

  async #connect(
    ep: ProviderEndpoint,
    limits: { connectTimeoutMs?: number; socketTimeoutMs?: number } = {},
  ): Promise<RemoteMailbox> {
    const open = (e: ProviderEndpoint) =>
      this.#o.connect(e, {
        logger: this.#log,
        connectTimeoutMs: this.#live.connectMs,
        signal: this.#stopping.signal,
        ...limits,
      });
    if (!ep.oauth) return await open(ep);
    // OAuth: a token fresh for every connection; one the server rejects is refreshed and tried
    // once more, then the account needs signing in again (classifyProviderError says so).
    const tokens = this.#o.tokens;
    if (!tokens) throw new ProviderError('auth', 'sign in again: no OAuth token service is running');
    const first = { ...ep, accessToken: await tokens.accessToken(this.accountId) };
    try {
      return await open(first);
    } catch (err) {
      const pe = classifyProviderError(err, first);
      if (pe.kind !== 'auth') throw pe;
      this.#log.info({}, 'the provider rejected the access token; refreshing it once');
      const again = await tokens.accessToken(this.accountId, { rejected: first.accessToken });
      return await open({ ...ep, accessToken: again });
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#o.offline) {
        this.#setConnection('offline', null);
        await this.#sleep(null);
        continue;
      }
      if (this.#paused) {
        this.#setConnection('paused');
        await this.#sleep(null);
        continue;
      }
      if (this.#authBlocked) {
        await this.#sleep(null);
        continue;
      }
      const account = this.#store.accounts.get(this.accountId);
      if (!account) {
        this.#setConnection('error', 'the account no longer exists');
        return;
      }
      const ep = endpointOf(account);
      this.#setConnection('connecting');
      try {
        const client = await this.#connect(ep);
        this.#main = client;
        client.on('close', () => this.#wake());
        this.#backoff.reset();
        this.#setConnection('online', null);
        await this.#session(client, ep);
        if (!this.#stopped && !this.#paused)
          throw new ProviderError('unreachable', `the connection to ${ep.host}:${ep.port} was lost`);
      } catch (err) {
        if (this.#stopped) break;
        if (this.#paused) continue;
        const pe = classifyProviderError(err, ep);
        this.#failRepairs(pe);
        this.#log.warn({ kind: pe.kind, err: pe }, 'provider connection problem');
        if (pe.kind === 'auth') {
          this.#authBlocked = true;
          this.#setConnection('auth-failed', pe.message);
          continue;
        }
        this.#setConnection(pe.kind === 'tls' ? 'tls-failed' : 'error', pe.message);
        await this.#sleep(this.#backoff.next());
      } finally {
        this.#main?.close();
        this.#main = null;
        this.#idleClient?.close();
        await this.#idleTask;
        this.#idleTask = null;
      }
    }
    this.#setConnection('offline', this.#lastError);
  }

  /** Runs passes on a connected client until it drops or the engine stops. */
  async #session(client: RemoteMailbox, ep: ProviderEndpoint): Promise<void> {
    const poll = this.#o.pollIntervalMs ?? 60_000;
    let idleStarted = false;
    while (!this.#stopped && !this.#paused && client.usable) {
      this.#wakeFlag = false;
      if (this.#repairs.length) await this.#runRepairs(client, ep);
      const seq = ++this.#passSeq;
      const t0 = Date.now();
      await replayPending(this.#replayCtx(), client);
      const remote = await listRemoteFolders(client);
      this.#delimiter =
        remote.find((f) => f.path.toUpperCase() === 'INBOX')?.delimiter ?? remote[0]?.delimiter ?? '/';
      await followProviderRenames(this.#store, this.accountId, remote, client, this.#log);
      const folders = mirrorFolders(this.#store, this.accountId, remote, this.#log);
      this.#inbox = folders.find((f) => f.remote.path.toUpperCase() === 'INBOX') ?? null;
      if (!idleStarted && (this.#o.idle ?? true) && this.#inbox) {
        idleStarted = true;
        this.#idleTask = this.#idleLoop(ep);
      }
      const initial = folders.some(
        (f) =>
          !this.#store.syncState.get<{ initialDone: boolean }>(this.accountId, f.remote.path)?.initialDone,
      );
      this.#progress.knowSizes(
        folders.map((f) => ({
          name: f.local.name,
          total: f.remote.messages,
          synced: this.#store.remoteMap.countIn(this.accountId, f.remote.path),
        })),
      );
      this.#progress.begin(initial ? 'initial' : 'incremental');
      this.#emitProgress(true);
      let backfillLeft = false;
      const ctx = this.#ctx();
      // what the provider no longer has is removed here once every folder was looked at: a message
      // another device moved to a folder synced later is then matched to the stored one (reuse.ts)
      const gone: GoneAtProvider[] = this.#goneLater.splice(0);
      this.#backfilling = initial;
      try {
        for (const f of folders) {
          if (this.#stopped || this.#paused || !client.usable) break;
          // a replay between folders may have renamed or deleted this one: the next pass lists again
          if (this.#store.mailboxes.get(f.local.id)?.remoteName !== f.remote.path) continue;
          const r = await this.#mutex.run(f.remote.path, () =>
            syncMailbox(ctx, client, f, { backfill: true, gone }),
          );
          backfillLeft ||= r.backfillLeft;
          // Local changes made meanwhile go out between folders (the user is waiting for them).
          if (this.#wakeFlag && this.#store.pending.count(this.accountId) > 0)
            await replayPending(this.#replayCtx(), client);
        }
      } finally {
        for (const g of gone) await this.#mutex.run(g.path, async () => applyGone(ctx, g));
      }
      if (this.#stopped || this.#paused || !client.usable) break;
      await replayPending(this.#replayCtx(), client);
      this.#progress.phase = 'idle';
      this.#emitProgress(true);
      const pending = this.#store.pending.count(this.accountId);
      this.#emit({ type: 'pass-complete', durationMs: Date.now() - t0 });
      this.#log.debug({ pass: seq, ms: Date.now() - t0, pending, backfillLeft }, 'pass complete');
      if (!backfillLeft && pending === 0 && !this.#atRestDue()) {
        const ready = this.#waiters.filter((w) => w.after < seq);
        this.#waiters = this.#waiters.filter((w) => w.after >= seq);
        for (const w of ready) w.resolve();
      }
      if (backfillLeft) continue;
      if (!this.#stopped && client.usable && pending === 0) await this.#encryptAtRest(client, folders, ctx);
      if (this.#waiters.length) continue;
      await this.#quietWait(client, poll);
    }
  }

  #atRestEnabled(): boolean {
    if (!this.#o.encryptForUpload) return false;
    if (this.#o.encryptAtRest !== undefined) return this.#o.encryptAtRest;
    return this.#store.accounts.get(this.accountId)?.settings.encryptAtRest === true;
  }

  #atRestDue(): boolean {
    return this.#atRestEnabled() && Date.now() >= this.#atRestRetryAt && !this.#atRestClean;
  }

  #atRestClean = false;

  /** Runs the at-rest conversion over every folder; a failure stops it with a clear status. */
  async #encryptAtRest(client: RemoteMailbox, folders: MirroredFolder[], ctx: SyncContext): Promise<void> {
    if (!this.#atRestDue()) return;
    const encrypt = this.#o.encryptForUpload as EncryptForUpload;
    let total = 0;
    try {
      for (const f of folders) {
        if (this.#stopped || this.#paused || !client.usable) return;
        const r = await this.#mutex.run(f.remote.path, () =>
          encryptFolderAtRest(ctx, client, f, encrypt, (p) =>
            this.#emit({
              type: 'encrypt-at-rest',
              converted: total + p.converted,
              remaining: p.remaining,
              error: null,
            }),
          ),
        );
        total += r.converted;
      }
      this.#atRestClean = true;
      this.#emit({ type: 'encrypt-at-rest', converted: total, remaining: 0, error: null });
      // Wake whoever waits for a clean state.
      this.#wake();
    } catch (err) {
      if (!(err instanceof ProviderError) || err.kind === 'unreachable' || err.kind === 'timeout') throw err;
      this.#atRestRetryAt = Date.now() + 10 * 60_000;
      this.#lastError = err.message;
      this.#log.warn({ err }, 'encrypt at rest stopped');
      this.#emit({ type: 'encrypt-at-rest', converted: total, remaining: -1, error: err.message });
      this.#emit({ type: 'connection', state: this.#connection, error: err.message });
    }
  }

  /** A second connection IDLEs on INBOX and syncs it as soon as the provider announces changes. */
  async #idleLoop(ep: ProviderEndpoint): Promise<void> {
    const backoff = new Backoff(1000, 30_000);
    while (!this.#stopped && !this.#paused && this.#main?.usable) {
      let c: RemoteMailbox | null = null;
      try {
        c = await this.#connect(ep);
        this.#idleClient = c;
        const client = c;
        let changed = false;
        const onChange = () => {
          changed = true;
          // Any command ends IDLE; the loop below then syncs.
          client.noop().catch(() => {});
        };
        client.on('change', onChange);
        await client.open('INBOX', { readOnly: true });
        backoff.reset();
        changed = true; // catch up on anything that arrived before IDLE started
        while (!this.#stopped && client.usable && this.#main?.usable) {
          if (changed && this.#inbox) {
            changed = false;
            const inbox = this.#inbox;
            // Once the initial download is done, what INBOX no longer has is left to the next pass,
            // started now, which removes it after looking at every folder: a message moved out of
            // INBOX by another device is then matched to the stored one in its new folder.
            const gone: GoneAtProvider[] | undefined = this.#backfilling ? undefined : [];
            await this.#mutex.run(inbox.remote.path, () =>
              syncMailbox(this.#ctx(), client, inbox, {
                backfill: false,
                quick: true,
                ...(gone ? { gone } : {}),
              }),
            );
            if (gone?.length) {
              this.#goneLater.push(...gone);
              this.#wake();
            }
          }
          if (!changed) {
            // A probe every probeEveryMs ends the IDLE (DONE, then NOOP) and must be answered, or
            // the connection is dead (probe closes it); then IDLE is issued again.
            const { probeEveryMs, deadlineMs } = this.#live;
            const timer = setTimeout(() => void probe(client, deadlineMs).catch(() => {}), probeEveryMs);
            try {
              await client.idle();
            } finally {
              clearTimeout(timer);
            }
          }
        }
      } catch (err) {
        if (this.#stopped) break;
        this.#log.debug({ err }, 'IDLE connection problem');
        await new Promise((r) => setTimeout(r, backoff.next()));
      } finally {
        c?.close();
        if (this.#idleClient === c) this.#idleClient = null;
      }
    }
  }
}
