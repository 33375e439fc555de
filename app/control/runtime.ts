/**
 * The running engine behind the façade: IMAP and SMTP servers over their adapters, the sync
 * engines and the outbox relay per account, imports. `start()` brings the listeners up;
 * `stop()` finishes in-flight work and closes everything.
 */
import type {
  AccountInput,
  AccountStatus,
  BridgeEvent,
  ImportResult,
  ProviderSuggestion,
  ServingSettings,
  Settings,
} from './contract.ts';
import type { BridgeRuntime } from './bridge.ts';
import type { ServingTls } from './tls-material.ts';
import type { Store } from '../store/store.ts';
import type { Account } from '../store/repos/accounts.ts';
import { OAuthTokens } from '../oauth/tokens.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { KeyringRepo } from '../keys/types.ts';
import type { KeyDiscovery } from '../keys/discovery/discover.ts';
import type { CertificateDirectory } from '../keys/smime-directory.ts';
import type { EventHub } from '../shared/event-hub.ts';
import type { Logger } from '../shared/logger.ts';
import { UserError } from '../shared/errors.ts';
import type { ImapServerHandle } from '../imap/server.ts';
import type { RunningSmtpServer } from '../smtp/server.ts';
import type { OutgoingMail } from './adapters/submission.ts';
import type { SyncManager } from '../sync/manager.ts';
import type { SyncEvent } from '../sync/types.ts';
import { discoverProviderSettings, domainResolverFromEnv, type DiscoveryDeps } from './provider-discovery.ts';
import { mergeSettings, SETTINGS_KEY } from '../config/settings.ts';

export interface RuntimeDeps {
  store: Store;
  keyring: Keyring;
  keyringRepo: KeyringRepo;
  discovery: KeyDiscovery;
  /** The user's S/MIME directory, asked at send time for recipients without a held certificate. */
  directory?: CertificateDirectory;
  events: EventHub<BridgeEvent>;
  logger: Logger;
  offline: boolean;
  /** Polling interval for folders other than INBOX (ms; default the sync engine's 60 s). */
  pollIntervalMs?: number;
  /** How often quiet provider connections are probed (ms; default the sync engine's 20 s). */
  probeEveryMs?: number;
  ports(): { control: number | null };
  /** Where provider settings are looked up (SRV resolvers, autoconfig URLs). */
  providerDiscovery?: DiscoveryDeps;
}

export interface StartOptions {
  imapPort: number;
  smtpPort: number;
  tls: ServingTls;
  settings: Settings;
}

export interface EngineRuntime extends BridgeRuntime {
  start(opts: StartOptions): Promise<{ imap: number; smtp: number }>;
  stop(): Promise<void>;
}

