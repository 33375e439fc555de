// Window and app lifecycle with fake Electron objects: one instance (a second launch focuses the
// window), closing the window hides it, Quit closes the engine first (and gives up after the
// timeout), macOS activate re-opens, a start at login stays hidden.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lifecycle, type AppEvent, type WindowLike } from '../../../main/lifecycle.ts';

class FakeWindow implements WindowLike {
  visible = false;
  minimized = false;
  destroyed = false;
  focused = 0;
  routes: string[] = [];
  readonly #handlers = new Map<string, ((e: { preventDefault(): void }) => void)[]>();
  isDestroyed = () => this.destroyed;
  isVisible = () => this.visible;
  isMinimized = () => this.minimized;
  show = () => void (this.visible = true);
  hide = () => void (this.visible = false);
  focus = () => void this.focused++;
  restore = () => void (this.minimized = false);
  on(event: string, l: (e: { preventDefault(): void }) => void) {
    this.#handlers.set(event, [...(this.#handlers.get(event) ?? []), l]);
    return this;
  }
  /** What Electron does on the window's close button: 'close', then (unless prevented) 'closed'. */
  userClose(): boolean {
    let prevented = false;
    for (const l of this.#handlers.get('close') ?? []) l({ preventDefault: () => void (prevented = true) });
    if (!prevented) {
      this.destroyed = true;
      this.visible = false;
      for (const l of this.#handlers.get('closed') ?? []) l({ preventDefault() {} });
    }
    return !prevented;
  }
}

class FakeApp {
  lock = true;
  quits = 0;
  exits: (number | undefined)[] = [];
  readonly handlers = new Map<AppEvent, ((e: { preventDefault(): void }) => void)[]>();
  requestSingleInstanceLock = () => this.lock;
  on(event: AppEvent, l: (e: { preventDefault(): void }) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), l]);
  }
  /** Electron: quit() emits before-quit; when nobody prevents it, the app quits. */
  quit() {
    let prevented = false;
    for (const l of this.handlers.get('before-quit') ?? [])
      l({ preventDefault: () => void (prevented = true) });
    if (!prevented) this.quits++;
  }
  exit(code?: number) {
    this.exits.push(code);
  }
  emit(event: AppEvent) {
    for (const l of this.handlers.get(event) ?? []) l({ preventDefault() {} });
  }
}

function setup(closeHost: () => Promise<void> = async () => {}, closeTimeoutMs = 5000) {
  const app = new FakeApp();
  const windows: FakeWindow[] = [];
  let hostClosed = 0;
  const lc = new Lifecycle<FakeWindow>({
    app,
    createWindow: (route) => {
      const w = new FakeWindow();
      if (route) w.routes.push(route);
      windows.push(w);
      return w;
    },
    navigate: (w, route) => void w.routes.push(route),
    closeHost: async () => {
      hostClosed++;
      await closeHost();
    },
    closeTimeoutMs,
  });
  return { app, windows, lc, hostClosed: () => hostClosed };
}

test('a second instance quits at once and touches nothing', () => {
  const { app, lc, windows } = setup();
  app.lock = false;
  assert.equal(lc.start(), false);
  assert.equal(app.quits, 1);
  assert.equal(windows.length, 0);
  assert.equal(app.handlers.size, 0, 'no handlers installed');
});

test('the first instance shows its window when a second one is launched', () => {
  const { app, lc, windows } = setup();
  assert.equal(lc.start(), true);
  app.emit('second-instance'); // no window yet: one is created and shown
  assert.equal(windows.length, 1);
  assert.equal(windows[0]!.visible, true);
  windows[0]!.hide();
  windows[0]!.minimized = true;
  app.emit('second-instance');
  assert.equal(windows.length, 1, 'the same window, not a new one');
  assert.equal(windows[0]!.visible, true);
  assert.equal(windows[0]!.minimized, false);
  assert.equal(windows[0]!.focused, 2);
});

test('closing the window hides it; the app keeps running; activate brings it back', () => {
  const { app, lc, windows, hostClosed } = setup();
  lc.start();
  const w = lc.showWindow();
  assert.equal(w.userClose(), false, 'close was prevented');
  assert.equal(w.visible, false);
  assert.equal(w.destroyed, false);
  app.emit('window-all-closed'); // must not quit
  assert.equal(app.quits, 0);
  assert.equal(hostClosed(), 0);
  app.emit('activate');
  assert.equal(w.visible, true);
  assert.equal(windows.length, 1);
});

test('showWindow at a route: new windows load it, an existing one navigates', () => {
  const { lc, windows } = setup();
  lc.start();
  lc.showWindow('add-account');
  assert.deepEqual(windows[0]!.routes, ['add-account']);
  lc.showWindow('keys');
  assert.deepEqual(windows[0]!.routes, ['add-account', 'keys']);
  assert.equal(windows.length, 1);
});

test('a start at login creates the window hidden', () => {
  const { lc, windows } = setup();
  lc.start();
  const w = lc.createHidden();
  assert.equal(w.visible, false);
  assert.equal(lc.createHidden(), w);
  assert.equal(windows.length, 1);
});

test('Quit closes the engine first, then really quits and lets the window close', async () => {
  let release!: () => void;
  const { app, lc, hostClosed } = setup(() => new Promise<void>((r) => (release = r)));
  lc.start();
  const w = lc.showWindow();
  app.quit(); // Cmd+Q, tray Quit, logout: all arrive as before-quit
  assert.equal(app.quits, 0, 'held until the engine is closed');
  assert.equal(lc.phase, 'quitting');
  assert.equal(hostClosed(), 1);
  app.quit(); // a second request while closing does not close twice
  assert.equal(hostClosed(), 1);
  release();
  await lc.quit();
  assert.equal(lc.phase, 'closed');
  assert.equal(app.quits, 1);
  assert.deepEqual(app.exits, []);
  assert.equal(w.userClose(), true, 'while quitting, close is no longer turned into hide');
});

test('a hanging engine close does not block quitting past the timeout', async () => {
  const { app, lc } = setup(() => new Promise<void>(() => {}), 50);
  lc.start();
  // quit() resolving although close() never does is what proves the timeout
  await lc.quit();
  assert.deepEqual(app.exits, [1]);
  assert.equal(lc.phase, 'closed');
});

test('a failing engine close still quits', async () => {
  const { app, lc } = setup(async () => {
    throw new Error('flush failed');
  });
  lc.start();
  await lc.quit();
  assert.equal(app.quits, 1);
});

test('the window closed for real (destroyed) is recreated on the next show', () => {
  const { lc, windows } = setup();
  lc.start();
  const w = lc.showWindow();
  w.destroyed = true;
  assert.equal(lc.window, null);
  lc.showWindow();
  assert.equal(windows.length, 2);
});
