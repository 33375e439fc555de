/**
 * The tray icon's state, tooltip and menu as pure functions of what the engine reports. The shell
 * (main/index.ts) turns the model into an Electron Menu and dispatches the actions.
 */
import type { AccountStatus, BridgeEvent, BridgeStatus, ControlApi } from '../app/control/contract.ts';

export type TrayState = 'locked' | 'syncing' | 'ok' | 'error';
export const TRAY_STATES: readonly TrayState[] = ['locked', 'syncing', 'ok', 'error'];

/** What the tray knows: the last status plus the newer per-account news from events. */
export interface TrayInput {
  status: BridgeStatus | null;
}

const ERROR_CONNECTIONS = new Set(['auth-failed', 'tls-failed', 'error']);

/** Folds an event into the tray's knowledge (sync progress and connection events patch accounts). */
export function reduceTrayInput(input: TrayInput, event: BridgeEvent): TrayInput {
  if (event.type === 'status') return { status: event.status };
  const status = input.status;
  if (!status) return input;
  const patch = (email: string, f: (a: AccountStatus) => AccountStatus): TrayInput => {
    if (!status.accounts.some((a) => a.email === email)) return input;
    return { status: { ...status, accounts: status.accounts.map((a) => (a.email === email ? f(a) : a)) } };
  };
  if (event.type === 'sync-progress') return patch(event.email, (a) => ({ ...a, sync: event.progress }));
  if (event.type === 'connection')
    return patch(event.email, (a) => ({
      ...a,
      connection: event.state,
      paused: event.state === 'paused',
      lastError: event.error,
    }));
  return input;
}

function isSyncing(a: AccountStatus): boolean {
  if (a.paused) return false;
  if (a.connection === 'connecting') return true;
  return a.sync.phase === 'initial' || a.sync.messagesSynced < a.sync.messagesTotal;
}

function hasError(a: AccountStatus): boolean {
  return ERROR_CONNECTIONS.has(a.connection) || a.outbox.failed > 0;
}

export function trayState(input: TrayInput): TrayState {
  const s = input.status;
  if (!s || s.locked || !s.initialized) return 'locked';
  if (s.accounts.some(hasError)) return 'error';
  if (s.accounts.some(isSyncing)) return 'syncing';
  return 'ok';
}

/** Icon file of a state, relative to resources/ (Electron picks the @2x file beside it itself). */
export function trayIconFile(state: TrayState): string {
  return `tray/tray-${state}.png`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function errorText(a: AccountStatus): string {
  if (a.connection === 'auth-failed') return `${a.email}: the provider refused the password`;
  if (a.connection === 'tls-failed') return `${a.email}: the provider's TLS certificate was not accepted`;
  if (a.outbox.failed > 0) return `${a.email}: ${plural(a.outbox.failed, 'message')} could not be sent`;
  return `${a.email}: ${a.lastError ?? 'connection error'}`;
}

/** The tooltip: one short line (some desktops cut tooltips), no secrets or message content. */
export function trayTooltip(input: TrayInput): string {
  const s = input.status;
  const state = trayState(input);
  if (state === 'locked') return s && !s.initialized ? 'Lockbridge — not set up yet' : 'Lockbridge — locked';
  const accounts = s!.accounts;
  if (state === 'error') {
    const bad = accounts.filter(hasError);
    const more = bad.length > 1 ? ` (+${bad.length - 1} more)` : '';
    return `Lockbridge — ${errorText(bad[0]!)}${more}`;
  }
  if (state === 'syncing') {
    const syncing = accounts.filter(isSyncing);
    const total = syncing.reduce((n, a) => n + a.sync.messagesTotal, 0);
    const done = syncing.reduce((n, a) => n + Math.min(a.sync.messagesSynced, a.sync.messagesTotal), 0);
    return total > 0
      ? `Lockbridge — syncing ${done} of ${plural(total, 'message')}`
      : 'Lockbridge — connecting…';
  }
  if (accounts.length === 0) return 'Lockbridge — running, no accounts yet';
  const paused = accounts.filter((a) => a.paused).length;
  const offline = s!.offline ? ', offline' : '';
  const pausedText = paused > 0 ? `, ${paused} paused` : '';
  return `Lockbridge — up to date (${plural(accounts.length, 'account')}${pausedText}${offline})`;
}

export type TrayAction =
  | { kind: 'open' }
  | { kind: 'add-account' }
  | { kind: 'pause'; email: string }
  | { kind: 'resume'; email: string }
  | { kind: 'pause-all' }
  | { kind: 'resume-all' }
  | { kind: 'copy-password' }
  | { kind: 'quit' };

export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'item'; label: string; enabled: boolean; action: TrayAction }
  | { type: 'submenu'; label: string; enabled: boolean; items: TrayMenuItem[] };

