/** How the bridge's status is summarised and updated by events. Pure: unit-tested. */
import type {
  AccountStatus,
  BridgeEvent,
  BridgeStatus,
  ConnectionState,
} from '../../app/control/contract.ts';
import { percent } from './format.ts';

export type OverallState = 'locked' | 'error' | 'syncing' | 'ok' | 'offline' | 'unknown' | 'no-accounts';

const FAILED: readonly ConnectionState[] = ['auth-failed', 'tls-failed', 'error'];

export function accountSyncing(a: AccountStatus): boolean {
  if (a.paused) return false;
  if (a.connection === 'connecting') return true;
  if (a.sync.phase !== 'idle' && !a.sync.sizesKnown) return true;
  return a.sync.phase !== 'idle' && a.sync.messagesSynced < a.sync.messagesTotal;
}

export function accountFailed(a: AccountStatus): boolean {
  return FAILED.includes(a.connection);
}

/** One word for the header indicator (and the tray, which uses the same rules). */
export function overallState(status: BridgeStatus | null): OverallState {
  if (!status) return 'unknown';
  if (status.locked || status.initialized === false) return 'locked';
  if (status.accounts.some(accountFailed)) return 'error';
  if (status.accounts.some(accountSyncing)) return 'syncing';
  if (status.offline) return 'offline';
  if (status.accounts.length === 0) return 'no-accounts';
  return 'ok';
}

export const STATE_LABEL: Record<OverallState, string> = {
  locked: 'Locked',
  error: 'Error',
  syncing: 'Syncing',
  ok: 'Up to date',
  offline: 'Offline',
  unknown: 'Connecting…',
  'no-accounts': 'No accounts yet',
};

export const CONNECTION_LABEL: Record<ConnectionState, string> = {
  offline: 'Offline',
  connecting: 'Connecting',
  online: 'Online',
  'auth-failed': 'Login failed',
  'tls-failed': 'TLS failed',
  error: 'Error',
  paused: 'Paused',
  'signed-out': 'Signed out',
};

/** What one progress bar shows: a percentage, or indeterminate (sizes not known yet). */
export interface ProgressView {
  /** null = indeterminate. */
  percent: number | null;
  detail: string;
}

/** The highest percentage shown during the current sync of one account (see `progressView`). */
export interface ProgressMemo {
  active: boolean;
  max: number;
}

/**
 * The overall bar of an account. Indeterminate until every folder's size is known (a new account
 * shows neither "0 of 0 · 100 %" nor a percentage of a partial total); within one sync (from a
 * non-idle phase until idle again) it never goes backwards, even when new mail raises the total.
 */
export function progressView(
  account: AccountStatus,
  memo: ProgressMemo | null,
): { view: ProgressView; memo: ProgressMemo | null } {
  const sync = account.sync;
  if (!sync.sizesKnown) {
    const reaching =
      !account.paused && (account.connection === 'online' || account.connection === 'connecting');
    const detail = !reaching
      ? 'Not counted yet: waiting for a connection'
      : sync.messagesSynced > 0
        ? `${sync.messagesSynced} messages so far`
        : 'Counting messages…';
    return { view: { percent: null, detail }, memo };
  }
  const raw = percent(sync.messagesSynced, sync.messagesTotal);
  const active = sync.phase !== 'idle';
  const floor = memo?.active ? memo.max : 0;
  const shown = active ? Math.max(floor, raw) : raw;
  return {
    view: { percent: shown, detail: `${sync.messagesSynced} of ${sync.messagesTotal} messages` },
    memo: { active, max: shown },
  };
}

/** Applies an event to the last known status (null when the event says nothing about it). */
export function applyEvent(status: BridgeStatus | null, event: BridgeEvent): BridgeStatus | null {
  if (event.type === 'status') return event.status;
  if (!status) return status;
  if (event.type === 'sync-progress') {
    return patchAccount(status, event.email, (a) => ({ ...a, sync: event.progress }));
  }
  if (event.type === 'connection') {
    return patchAccount(status, event.email, (a) => ({
      ...a,
      connection: event.state,
      lastError: event.error ?? (FAILED.includes(event.state) ? a.lastError : null),
    }));
  }
  return status;
}

function patchAccount(
  status: BridgeStatus,
  email: string,
  fn: (a: AccountStatus) => AccountStatus,
): BridgeStatus {
  let hit = false;
  const accounts = status.accounts.map((a) => {
    if (a.email !== email) return a;
    hit = true;
    return fn(a);
  });
  return hit ? { ...status, accounts } : status;
}
