/**
 * The app's life: one instance per user, a window that hides instead of closing (the bridge keeps
 * running in the tray), a real quit that closes the engine first (within 5 s), and macOS' dock
 * activation. Electron's `app` and the window are passed in as small interfaces, so this is
 * unit-tested with fakes.
 */

export interface WindowLike {
  isDestroyed(): boolean;
  isVisible(): boolean;
  isMinimized(): boolean;
  show(): void;
  hide(): void;
  focus(): void;
  restore(): void;
  on(event: 'close', listener: (e: { preventDefault(): void }) => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
}

export type AppEvent = 'second-instance' | 'activate' | 'window-all-closed' | 'before-quit';

export interface AppLike {
  requestSingleInstanceLock(): boolean;
  on(event: AppEvent, listener: (e: { preventDefault(): void }) => void): unknown;
  quit(): void;
  exit(code?: number): void;
}

export interface LifecycleDeps<W extends WindowLike> {
  app: AppLike;
  /** Creates the window and starts loading the app page (at `route` when given). Not shown yet. */
  createWindow(route?: string): W;
  /** Moves an existing window to a renderer route. */
  navigate?(window: W, route: string): void;
  /** Closes the engine (BridgeHost.close). */
  closeHost(): Promise<void>;
  /** How long a quit waits for the engine (default 5 s); then the app exits anyway. */
  closeTimeoutMs?: number;
  log?(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

export type Phase = 'running' | 'quitting' | 'closed';

export class Lifecycle<W extends WindowLike> {
  readonly #deps: LifecycleDeps<W>;
  #window: W | null = null;
  #phase: Phase = 'running';
  #quitDone: Promise<void> | null = null;

  constructor(deps: LifecycleDeps<W>) {
    this.#deps = deps;
  }

  get phase(): Phase {
    return this.#phase;
  }

  get window(): W | null {
    return this.#window && !this.#window.isDestroyed() ? this.#window : null;
  }

  /**
   * Takes the single-instance lock and installs the app handlers. False when another instance
   * runs: that one is told (its window comes up) and this one quits without touching anything.
   */
  start(): boolean {
    const { app } = this.#deps;
    if (!app.requestSingleInstanceLock()) {
      this.#phase = 'closed';
      app.quit();
      return false;
    }
    app.on('second-instance', () => this.showWindow());
    app.on('activate', () => this.showWindow());
    // Having a listener keeps Electron from quitting when the last window closes: the bridge
    // keeps running in the tray.
    app.on('window-all-closed', () => {});
    app.on('before-quit', (e) => {
      if (this.#phase === 'closed') return;
      e.preventDefault();
      void this.quit();
    });
    return true;
  }

  /** Shows (creating when needed) and focuses the window, at `route` when given. */
  showWindow(route?: string): W {
    if (this.#phase !== 'running' && this.#window) return this.#window;
    let win = this.window;
    if (!win) {
      win = this.#deps.createWindow(route);
      this.#adopt(win);
    } else if (route) {
      this.#deps.navigate?.(win, route);
    }
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
    return win;
  }

  /** Creates the window without showing it (a start at login stays in the tray). */
  createHidden(): W {
    const win = this.window ?? this.#deps.createWindow();
    if (win !== this.#window) this.#adopt(win);
    return win;
  }

  #adopt(win: W): void {
    this.#window = win;
    win.on('close', (e) => {
      if (this.#phase === 'running') {
        e.preventDefault();
        win.hide();
      }
    });
    win.on('closed', () => {
      if (this.#window === win) this.#window = null;
    });
  }

  /**
   * Quits for real: closes the engine (at most closeTimeoutMs), then lets Electron quit. A second
   * call while quitting returns the same promise.
   */
  quit(): Promise<void> {
    if (this.#quitDone) return this.#quitDone;
    this.#phase = 'quitting';
    const { app, log } = this.#deps;
    const timeoutMs = this.#deps.closeTimeoutMs ?? 5000;
    this.#quitDone = (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      let outcome: 'closed' | 'timeout' | 'failed';
      try {
        outcome = await Promise.race([this.#deps.closeHost().then(() => 'closed' as const), timeout]);
      } catch (err) {
        log?.('error', 'closing the bridge failed', { err });
        outcome = 'failed';
      } finally {
        clearTimeout(timer);
      }
      this.#phase = 'closed';
      if (outcome === 'timeout') {
        log?.('warn', `the bridge did not close within ${timeoutMs} ms; exiting anyway`);
        app.exit(1);
        return;
      }
      log?.('info', 'bridge closed, quitting');
      app.quit();
    })();
    return this.#quitDone;
  }
}
