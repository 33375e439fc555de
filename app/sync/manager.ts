/**
 * One sync engine per account, kept in step with the accounts table (added / removed accounts
 * start / stop their engine). The composition root creates one manager and forwards its events.
 */
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from './engine.ts';
import { NotFoundError } from '../shared/errors.ts';
import type { BodiesRead, BodyFetchResult } from './body-fetch.ts';
import type { BodySearchResult } from './body-search.ts';
import type { RemoteChangeSink, RepairReport, SyncEvent, SyncStatus } from './types.ts';

export interface SyncManagerOptions extends Omit<SyncEngineOptions, 'accountId'> {
  /** Every engine event, with the account's address. */
  onEvent?: (email: string, event: SyncEvent) => void;
}

export interface SyncManager {
  /** Starts an engine for every signed-in account (and for accounts added or signed in later). */
  start(): void;
  stop(): Promise<void>;
  /** Re-reads the accounts table (also done automatically when one is added, removed, signed out or in). */
  accountsChanged(): void;
  engine(email: string): SyncEngine | null;
  status(email: string): SyncStatus | null;
  pause(email: string): void;
  resume(email: string): void;
  /** The provider password of `email` changed: retry a login that failed. */
  credentialsChanged(email: string): void;
  /** Re-checks the account's folders against the provider (SyncEngine.repair). */
  repair(email: string): Promise<RepairReport>;
  /** Bodies on demand: SyncEngine.fetchBodies of the account's engine. */
  fetchBodies(accountId: number, mailboxId: number, uids: readonly number[]): Promise<BodyFetchResult>;
  /** Bodies on demand for a reader of the bytes: SyncEngine.readBodies of the account's engine. */
  readBodies(accountId: number, mailboxId: number, uids: readonly number[]): Promise<BodiesRead>;
  /** Search of evicted bodies at the provider: SyncEngine.searchBodies of the account's engine. */
  searchBodies(
    accountId: number,
    mailboxId: number,
    key: 'body' | 'text',
    needle: string,
    uids: readonly number[],
    alive?: () => boolean,
  ): Promise<BodySearchResult>;
  readonly sink: RemoteChangeSink;
}

export function createSyncManager(o: SyncManagerOptions): SyncManager {
  const engines = new Map<number, { email: string; engine: SyncEngine }>();
  let running = false;
  let unsubscribe: (() => void) | null = null;
  const log = o.logger.child({ module: 'sync-manager' });

  const byEmail = (email: string) => {
    for (const e of engines.values()) if (e.email.toLowerCase() === email.toLowerCase()) return e.engine;
    return null;
  };

  const reconcile = () => {
    if (!running || o.store.closed) return;
    // a signed-out account keeps its mail but has no engine: nothing contacts its provider
    const accounts = o.store.accounts.list().filter((a) => a.signedOutAt === null);
    const ids = new Set(accounts.map((a) => a.id));
    for (const [id, e] of engines)
      if (!ids.has(id)) {
        engines.delete(id);
        void e.engine.stop();
        log.info({ email: e.email }, 'sync stopped (account removed or signed out)');
      }
    for (const a of accounts) {
      if (engines.has(a.id)) continue;
      const { onEvent, ...engineOpts } = o;
      // every line the engine logs names its account (the UI filters logs by it)
      const engine = createSyncEngine({
        ...engineOpts,
        logger: engineOpts.logger.child({ account: a.email }),
        accountId: a.id,
      });
      if (onEvent) engine.on((ev) => onEvent(a.email, ev));
      engines.set(a.id, { email: a.email, engine });
      engine.start();
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      unsubscribe = o.store.changes.on((e) => {
        if (
          e.type === 'account-added' ||
          e.type === 'account-removed' ||
          e.type === 'account-signed-out' ||
          e.type === 'account-signed-in'
        )
          setImmediate(reconcile);
      });
      reconcile();
    },
    async stop() {
      running = false;
      unsubscribe?.();
      unsubscribe = null;
      const all = [...engines.values()];
      engines.clear();
      await Promise.all(all.map((e) => e.engine.stop()));
    },
    accountsChanged: reconcile,
    engine: byEmail,
    status: (email) => byEmail(email)?.status() ?? null,
    pause: (email) => byEmail(email)?.pause(),
    resume: (email) => byEmail(email)?.resume(),
    credentialsChanged: (email) => byEmail(email)?.credentialsChanged(),
    async repair(email) {
      const engine = byEmail(email);
      if (!engine) throw new NotFoundError(`account ${email}`);
      return engine.repair();
    },
    fetchBodies(accountId, mailboxId, uids) {
      const e = engines.get(accountId);
      // no engine (signed out): the provider is not asked, as when it cannot be reached
      if (!e) return Promise.resolve({ restored: [], failed: [...uids] });
      return e.engine.fetchBodies(mailboxId, uids);
    },
    readBodies(accountId, mailboxId, uids) {
      const e = engines.get(accountId);
      // no engine (signed out): the provider is not asked, as for fetchBodies
      if (!e)
        return Promise.resolve({
          restored: [],
          failed: [...uids],
          bodies: new Map(),
          stored: Promise.resolve(),
        });
      return e.engine.readBodies(mailboxId, uids);
    },
    searchBodies(accountId, mailboxId, key, needle, uids, alive) {
      const e = engines.get(accountId);
      // no engine (signed out): the provider is not asked
      if (!e) return Promise.resolve({ found: [], failed: [...uids] });
      return e.engine.searchBodies(mailboxId, key, needle, uids, alive);
    },
    sink: {
      enqueue(accountId, change) {
        o.store.pending.enqueue(accountId, change);
        engines.get(accountId)?.engine.kick();
      },
      kick(accountId) {
        if (accountId === undefined) for (const e of engines.values()) e.engine.kick();
        else engines.get(accountId)?.engine.kick();
      },
    },
  };
}
