/**
 * What the engine's status() reports, as fixtures for the shells that show it (the tray, the UI's
 * header): an account online and up to date, a running, unlocked bridge with it; tests override
 * what they look at.
 */
import type { AccountStatus, BridgeStatus } from '../../app/control/contract.ts';

export function accountStatus(email: string, over: Partial<AccountStatus> = {}): AccountStatus {
  return {
    email,
    connection: 'online',
    sync: {
      phase: 'idle',
      messagesTotal: 100,
      messagesSynced: 100,
      bytesSynced: 1,
      eta: null,
      folders: [],
      sizesKnown: true,
    },
    outbox: { queued: 0, failed: 0, oldestAgeSec: null, lastError: null },
    pending: { changes: 0, uploads: 0, oldestAgeSec: null, lastError: null },
    lastError: null,
    paused: false,
    ...over,
  };
}

export function bridgeStatus(over: Partial<BridgeStatus> = {}): BridgeStatus {
  return {
    version: '0.1.0',
    initialized: true,
    locked: false,
    unlockMethods: { keychain: true, passphrase: true },
    home: '/h',
    ports: { imap: 1143, smtp: 1025, control: null },
    offline: false,
    diskFull: null,
    accounts: [accountStatus('a@example.org')],
    ...over,
  };
}
