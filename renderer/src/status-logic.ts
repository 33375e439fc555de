/** How the bridge's status is summarised and updated by events. Pure: unit-tested. */
import type {
  AccountStatus,
  BridgeEvent,
  BridgeStatus,
  ConnectionState,
} from '../../app/control/contract.ts';

export type OverallState = 'locked' | 'error' | 'syncing' | 'ok' | 'offline' | 'unknown';

const FAILED: readonly ConnectionState[] = ['auth-failed', 'tls-failed', 'error'];

export function accountSyncing(a: AccountStatus): boolean {
  if (a.paused) return false;
  if (a.connection === 'connecting') return true;
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
  return 'ok';
}

export const STATE_LABEL: Record<OverallState, string> = {
  locked: 'Locked',
  error: 'Error',
  syncing: 'Syncing',
  ok: 'Up to date',
  offline: 'Offline',
  unknown: 'Connecting…',
};

export const CONNECTION_LABEL: Record<ConnectionState, string> = {
  offline: 'Offline',
  connecting: 'Connecting',
  online: 'Online',
  'auth-failed': 'Login failed',
  'tls-failed': 'TLS failed',
  error: 'Error',
  paused: 'Paused',
};

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
