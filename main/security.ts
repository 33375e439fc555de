/**
 * What the window may do: the page may not navigate anywhere but the app's own page, may not open
 * windows (https links go to the user's browser instead), and gets no permissions except writing
 * to the clipboard (the copy buttons). Pure decisions; main/index.ts installs them.
 */
import { isAppPage } from './ipc.ts';

export const WINDOW_OPTIONS = {
  width: 1000,
  height: 720,
  minWidth: 800,
  minHeight: 600,
  title: 'Lockbridge',
  show: false,
  autoHideMenuBar: true,
} as const;

/** webPreferences of the window (the preload path is added by the caller). */
export const WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
  navigateOnDragDrop: false,
} as const;

/** `will-navigate` / `will-redirect`: true when the navigation may go ahead. */
export function mayNavigate(url: string, appUrl: string): boolean {
  return isAppPage(url, appUrl);
}

/** `setWindowOpenHandler`: never a new Electron window; https links open in the user's browser. */
export function windowOpenDecision(url: string): { action: 'deny'; openExternal: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { action: 'deny', openExternal: false };
  }
  return { action: 'deny', openExternal: u.protocol === 'https:' && u.username === '' && u.password === '' };
}

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/** Session permission requests: only the app page, and only the clipboard write. */
export function allowPermission(permission: string, requestingUrl: string, appUrl: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isAppPage(requestingUrl, appUrl);
}

const ROUTE = /^[a-z][a-z-]{0,31}$/;

/** A renderer route for `location.hash`, or null when the name is not a plain route. */
export function routeHash(route: string): string | null {
  return ROUTE.test(route) ? `#/${route}` : null;
}
