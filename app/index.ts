/**
 * The composition root: `initHome()` creates a data directory, `createBridge()` opens it and wires
 * the engine (store, keyring, IMAP and SMTP servers, sync, control API). The CLI, the Electron
 * shell and the tests all start Lockbridge through here.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import type { BridgeEvent, ControlApi } from './control/contract.ts';
import { BridgeControl } from './control/bridge.ts';
import { createTlsMaterial, servingTls } from './control/tls-material.ts';
import { startControlServer, type ControlServer } from './control/http/server.ts';
import { createRuntime, type EngineRuntime } from './control/runtime.ts';
import { pathsFor, type Paths } from './config/paths.ts';
import type { LogRing } from './config/logging.ts';
import { createStore, openStore, type Store } from './store/store.ts';
import { Keyring, toWarning } from './keys/keyring.ts';
import { StoreKeyringRepo } from './store/repos/keyring.ts';
import { KeyDiscovery, type DiscoveryOptions } from './keys/discovery/discover.ts';
import { CertificateDirectory } from './keys/smime-directory.ts';
import { DIRECTORY_PASSWORD_KEY, mergeSettings, SETTINGS_KEY, type Settings } from './config/settings.ts';
import type { KeychainWrapper } from '../native/keychain.ts';
import { loadMallocTrim } from '../native/malloc-trim.ts';
import { startIdleRelease } from './shared/idle-release.ts';
import { EventHub } from './shared/event-hub.ts';
import type { Logger } from './shared/logger.ts';
import type { DiscoveryDeps } from './control/provider-discovery.ts';

export type { ControlApi, BridgeEvent } from './control/contract.ts';

export interface InitOptions {
  home: string;
  passphrase?: string;
  keychain?: KeychainWrapper;
  /** A fixed local password (LOCKBRIDGE_LOCAL_PASSWORD); random when absent. */
  localPassword?: string;
  logger: Logger;
  /** Take the one-bridge-per-directory lock (default true; a BridgeHost holds it itself). */
  lock?: boolean;
}

/** Creates the encrypted store, the local TLS material and the local password. */
export async function initHome(opts: InitOptions): Promise<{ localPassword: string; caPem: string }> {
  const store = await createStore({
    dir: opts.home,
    logger: opts.logger,
    ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
    ...(opts.keychain ? { keychain: opts.keychain } : {}),
    ...(opts.lock === false ? { lock: false } : {}),
  });
  try {
    await createTlsMaterial(store);
    const localPassword = opts.localPassword ?? randomBytes(18).toString('base64url');
    store.credentials.set(localPassword);
    return { localPassword, caPem: store.tls.get('ca')?.certPem ?? '' };
  } finally {
    store.close();
  }
}

export interface BridgeOptions {
  home: string;
  passphrase?: string;
  keychain?: KeychainWrapper;
  logger: Logger;
  logs: LogRing;
  /** Never contact providers (nor key servers). */
  offline?: boolean;
  /** How often folders other than INBOX are polled at the provider (seconds; default 60). */
  pollSeconds?: number;
  /** How often quiet provider connections are probed (seconds; default 20; sync/remote/liveness.ts). */
  probeSeconds?: number;
  /** Key discovery settings (tests point WKD/VKS at loopback servers with a test CA). */
  discovery?: Pick<DiscoveryOptions, 'http' | 'vksBaseUrl' | 'hkpBaseUrl' | 'sources' | 'wkdSkipDomains'>;
  /** Take the one-bridge-per-directory lock (default true; a BridgeHost holds it itself). */
  lock?: boolean;
  /** Provider settings discovery (SRV resolvers, autoconfig URLs); see discoveryDepsFromEnv. */
  providerDiscovery?: DiscoveryDeps;
  /** An event hub that outlives this bridge (a BridgeHost's); a new one when absent. */
  events?: EventHub<BridgeEvent>;
  /** Where the control listener is when someone else (a BridgeHost) runs it. */
  controlPort?: () => number | null;
}

export interface ServeOptions {
  imapPort?: number;
  smtpPort?: number;
  controlPort?: number;
  /** Directory of the built UI to serve on the control port. */
  uiDir?: string;
  /** Start the HTTP control listener (default true; a BridgeHost runs its own). */
  control?: boolean;
}

export interface ServeInfo {
  imap: number;
  smtp: number;
  control: number;
  ui?: string;
}

export class Bridge {
  readonly paths: Paths;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly discovery: KeyDiscovery;
  /** The user's S/MIME directory, asked at send time (absent offline). */
  readonly directory: CertificateDirectory | undefined;
  readonly events: EventHub<BridgeEvent>;
  readonly api: ControlApi;
  readonly #logger: Logger;
  readonly #runtime: EngineRuntime;
  #control: ControlServer | null = null;
  #stopRelease: (() => void) | null = null;
  #closed = false;

