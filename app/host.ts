/**
 * BridgeHost: what `lockbridge serve` and the desktop app run. It owns the data directory's lock,
 * the event hub and (headless) the HTTP control listener for the whole life of the process, and
 * the Bridge only while the store is unlocked. While locked — a first run with no store yet, or no
 * passphrase at hand — `api` answers `status`, `initialize` and `unlock`, and every other method
 * fails with code `locked`, so the UI can create or unlock the store itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import type { BridgeEvent, BridgeStatus, ClientCredentials, ControlApi } from './control/contract.ts';
import { CONTROL_METHODS } from './control/contract.ts';
import { startControlServer, type ControlServer } from './control/http/server.ts';
import { checkNewPassphrase, unlockMethods } from './control/unlock-info.ts';
import { pathsFor, type Paths } from './config/paths.ts';
import type { LogRing } from './config/logging.ts';
import { storeExists } from './store/store.ts';
import { acquireDirLock, type DirLock } from './store/unlock/dir-lock.ts';
import type { KeychainWrapper } from '../native/keychain.ts';
import { EventHub } from './shared/event-hub.ts';
import { ConflictError, UserError } from './shared/errors.ts';
import type { Logger } from './shared/logger.ts';
import { VERSION } from './shared/version.ts';
import { createBridge, initHome, writeControlFiles, type Bridge, type BridgeOptions } from './index.ts';

export interface HostReady {
  imap: number;
  smtp: number;
  control: number | null;
  ui?: string;
}

export interface HostOptions {
  home: string;
  keychain?: KeychainWrapper;
  logger: Logger;
  logs: LogRing;
  offline?: boolean;
  pollSeconds?: number;
  probeSeconds?: number;
  discovery?: BridgeOptions['discovery'];
  providerDiscovery?: BridgeOptions['providerDiscovery'];
  /** Local listener ports (default: the settings' ports; 0 = any free port). */
  serve?: { imapPort?: number; smtpPort?: number };
  /** The headless HTTP control listener (and the UI when uiDir is set); false in the desktop app. */
  control?: { port: number; uiDir?: string } | false;
  /** A fixed local password for a store created through `initialize` (LOCKBRIDGE_LOCAL_PASSWORD). */
  localPassword?: string;
  /** Called each time the bridge is unlocked and every listener is up. */
  onReady?(info: HostReady): void;
}

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

const LOCKED_OK = new Set(['status', 'initialize', 'unlock']);

export class BridgeHost {
  readonly paths: Paths;
  readonly api: ControlApi;
  readonly #opts: HostOptions;
  readonly #events = new EventHub<BridgeEvent>();
  #bridge: Bridge | null = null;
  #lock: DirLock | null = null;
  #control: ControlServer | null = null;
  #token: string | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  #offLogs: (() => void) | null = null;
  #closed = false;

  constructor(opts: HostOptions) {
    this.#opts = opts;
    this.paths = pathsFor(opts.home);
    this.api = this.#gate();
  }

  get bridge(): Bridge | null {
    return this.#bridge;
  }

  get locked(): boolean {
    return this.#bridge === null;
  }

