/**
 * The Electron main process: wires real Electron into the pure modules beside this file and runs
 * the engine (a BridgeHost) in this process — see the README's "Desktop app" section for why.
 * Everything with a rule in it lives in those modules and is unit-tested without Electron; this
 * file only connects them.
 */
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  safeStorage,
  session,
  shell,
  Tray,
} from 'electron';
import type { MenuItemConstructorOptions } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createBridgeHost } from '../app/host.ts';
import type { BridgeEvent, Settings } from '../app/control/contract.ts';
import { toControlError } from '../app/control/errors.ts';
import { createLogging } from '../app/config/logging.ts';
import { pathsFor, resolveHome } from '../app/config/paths.ts';
import { CALL_CHANNEL, createCallHandler, forwardEvents, type SenderInfo } from './ipc.ts';
import { createSafeStorageKeychain } from './keychain.ts';
import { Lifecycle } from './lifecycle.ts';
import { applyStartAtLogin, startHidden } from './login-item.ts';
import { wireNotifications } from './notifications.ts';
import {
  allowPermission,
  mayNavigate,
  routeHash,
  WEB_PREFERENCES,
  WINDOW_OPTIONS,
  windowOpenDecision,
} from './security.ts';
import {
  reduceTrayInput,
  runTrayAction,
  trayIconFile,
  trayMenu,
  trayState,
  trayTooltip,
  type TrayAction,
  type TrayInput,
  type TrayMenuItem,
} from './tray.ts';

const here = dirname(fileURLToPath(import.meta.url)); // dist/main
const appRoot = app.getAppPath(); // the project root, or resources/app.asar when packaged
const indexHtml = join(appRoot, 'renderer', 'dist', 'index.html');
const appUrl = pathToFileURL(indexHtml).href;
const preload = join(here, 'preload.cjs');
const resource = (file: string): string => join(appRoot, 'resources', file);

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

const home = resolveHome(argValue('--home'));
const logging = createLogging({ file: pathsFor(home).logFile, stderr: !app.isPackaged });
const logger = logging.logger.child({ module: 'desktop' });

app.setName('Lockbridge');
if (process.platform === 'win32') app.setAppUserModelId('org.lockbridge.Lockbridge');

let host: ReturnType<typeof createBridgeHost> | null = null;
let tray: Tray | null = null;