  constructor(opts: BridgeOptions, store: Store) {
    this.paths = pathsFor(opts.home);
    this.store = store;
    this.events = opts.events ?? new EventHub<BridgeEvent>();
    this.#logger = opts.logger;
    const repo = new StoreKeyringRepo(store);
    this.keyring = new Keyring({
      repo,
      smimeRepo: store.smime,
      logger: opts.logger.child({ module: 'keys' }),
      onEvent: (e) => {
        if (e.type === 'key-change') this.events.emit({ type: 'key-change', warning: toWarning(e.change) });
      },
    });
    this.discovery = new KeyDiscovery({
      keyring: this.keyring,
      repo,
      logger: opts.logger.child({ module: 'discovery' }),
      ...(opts.discovery ?? {}),
      ...(opts.offline ? { sources: { wkd: false, vks: false, hkp: false } } : {}),
    });
    const smime = this.keyring.smime;
    this.directory =
      smime && !opts.offline
        ? new CertificateDirectory({
            smime,
            settings: () => mergeSettings(store.settings.get<Partial<Settings>>(SETTINGS_KEY)).smimeDirectory,
            password: () => store.settings.get<string>(DIRECTORY_PASSWORD_KEY) ?? null,
            logger: opts.logger,
          })
        : undefined;
    this.#runtime = createRuntime({
      store,
      keyring: this.keyring,
      keyringRepo: repo,
      discovery: this.discovery,
      ...(this.directory ? { directory: this.directory } : {}),
      events: this.events,
      logger: opts.logger,
      offline: opts.offline ?? false,
      ...(opts.pollSeconds ? { pollIntervalMs: opts.pollSeconds * 1000 } : {}),
      ...(opts.probeSeconds ? { probeEveryMs: opts.probeSeconds * 1000 } : {}),
      ...(opts.providerDiscovery ? { providerDiscovery: opts.providerDiscovery } : {}),
      ports: () => ({ control: this.#control?.port ?? opts.controlPort?.() ?? null }),
    });
    this.api = new BridgeControl({
      home: opts.home,
      store,
      keyring: this.keyring,
      events: this.events,
      logger: opts.logger,
      logs: opts.logs,
      runtime: this.#runtime,
      ...(opts.keychain ? { keychain: opts.keychain } : {}),
      ...(this.directory ? { directory: this.directory } : {}),
    });
    // a host forwards log lines itself (also while locked)
    if (!opts.events)
      this.#offLogs = opts.logs.onLine((line) => {
        if (this.events.size > 0) this.events.emit({ type: 'log', line });
      });
  }

  #offLogs: (() => void) | null = null;

  /** Starts the IMAP, SMTP and control listeners and the sync engines. */
  async serve(opts: ServeOptions = {}): Promise<ServeInfo> {
    if (this.#closed) throw new Error('bridge is closed');
    const settings = await this.api.getSettings();
    const tls = await servingTls(this.store, this.#logger);
    const ports = await this.#runtime.start({
      imapPort: opts.imapPort ?? settings.imapPort,
      smtpPort: opts.smtpPort ?? settings.smtpPort,
      tls,
      settings,
    });
    // free memory back to the OS when the bridge goes quiet after work (native/malloc-trim.ts)
    const release = await loadMallocTrim();
    if (release && !this.#stopRelease)
      this.#stopRelease = startIdleRelease({ release, logger: this.#logger.child({ module: 'memory' }) });
    if (opts.control === false) return { imap: ports.imap, smtp: ports.smtp, control: 0 };
    const token = randomBytes(32).toString('base64url');
    this.#control = await startControlServer({
      api: this.api,
      subscribe: (l) => this.events.subscribe(l),
      token,
      port: opts.controlPort ?? 0,
      logger: this.#logger.child({ module: 'control' }),
      ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
    });
    writeControlFiles(this.paths, token, this.#control.port);
    const info: ServeInfo = { imap: ports.imap, smtp: ports.smtp, control: this.#control.port };
    if (opts.uiDir) info.ui = `http://127.0.0.1:${this.#control.port}/#token=${token}`;
    return info;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#offLogs?.();
    this.#stopRelease?.();
    await this.#runtime.stop();
    if (this.#control) {
      await this.#control.close();
      rmSync(this.paths.controlToken, { force: true });
      rmSync(this.paths.controlInfo, { force: true });
    }
    this.store.close();
  }
}

/** control.token (0600) and control.json: how CLI commands find a running bridge. */
export function writeControlFiles(paths: Paths, token: string, port: number, ui = false): void {
  writePrivateFile(paths.controlToken, `${token}\n`);
  writePrivateFile(paths.controlInfo, JSON.stringify({ port, pid: process.pid, ui }));
}

function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Opens (unlocks) the data directory and wires the engine. Throws UnlockError on a wrong passphrase. */
export async function createBridge(opts: BridgeOptions): Promise<Bridge> {
  mkdirSync(opts.home, { recursive: true, mode: 0o700 });
  const store = await openStore({
    dir: opts.home,
    logger: opts.logger.child({ module: 'store' }),
    ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
    ...(opts.keychain ? { keychain: opts.keychain } : {}),
    ...(opts.lock === false ? { lock: false } : {}),
  });
  try {
    return new Bridge(opts, store);
  } catch (err) {
    store.close();
    throw err;
  }
}