function syncItems(s: BridgeStatus, usable: boolean): TrayMenuItem[] {
  const accounts = s.accounts;
  if (!usable || accounts.length === 0)
    return [{ type: 'item', label: 'Pause sync', enabled: false, action: { kind: 'pause-all' } }];
  if (accounts.length === 1) {
    const a = accounts[0]!;
    return a.paused
      ? [{ type: 'item', label: 'Resume sync', enabled: true, action: { kind: 'resume', email: a.email } }]
      : [{ type: 'item', label: 'Pause sync', enabled: true, action: { kind: 'pause', email: a.email } }];
  }
  const anyRunning = accounts.some((a) => !a.paused);
  const anyPaused = accounts.some((a) => a.paused);
  const perAccount: TrayMenuItem[] = accounts.map((a) =>
    a.paused
      ? {
          type: 'item',
          label: `Resume ${a.email}`,
          enabled: true,
          action: { kind: 'resume', email: a.email },
        }
      : { type: 'item', label: `Pause ${a.email}`, enabled: true, action: { kind: 'pause', email: a.email } },
  );
  return [
    anyRunning
      ? { type: 'item', label: 'Pause sync', enabled: true, action: { kind: 'pause-all' } }
      : { type: 'item', label: 'Resume sync', enabled: true, action: { kind: 'resume-all' } },
    ...(anyRunning && anyPaused
      ? [{ type: 'item', label: 'Resume all', enabled: true, action: { kind: 'resume-all' } } as TrayMenuItem]
      : []),
    { type: 'submenu', label: 'Accounts', enabled: true, items: perAccount },
  ];
}

/**
 * The menu: Open Lockbridge, Add account…, Pause/Resume sync (one account: one item; several: all
 * plus a per-account submenu), Copy local password, Quit. While locked (or not set up) only Open
 * and Quit are enabled.
 */
export function trayMenu(input: TrayInput): TrayMenuItem[] {
  const s = input.status;
  const usable = s !== null && !s.locked && s.initialized;
  return [
    { type: 'item', label: 'Open Lockbridge', enabled: true, action: { kind: 'open' } },
    { type: 'item', label: 'Add account…', enabled: usable, action: { kind: 'add-account' } },
    { type: 'separator' },
    ...(s ? syncItems(s, usable) : syncItems({ accounts: [] } as unknown as BridgeStatus, false)),
    { type: 'item', label: 'Copy local password', enabled: usable, action: { kind: 'copy-password' } },
    { type: 'separator' },
    { type: 'item', label: 'Quit Lockbridge', enabled: true, action: { kind: 'quit' } },
  ];
}

export interface TrayActionDeps {
  api: Pick<ControlApi, 'pauseSync' | 'resumeSync' | 'credentials'>;
  accounts(): string[];
  /** Shows the window at a renderer route ('accounts', 'add-account', …). */
  showWindow(route?: string): void;
  copyText(text: string): void;
  quit(): void;
  /** Short feedback (a notification): what was done or what failed. */
  notify(title: string, body: string): void;
}

/** Carries out a menu action. Errors become a notification, never an exception. */
export async function runTrayAction(action: TrayAction, deps: TrayActionDeps): Promise<void> {
  try {
    switch (action.kind) {
      case 'open':
        deps.showWindow();
        return;
      case 'add-account':
        deps.showWindow('add-account');
        return;
      case 'pause':
        await deps.api.pauseSync(action.email);
        return;
      case 'resume':
        await deps.api.resumeSync(action.email);
        return;
      case 'pause-all':
        for (const email of deps.accounts()) await deps.api.pauseSync(email);
        return;
      case 'resume-all':
        for (const email of deps.accounts()) await deps.api.resumeSync(email);
        return;
      case 'copy-password': {
        const creds = await deps.api.credentials();
        deps.copyText(creds.password);
        deps.notify('Lockbridge', 'The local password is on the clipboard.');
        return;
      }
      case 'quit':
        deps.quit();
        return;
    }
  } catch (err) {
    const message = err && typeof err === 'object' && 'message' in err ? String(err.message) : String(err);
    deps.notify('Lockbridge', message);
  }
}