const lifecycle = new Lifecycle<BrowserWindow>({
  app,
  createWindow,
  navigate(win, route) {
    const hash = routeHash(route);
    if (hash) void win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(hash)}`);
  },
  closeHost: async () => {
    await host?.close();
    logging.close();
  },
  log: (level, msg, fields) => logger[level](fields ?? {}, msg),
});

function createWindow(route?: string): BrowserWindow {
  const win = new BrowserWindow({
    ...WINDOW_OPTIONS,
    icon: resource('icon-256.png'),
    webPreferences: { ...WEB_PREFERENCES, preload },
  });
  const hash = route ? routeHash(route) : null;
  void win.loadFile(indexHtml, hash ? { hash: hash.slice(1) } : {});
  return win;
}

function installGuards(): void {
  app.on('web-contents-created', (_e, contents) => {
    const guard = (e: { preventDefault(): void }, url: string) => {
      if (!mayNavigate(url, appUrl)) {
        e.preventDefault();
        logger.warn({ url: url.slice(0, 200) }, 'refused a navigation');
      }
    };
    contents.on('will-navigate', (e) => guard(e, e.url));
    contents.on('will-redirect', (e) => guard(e, e.url));
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (windowOpenDecision(url).openExternal) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  session.defaultSession.setPermissionRequestHandler((wc, permission, callback) =>
    callback(allowPermission(permission, wc.getURL(), appUrl)),
  );
  session.defaultSession.setPermissionCheckHandler((wc, permission) =>
    wc ? allowPermission(permission, wc.getURL(), appUrl) : false,
  );
}

function senderInfo(e: Electron.IpcMainInvokeEvent): SenderInfo {
  const frame = e.senderFrame;
  return {
    webContentsId: e.sender.id,
    frameUrl: frame?.url ?? null,
    isMainFrame: frame ? frame.parent === null : false,
  };
}

function loginItem(enabled: boolean): void {
  try {
    applyStartAtLogin(enabled, {
      platform: process.platform,
      setLoginItemSettings: (s) => app.setLoginItemSettings(s),
      executable: process.env.APPIMAGE ?? process.execPath,
      appArgs: app.isPackaged ? [] : [appRoot],
    });
  } catch (err) {
    logger.warn({ err }, 'could not change the start-at-login setting');
  }
}

function toMenuTemplate(
  items: TrayMenuItem[],
  dispatch: (a: TrayAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { type: 'separator' };
    if (item.type === 'submenu')
      return { label: item.label, enabled: item.enabled, submenu: toMenuTemplate(item.items, dispatch) };
    return { label: item.label, enabled: item.enabled, click: () => dispatch(item.action) };
  });
}

// The same memory settings as scripts/lockbridge-node for the headless bridge: V8 sizes the young
// generation from the machine's RAM otherwise (hundreds of MB on a large machine).
app.commandLine.appendSwitch('js-flags', '--max-semi-space-size=8');

async function main(): Promise<void> {
  if (!lifecycle.start()) return; // another instance runs: it shows its window
  await app.whenReady();
  installGuards();
  if (!existsSync(indexHtml)) {
    dialog.showErrorBox(
      'Lockbridge',
      `The user interface is not built (${indexHtml}).\nRun: npm run build:ui`,
    );
    app.exit(1);
    return;
  }

  const keychain = createSafeStorageKeychain(safeStorage);
  const bridgeHost = createBridgeHost({
    home,
    keychain,
    logger: logging.logger,
    logs: logging.ring,
    control: false,
    onReady: (info) => logger.info({ imap: info.imap, smtp: info.smtp }, 'bridge ready'),
  });
  host = bridgeHost;
  const api = bridgeHost.api;

  let trayInput: TrayInput = { status: null };
  let menuKey = '';
  const dispatch = (action: TrayAction) =>
    void runTrayAction(action, {
      api,
      accounts: () => trayInput.status?.accounts.map((a) => a.email) ?? [],
      showWindow: (route) => lifecycle.showWindow(route),
      copyText: (text) => clipboard.writeText(text),
      quit: () => void lifecycle.quit(),
      notify: (title, body) => {
        if (Notification.isSupported()) new Notification({ title, body }).show();
      },
    }).then(refreshStatus);
  const renderTray = () => {
    if (!tray) return;
    tray.setImage(nativeImage.createFromPath(resource(trayIconFile(trayState(trayInput)))));
    tray.setToolTip(trayTooltip(trayInput));
    const model = trayMenu(trayInput);
    const key = JSON.stringify(model);
    if (key !== menuKey) {
      menuKey = key;
      tray.setContextMenu(Menu.buildFromTemplate(toMenuTemplate(model, dispatch)));
    }
  };
  let wasLocked = true;
  const onEvent = (event: BridgeEvent) => {
    trayInput = reduceTrayInput(trayInput, event);
    renderTray();
    if (event.type === 'status' && wasLocked && !event.status.locked) {
      wasLocked = false;
      void api.getSettings().then(
        (s) => loginItem(s.startAtLogin),
        () => {},
      );
    }
  };
  async function refreshStatus(): Promise<void> {
    try {
      onEvent({ type: 'status', status: await api.status() });
    } catch (err) {
      logger.warn({ err }, 'status failed');
    }
  }

  ipcMain.handle(
    CALL_CHANNEL,
    createCallHandlerFor(
      () => ({ webContentsId: lifecycle.window?.webContents.id ?? null, appUrl }),
      (method, result) => {
        if (method === 'updateSettings') loginItem((result as Settings).startAtLogin);
        if (method !== 'status') void refreshStatus();
      },
    ),
  );
  bridgeHost.subscribe(onEvent);
  forwardEvents(
    (l) => bridgeHost.subscribe(l),
    (channel, event) => {
      const win = lifecycle.window;
      if (win && !win.webContents.isDestroyed()) win.webContents.send(channel, event);
    },
  );
  wireNotifications((l) => bridgeHost.subscribe(l), {
    isSupported: () => Notification.isSupported(),
    show: (text) => {
      const n = new Notification({ title: text.title, body: text.body });
      n.on('click', () => lifecycle.showWindow(text.route));
      n.show();
    },
  });

  try {
    await bridgeHost.start();
  } catch (err) {
    const { error } = toControlError(err);
    logger.error({ err }, 'the bridge could not start');
    dialog.showErrorBox('Lockbridge could not start', error.message);
    await bridgeHost.close().catch(() => {});
    app.exit(1);
    return;
  }

  tray = new Tray(nativeImage.createFromPath(resource(trayIconFile('locked'))));
  tray.on('click', () => lifecycle.showWindow());
  await refreshStatus();

  const atLogin = process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
  if (startHidden(process.argv, atLogin)) lifecycle.createHidden();
  else lifecycle.showWindow();

  function createCallHandlerFor(
    trusted: () => { webContentsId: number | null; appUrl: string },
    onResult: (method: string, result: unknown) => void,
  ) {
    const handle = createCallHandler({
      api,
      trusted,
      toControlError: (err) => toControlError(err).error,
      onResult,
      warn: (msg, fields) => logger.warn(fields, msg),
    });
    return (e: Electron.IpcMainInvokeEvent, payload: unknown) => handle(senderInfo(e), payload);
  }
}

process.on('SIGTERM', () => void lifecycle.quit());
process.on('SIGINT', () => void lifecycle.quit());

main().catch((err: unknown) => {
  logger.error({ err }, 'the desktop app failed to start');
  app.exit(1);
});