export function createRuntime(deps: RuntimeDeps): EngineRuntime {
  const { store, logger } = deps;
  // The one source of OAuth access tokens (sync, IDLE, repair and the outbox relay share it).
  const tokens = new OAuthTokens({
    seam: {
      read: (id) => store.accounts.get(id)?.oauth ?? null,
      write: (id, c) => void store.accounts.update(id, { oauth: c }),
    },
    logger: logger.child({ module: 'oauth' }),
  });
  let imap: ImapServerHandle | null = null;
  let smtp: RunningSmtpServer | null = null;
  let outgoing: OutgoingMail | null = null;
  let sync: SyncManager | null = null;
  let engine: { close(): Promise<void> } | null = null;
  let renewTimer: NodeJS.Timeout | null = null;
  let serving: ServingSettings | null = null;
  /** What the UI and the CLI hear of sync: progress, connection state, a repair's folders. */
  const forwardSyncEvent = (email: string, ev: SyncEvent): void => {
    if (ev.type === 'progress') deps.events.emit({ type: 'sync-progress', email, progress: ev.progress });
    else if (ev.type === 'connection')
      deps.events.emit({ type: 'connection', email, state: ev.state, error: ev.error });
    else if (ev.type === 'repair-progress') deps.events.emit({ ...ev, email });
  };
  /** Own keys close to expiry are extended (announced through Autocrypt on the next mail). */
  const renewOwnKeys = async (): Promise<void> => {
    try {
      const renewed = await deps.keyring.own.renewAllExpiring();
      if (renewed.length)
        logger.info({ fingerprints: renewed.map((k) => k.fingerprint) }, 'renewed own keys close to expiry');
    } catch (err) {
      logger.warn({ err }, 'own key renewal failed; retrying tomorrow');
    }
  };
  // Settings are read live (a UI change applies to the next message); ports and TLS mode apply at
  // the next start.
  const currentSettings = (): Settings => mergeSettings(store.settings.get<Partial<Settings>>(SETTINGS_KEY));
  const applyBodyBudget = (): void => {
    // offline (--offline) nothing could fetch an evicted body back: every body is kept
    const mb = deps.offline ? null : currentSettings().bodyCacheMB;
    store.messages.bodyCache.setBudget(mb === null ? null : mb * 1024 * 1024);
  };

  return {
    offline: deps.offline,

    ports: () => ({ imap: imap?.port ?? null, smtp: smtp?.port ?? null, control: deps.ports().control }),
    serving: () => (imap ? serving : null),
    kickOutbox: () => outgoing?.worker.kick(),
    fetchBodies: (accountId, mailboxId, uids) =>
      sync
        ? sync.fetchBodies(accountId, mailboxId, uids)
        : Promise.reject(new UserError('not-running', 'the bridge is not serving: sync is stopped')),
    async resendOutbox(id, o) {
      if (!outgoing)
        throw new UserError('not-running', 'the bridge is not serving: outgoing mail is stopped');
      await outgoing.adapter.resend(id, o);
    },

    async start(opts) {
      serving = {
        tlsMode: opts.settings.tlsMode,
        allowPlaintextLoopback: opts.settings.allowPlaintextLoopback,
        imapCompress: opts.settings.imapCompress,
      };
      // Loaded here, not at the top: one-shot CLI commands never pay for the servers.
      const [
        { startImapServer },
        { startSmtpServer },
        { createImapBackend },
        { createOutgoingMail },
        { checkDomain },
        { AutocryptService },
        { createWorkerPool },
      ] = await Promise.all([
        import('../imap/server.ts'),
        import('../smtp/server.ts'),
        import('./adapters/imap-backend.ts'),
        import('./adapters/submission.ts'),
        import('../smtp/domain-check.ts'),
        import('../keys/autocrypt/service.ts'),
        import('../crypto/worker-pool.ts'),
      ]);
      // The crypto worker pool: inbound decryption, uploads encrypted to self, outgoing S/MIME.
      const pool = createWorkerPool({});
      engine = pool;
      // Autocrypt peer state: fed by inbound mail, asked by the sending policy
      const autocrypt = new AutocryptService({ repo: deps.keyringRepo, keyring: deps.keyring, logger });
      const implicitTls = opts.settings.tlsMode === 'tls';
      const backend = createImapBackend(store, {
        logger: logger.child({ module: 'imap-backend' }),
        // bodies evicted from the local body cache come back through the account's sync engine,
        // served as soon as they are checked (stored meanwhile)
        fetchBodies: (accountId, mailboxId, uids) =>
          sync
            ? sync.readBodies(accountId, mailboxId, uids)
            : Promise.reject(new UserError('not-running', 'the bridge is not serving: sync is stopped')),
        // and a full-text search the index cannot decide for them asks the provider's SEARCH
        searchBodies: (accountId, mailboxId, field, needle, uids, alive) =>
          sync
            ? sync.searchBodies(accountId, mailboxId, field, needle, uids, alive)
            : Promise.resolve({ found: [], failed: [...uids] }),
      });
      imap = await startImapServer({
        backend,
        logger: logger.child({ module: 'imap' }),
        port: opts.imapPort,
        tls: { key: opts.tls.keyPem, cert: opts.tls.certPem },
        implicitTls,
        allowPlaintextLogin: opts.settings.allowPlaintextLoopback,
        offerCompress: opts.settings.imapCompress,
        foreground: store.foreground,
      });
      // The one assembly of outgoing mail (the tests use the same factory): the Sent recorder, the
      // recipient-domain check (online only) and the Autocrypt recommender.
      const resolver = domainResolverFromEnv();
      outgoing = createOutgoingMail({
        store,
        keyring: deps.keyring,
        keyringRepo: deps.keyringRepo,
        discovery: deps.discovery,
        ...(deps.directory ? { directory: deps.directory } : {}),
        autocrypt,
        logger: logger.child({ module: 'submission' }),
        settings: currentSettings,
        offline: deps.offline,
        tokens,
        engine: pool,
        ...(deps.offline || !resolver ? {} : { domainCheck: (d: string) => checkDomain(d, { resolver }) }),
        onRefused: (accountId, id, reason) => {
          const email = store.accounts.get(accountId)?.email ?? '';
          deps.events.emit({ type: 'send-failed', email, id: String(id), reason });
        },
        onEvent: (e) => {
          if (e.type !== 'failed') return;
          const email = store.accounts.get(e.accountId)?.email ?? '';
          deps.events.emit({ type: 'send-failed', email, id: String(e.id), reason: e.error });
        },
      });
      outgoing.start();
      try {
        smtp = await startSmtpServer({
          submission: outgoing.adapter,
          logger,
          port: opts.smtpPort,
          tls: { cert: opts.tls.certPem, key: opts.tls.keyPem },
          implicitTls,
          allowPlaintextAuth: opts.settings.allowPlaintextLoopback,
        });
      } catch (err) {
        await imap.close();
        imap = null;
        throw err;
      }
      // Two-way sync with every account's provider (also in --offline mode, where it never
      // connects and only queues local changes).
      const [
        { createSyncManager },
        { createInboundProcessor },
        { createUploadEncryptor },
        { connectProvider },
      ] = await Promise.all([
        import('../sync/manager.ts'),
        import('./adapters/inbound.ts'),
        import('../outgoing/upload.ts'),
        import('../sync/remote/connect.ts'),
      ]);
      const encryptToSelf = createUploadEncryptor({ keyring: deps.keyring, engine: pool });
      sync = createSyncManager({
        store,
        logger,
        connect: connectProvider,
        offline: deps.offline,
        ...(deps.pollIntervalMs ? { pollIntervalMs: deps.pollIntervalMs } : {}),
        ...(deps.probeEveryMs ? { probeEveryMs: deps.probeEveryMs } : {}),
        processInbound: createInboundProcessor({ keyring: deps.keyring, autocrypt, engine: pool, logger }),
        encryptForUpload: async (raw, ctx) =>
          currentSettings().uploadEncryptedToSelf ? encryptToSelf(raw, ctx) : raw,
        onEvent: forwardSyncEvent,
        tokens,
      });
      sync.start();
      // The local body budget applies while the bridge serves (an evicted body comes back through
      // sync): evicting while nothing could fetch it back would leave it unreachable.
      applyBodyBudget();
      void renewOwnKeys();
      renewTimer = setInterval(() => void renewOwnKeys(), 24 * 3600 * 1000);
      renewTimer.unref();
      return { imap: imap.port, smtp: smtp.port };
    },

    async stop() {
      store.messages.bodyCache.setBudget(null);
      if (renewTimer) clearInterval(renewTimer);
      renewTimer = null;
      await Promise.all([imap?.close(), smtp?.close(), sync?.stop()]);
      sync = null;
      await engine?.close();
      engine = null;
      await outgoing?.stop();
      outgoing = null;
      imap = null;
      smtp = null;
    },

    async verifyProviderLogin(input: AccountInput) {
      if (deps.offline) throw new UserError('offline', 'cannot verify the provider login while offline');
      const { verifyProviderLogin, verifySmtpLogin } = await import('../sync/remote/verify-login.ts');
      const login = {
        security: input.security,
        username: input.username || input.email,
        password: input.password ?? '',
        caPem: input.caPem ?? null,
        // OAuth: the access token the sign-in just got is checked at IMAP and SMTP
        ...(input.oauth ? { oauth: true, accessToken: input.oauth.accessToken } : {}),
      };
      await verifyProviderLogin(
        { ...login, host: input.imap.host, port: input.imap.port },
        { logger: logger.child({ module: 'verify-login' }) },
      );
      await verifySmtpLogin({ ...login, host: input.smtp.host, port: input.smtp.port });
    },

    syncStatus(email: string): Omit<AccountStatus, 'email' | 'outbox' | 'pending'> | null {
      const st = sync?.status(email);
      if (!st) return null;
      return { connection: st.connection, sync: st.sync, lastError: st.lastError, paused: st.paused };
    },

    async pauseSync(email) {
      sync?.pause(email);
    },

    async resumeSync(email) {
      sync?.resume(email);
    },

    credentialsChanged(email) {
      sync?.credentialsChanged(email);
    },

    async repairAccount(account: Account) {
      if (deps.offline) throw new UserError('offline', 'cannot repair while offline (serve --offline)');
      if (sync) return sync.repair(account.email);
      // One-shot (no bridge runs): an engine that is never started repairs on its own connection.
      const [
        { createSyncEngine },
        { connectProvider },
        { createWorkerPool },
        { createInboundProcessor },
        { AutocryptService },
      ] = await Promise.all([
        import('../sync/engine.ts'),
        import('../sync/remote/connect.ts'),
        import('../crypto/worker-pool.ts'),
        import('./adapters/inbound.ts'),
        import('../keys/autocrypt/service.ts'),
      ]);
      const pool = createWorkerPool({});
      try {
        const autocrypt = new AutocryptService({ repo: deps.keyringRepo, keyring: deps.keyring, logger });
        const engine = createSyncEngine({
          store,
          accountId: account.id,
          logger: logger.child({ account: account.email }),
          connect: connectProvider,
          processInbound: createInboundProcessor({ keyring: deps.keyring, autocrypt, engine: pool, logger }),
          tokens,
        });
        engine.on((ev) => forwardSyncEvent(account.email, ev));
        return await engine.repair();
      } finally {
        await pool.close();
      }
    },

    accountsChanged() {
      sync?.accountsChanged();
    },

    settingsChanged() {
      if (sync) applyBodyBudget();
      sync?.sink.kick();
    },

    async importFiles(account: Account, mailbox: string, files: string[]): Promise<ImportResult> {
      const { importFiles } = await import('./import-files.ts');
      return importFiles(store, account, mailbox, files, logger.child({ module: 'import' }), (p) =>
        deps.events.emit({ type: 'import-progress', email: account.email, ...p }),
      );
    },

    async sendSetupMessage(email: string) {
      const { sendSetupMessage } = await import('./setup-messages.ts');
      return sendSetupMessage(store, deps.keyring, email);
    },

    async importSetupMessage(email: string, setupCode: string) {
      const { importSetupMessageFromInbox } = await import('./setup-messages.ts');
      const accountId = store.accounts.require(email).id;
      // a Setup Message evicted from the body cache comes back through the account's sync engine
      const running = sync;
      const fetchBodies = running
        ? (mailboxId: number, uids: readonly number[]) => running.fetchBodies(accountId, mailboxId, uids)
        : undefined;
      const fingerprint = await importSetupMessageFromInbox(
        store,
        deps.keyring,
        email,
        setupCode,
        fetchBodies,
      );
      const summary = deps.keyring.listKeys().find((k) => k.own && k.fingerprint === fingerprint);
      if (!summary) throw new Error('imported key not found in the keyring');
      return summary;
    },

    async exportWkd(domain: string) {
      const { buildWkdTree } = await import('../keys/discovery/wkd-export.ts');
      return buildWkdTree(deps.keyringRepo.listOwnKeys(), domain);
    },

    async discoverProvider(email: string): Promise<ProviderSuggestion | null> {
      if (deps.offline) return null;
      return discoverProviderSettings(email, deps.providerDiscovery ?? {});
    },
  };
}
