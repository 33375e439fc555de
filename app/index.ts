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
import type { KeychainWrapper } from '../native/keychain.ts';
import { EventHub } from './shared/event-hub.ts';
import type { Logger } from './shared/logger.ts';

export type { ControlApi, BridgeEvent } from './control/contract.ts';

export interface InitOptions {
  home: string;
  passphrase?: string;
  keychain?: KeychainWrapper;
  /** A fixed local password (LOCKBRIDGE_LOCAL_PASSWORD); random when absent. */
  localPassword?: string;
  logger: Logger;
}

/** Creates the encrypted store, the local TLS material and the local password. */
export async function initHome(opts: InitOptions): Promise<{ localPassword: string; caPem: string }> {
  const store = await createStore({
    dir: opts.home,
    logger: opts.logger,
    ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
    ...(opts.keychain ? { keychain: opts.keychain } : {}),
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
  /** Key discovery settings (tests point WKD/VKS at loopback servers with a test CA). */
  discovery?: Pick<DiscoveryOptions, 'http' | 'vksBaseUrl' | 'hkpBaseUrl' | 'sources' | 'wkdSkipDomains'>;
}

export interface ServeOptions {
  imapPort?: number;
  smtpPort?: number;
  controlPort?: number;
  /** Directory of the built UI to serve on the control port. */
  uiDir?: string;
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
  readonly events = new EventHub<BridgeEvent>();
  readonly api: ControlApi;
  readonly #logger: Logger;
  readonly #runtime: EngineRuntime;
  #control: ControlServer | null = null;
  #closed = false;

  constructor(opts: BridgeOptions, store: Store) {
    this.paths = pathsFor(opts.home);
    this.store = store;
    this.#logger = opts.logger;
    const repo = new StoreKeyringRepo(store);
    this.keyring = new Keyring({
      repo,
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
    this.#runtime = createRuntime({
      store,
      keyring: this.keyring,
      keyringRepo: repo,
      discovery: this.discovery,
      events: this.events,
      logger: opts.logger,
      offline: opts.offline ?? false,
      ports: () => ({ control: this.#control?.port ?? null }),
    });
    this.api = new BridgeControl({
      home: opts.home,
      store,
      keyring: this.keyring,
      events: this.events,
      logger: opts.logger,
      logs: opts.logs,
      runtime: this.#runtime,
    });
    opts.logs.onLine((line) => {
      if (this.events.size > 0) this.events.emit({ type: 'log', line });
    });
  }

  /** Starts the IMAP, SMTP and control listeners and the sync engines. */
  async serve(opts: ServeOptions = {}): Promise<ServeInfo> {
    const settings = await this.api.getSettings();
    const tls = await servingTls(this.store, this.#logger);
    const ports = await this.#runtime.start({
      imapPort: opts.imapPort ?? settings.imapPort,
      smtpPort: opts.smtpPort ?? settings.smtpPort,
      tls,
      settings,
    });
    const token = randomBytes(32).toString('base64url');
    this.#control = await startControlServer({
      api: this.api,
      subscribe: (l) => this.events.subscribe(l),
      token,
      port: opts.controlPort ?? 0,
      logger: this.#logger.child({ module: 'control' }),
      ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
    });
    writePrivateFile(this.paths.controlToken, `${token}\n`);
    writePrivateFile(this.paths.controlInfo, JSON.stringify({ port: this.#control.port, pid: process.pid }));
    const info: ServeInfo = { imap: ports.imap, smtp: ports.smtp, control: this.#control.port };
    if (opts.uiDir) info.ui = `http://127.0.0.1:${this.#control.port}/#token=${token}`;
    return info;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#runtime.stop();
    if (this.#control) {
      await this.#control.close();
      rmSync(this.paths.controlToken, { force: true });
      rmSync(this.paths.controlInfo, { force: true });
    }
    this.store.close();
  }
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
  });
  try {
    return new Bridge(opts, store);
  } catch (err) {
    store.close();
    throw err;
  }
}