  subscribe(listener: (e: BridgeEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  /** The UI address with the control token (headless, with a UI directory only). */
  get uiUrl(): string | undefined {
    if (!this.#control || !this.#token || !this.#opts.control || !this.#opts.control.uiDir) return undefined;
    return `http://127.0.0.1:${this.#control.port}/#token=${this.#token}`;
  }

  get controlPort(): number | null {
    return this.#control?.port ?? null;
  }

  /**
   * Takes the directory lock, starts the control listener, and unlocks at once when it can: with
   * the given passphrase, or with the OS keychain when that wraps the key. Otherwise stays locked.
   * A wrong passphrase throws (and releases everything).
   */
  async start(opts: { passphrase?: string } = {}): Promise<void> {
    mkdirSync(this.#opts.home, { recursive: true, mode: 0o700 });
    this.#lock = acquireDirLock(this.#opts.home);
    this.#offLogs = this.#opts.logs.onLine((line) => {
      if (this.#events.size > 0) this.#events.emit({ type: 'log', line });
    });
    try {
      if (this.#opts.control) {
        this.#token = randomBytes(32).toString('base64url');
        this.#control = await startControlServer({
          api: this.api,
          subscribe: (l) => this.#events.subscribe(l),
          token: this.#token,
          port: this.#opts.control.port,
          logger: this.#opts.logger.child({ module: 'control' }),
          ...(this.#opts.control.uiDir ? { uiDir: this.#opts.control.uiDir } : {}),
        });
        writeControlFiles(this.paths, this.#token, this.#control.port, Boolean(this.#opts.control.uiDir));
      }
      if (storeExists(this.#opts.home)) {
        if (opts.passphrase !== undefined) await this.#serialized(() => this.#open(opts.passphrase));
        else if (unlockMethods(this.#opts.home, this.#opts.keychain).keychain)
          await this.#serialized(() => this.#open(undefined));
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#offLogs?.();
    await this.#busy.catch(() => {});
    const bridge = this.#bridge;
    this.#bridge = null;
    try {
      if (bridge) await bridge.close();
    } finally {
      if (this.#control) {
        await this.#control.close();
        rmSync(this.paths.controlToken, { force: true });
        rmSync(this.paths.controlInfo, { force: true });
      }
      this.#lock?.release();
    }
  }

  /** One initialize/unlock at a time. */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => {});
    return run;
  }

  async #open(passphrase: string | undefined): Promise<void> {
    if (this.#bridge) return;
    if (this.#closed) throw new UserError('closing', 'Lockbridge is shutting down');
    const o = this.#opts;
    const bridge = await createBridge({
      home: o.home,
      logger: o.logger,
      logs: o.logs,
      lock: false,
      events: this.#events,
      controlPort: () => this.#control?.port ?? null,
      ...(passphrase !== undefined && passphrase !== '' ? { passphrase } : {}),
      ...(o.keychain ? { keychain: o.keychain } : {}),
      ...(o.offline ? { offline: true } : {}),
      ...(o.pollSeconds ? { pollSeconds: o.pollSeconds } : {}),
      ...(o.probeSeconds ? { probeSeconds: o.probeSeconds } : {}),
      ...(o.discovery ? { discovery: o.discovery } : {}),
      ...(o.providerDiscovery ? { providerDiscovery: o.providerDiscovery } : {}),
    });
    let info;
    try {
      info = await bridge.serve({ ...(o.serve ?? {}), control: false });
    } catch (err) {
      await bridge.close();
      throw err;
    }
    this.#bridge = bridge;
    o.logger.info({ imap: info.imap, smtp: info.smtp }, 'bridge unlocked');
    const ready: HostReady = { imap: info.imap, smtp: info.smtp, control: this.controlPort };
    const ui = this.uiUrl;
    if (ui) ready.ui = ui;
    o.onReady?.(ready);
    this.#events.emit({ type: 'status', status: await bridge.api.status() });
  }

  #lockedStatus(): BridgeStatus {
    return {
      version: VERSION,
      initialized: storeExists(this.#opts.home),
      locked: true,
      unlockMethods: unlockMethods(this.#opts.home, this.#opts.keychain),
      home: this.#opts.home,
      ports: { imap: null, smtp: null, control: this.controlPort },
      offline: this.#opts.offline ?? false,
      diskFull: null,
      accounts: [],
    };
  }

  async #initialize(passphrase: string): Promise<ClientCredentials> {
    const keychainUp = this.#opts.keychain?.available() ?? false;
    const pass = checkNewPassphrase(passphrase, keychainUp);
    return this.#serialized(async () => {
      if (storeExists(this.#opts.home))
        throw new ConflictError('already-initialized', 'a store already exists here: unlock it instead');
      await initHome({
        home: this.#opts.home,
        logger: this.#opts.logger.child({ module: 'store' }),
        lock: false,
        ...(pass !== '' ? { passphrase: pass } : {}),
        ...(this.#opts.keychain ? { keychain: this.#opts.keychain } : {}),
        ...(this.#opts.localPassword !== undefined ? { localPassword: this.#opts.localPassword } : {}),
      });
      await this.#open(pass === '' ? undefined : pass);
      return this.#bridge!.api.credentials();
    });
  }

  async #unlock(passphrase: string): Promise<BridgeStatus> {
    if (typeof passphrase !== 'string')
      throw new UserError('invalid-argument', 'the passphrase must be a string');
    if (!this.#bridge) {
      if (!storeExists(this.#opts.home))
        throw new UserError('not-initialized', 'there is no store yet: create one first');
      await this.#serialized(() => this.#open(passphrase === '' ? undefined : passphrase));
    }
    return this.api.status();
  }

  /** The ControlApi whatever the state: delegates to the bridge when unlocked. */
  #gate(): ControlApi {
    const gate: Record<string, AnyMethod> = {};
    for (const method of CONTROL_METHODS) {
      gate[method] = async (...args: unknown[]) => {
        const bridge = this.#bridge;
        if (bridge) return (bridge.api[method] as AnyMethod).apply(bridge.api, args);
        if (method === 'status') return this.#lockedStatus();
        if (!LOCKED_OK.has(method))
          throw new UserError(
            'locked',
            storeExists(this.#opts.home)
              ? 'Lockbridge is locked: unlock it first'
              : 'Lockbridge is not set up yet: create the store first',
          );
        return undefined;
      };
    }
    gate.initialize = (passphrase) => this.#initialize(passphrase as string);
    gate.unlock = (passphrase) => this.#unlock(passphrase as string);
    return gate as unknown as ControlApi;
  }
}

export function createBridgeHost(opts: HostOptions): BridgeHost {
  return new BridgeHost(opts);
}
