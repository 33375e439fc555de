// Tray: the state (locked, syncing, ok, error) and tooltip derived from the engine's status and
// events, the menu model with its enabled/disabled rules for every state, and the menu actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AccountStatus, BridgeStatus, ControlApi } from '../../../app/control/contract.ts';
import { accountStatus, bridgeStatus } from '../../helpers/bridge-status.ts';
import {
  reduceTrayInput,
  runTrayAction,
  TRAY_STATES,
  trayIconFile,
  trayMenu,
  trayState,
  trayTooltip,
  type TrayAction,
  type TrayInput,
  type TrayMenuItem,
} from '../../../main/tray.ts';

const input = (s: BridgeStatus | null): TrayInput => ({ status: s });

/** label → enabled, flattening submenus as "Submenu/label". */
function enabled(items: TrayMenuItem[], prefix = ''): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const i of items) {
    if (i.type === 'separator') continue;
    out[prefix + i.label] = i.enabled;
    if (i.type === 'submenu') Object.assign(out, enabled(i.items, `${i.label}/`));
  }
  return out;
}
function actionOf(items: TrayMenuItem[], label: string): TrayAction {
  for (const i of items) {
    if (i.type === 'item' && i.label === label) return i.action;
    if (i.type === 'submenu') {
      try {
        return actionOf(i.items, label);
      } catch {
        /* keep looking */
      }
    }
  }
  throw new Error(`no item ${label}`);
}

test('state: locked before any status, while locked, and before the store exists', () => {
  assert.equal(trayState(input(null)), 'locked');
  assert.equal(trayState(input(bridgeStatus({ locked: true, accounts: [] }))), 'locked');
  assert.equal(trayState(input(bridgeStatus({ initialized: false, locked: true, accounts: [] }))), 'locked');
  assert.equal(trayTooltip(input(bridgeStatus({ locked: true }))), 'Lockbridge — locked');
  assert.equal(
    trayTooltip(input(bridgeStatus({ initialized: false, locked: true }))),
    'Lockbridge — not set up yet',
  );
});

test('state: ok when every account is synced, also with none, paused or offline', () => {
  assert.equal(trayState(input(bridgeStatus())), 'ok');
  assert.equal(trayTooltip(input(bridgeStatus())), 'Lockbridge — up to date (1 account)');
  assert.equal(trayState(input(bridgeStatus({ accounts: [] }))), 'ok');
  assert.equal(trayTooltip(input(bridgeStatus({ accounts: [] }))), 'Lockbridge — running, no accounts yet');
  const paused = bridgeStatus({
    offline: true,
    accounts: [
      accountStatus('a@example.org'),
      accountStatus('b@example.org', {
        paused: true,
        connection: 'paused',
        sync: { ...accountStatus('x').sync, messagesSynced: 5 },
      }),
    ],
  });
  assert.equal(trayState(input(paused)), 'ok', 'a paused account is not "syncing"');
  assert.equal(trayTooltip(input(paused)), 'Lockbridge — up to date (2 accounts, 1 paused, offline)');
});

test('state: syncing during an initial sync, while behind, while connecting', () => {
  const initial = bridgeStatus({
    accounts: [
      accountStatus('a@example.org', {
        sync: {
          phase: 'initial',
          messagesTotal: 5000,
          messagesSynced: 1234,
          bytesSynced: 0,
          eta: 60,
          folders: [],
          sizesKnown: true,
        },
      }),
      accountStatus('b@example.org'),
    ],
  });
  assert.equal(trayState(input(initial)), 'syncing');
  assert.equal(trayTooltip(input(initial)), 'Lockbridge — syncing 1234 of 5000 messages');
  const connecting = bridgeStatus({
    accounts: [
      accountStatus('a@example.org', {
        connection: 'connecting',
        sync: {
          phase: 'idle',
          messagesTotal: 0,
          messagesSynced: 0,
          bytesSynced: 0,
          eta: null,
          folders: [],
          sizesKnown: true,
        },
      }),
    ],
  });
  assert.equal(trayState(input(connecting)), 'syncing');
  assert.equal(trayTooltip(input(connecting)), 'Lockbridge — connecting…');
});

test('state: error on auth/TLS/connection failures and failed sends, and it wins over syncing', () => {
  for (const [over, text] of [
    [{ connection: 'auth-failed' }, 'a@example.org: the provider refused the password'],
    [{ connection: 'tls-failed' }, "a@example.org: the provider's TLS certificate was not accepted"],
    [{ connection: 'error', lastError: 'connection refused' }, 'a@example.org: connection refused'],
    [
      { outbox: { queued: 0, failed: 2, oldestAgeSec: null, lastError: null } },
      'a@example.org: 2 messages could not be sent',
    ],
  ] as const) {
    const s = bridgeStatus({
      accounts: [
        accountStatus('a@example.org', over as Partial<AccountStatus>),
        accountStatus('b@example.org', { sync: { ...accountStatus('x').sync, phase: 'initial' } }),
      ],
    });
    assert.equal(trayState(input(s)), 'error', JSON.stringify(over));
    assert.equal(trayTooltip(input(s)), `Lockbridge — ${text}`);
  }
  const two = bridgeStatus({
    accounts: [
      accountStatus('a@example.org', { connection: 'error' }),
      accountStatus('b@example.org', { connection: 'auth-failed' }),
    ],
  });
  assert.match(trayTooltip(input(two)), /\(\+1 more\)$/);
});

test('events: sync progress and connection changes update the state between status events', () => {
  let t = input(bridgeStatus());
  assert.equal(trayState(t), 'ok');
  t = reduceTrayInput(t, {
    type: 'sync-progress',
    email: 'a@example.org',
    progress: {
      phase: 'incremental',
      messagesTotal: 110,
      messagesSynced: 100,
      bytesSynced: 0,
      eta: null,
      folders: [],
      sizesKnown: true,
    },
  });
  assert.equal(trayState(t), 'syncing');
  t = reduceTrayInput(t, { type: 'connection', email: 'a@example.org', state: 'auth-failed', error: 'no' });
  assert.equal(trayState(t), 'error');
  // events about unknown accounts, or before any status, change nothing
  assert.equal(
    reduceTrayInput(t, { type: 'connection', email: 'z@example.org', state: 'error', error: null }),
    t,
  );
  const empty = input(null);
  assert.equal(
    reduceTrayInput(empty, { type: 'connection', email: 'a@example.org', state: 'error', error: null }),
    empty,
  );
  t = reduceTrayInput(t, { type: 'status', status: bridgeStatus({ locked: true, accounts: [] }) });
  assert.equal(trayState(t), 'locked');
});

test('every state has its icon files (1x and @2x) in resources/', () => {
  for (const state of TRAY_STATES) {
    const file = new URL(`../../../resources/${trayIconFile(state)}`, import.meta.url);
    assert.ok(existsSync(file), file.pathname);
    assert.ok(existsSync(new URL(file.href.replace(/\.png$/, '@2x.png'))), `${file.pathname} @2x`);
  }
});

test('menu while locked or not set up: only Open and Quit', () => {
  for (const s of [
    null,
    bridgeStatus({ locked: true }),
    bridgeStatus({ initialized: false, locked: true, accounts: [] }),
  ]) {
    assert.deepEqual(enabled(trayMenu(input(s))), {
      'Open Lockbridge': true,
      'Add account…': false,
      'Pause sync': false,
      'Copy local password': false,
      'Quit Lockbridge': true,
    });
  }
});

test('menu with one account: pause or resume that account', () => {
  const running = trayMenu(input(bridgeStatus()));
  assert.deepEqual(enabled(running), {
    'Open Lockbridge': true,
    'Add account…': true,
    'Pause sync': true,
    'Copy local password': true,
    'Quit Lockbridge': true,
  });
  assert.deepEqual(actionOf(running, 'Pause sync'), { kind: 'pause', email: 'a@example.org' });
  const paused = trayMenu(
    input(bridgeStatus({ accounts: [accountStatus('a@example.org', { paused: true })] })),
  );
  assert.deepEqual(actionOf(paused, 'Resume sync'), { kind: 'resume', email: 'a@example.org' });
  assert.equal(enabled(paused)['Pause sync'], undefined);
});

test('menu with no accounts: pause is there but disabled', () => {
  assert.equal(enabled(trayMenu(input(bridgeStatus({ accounts: [] }))))['Pause sync'], false);
});

test('menu with several accounts: all at once plus per account', () => {
  const s = bridgeStatus({
    accounts: [
      accountStatus('a@example.org'),
      accountStatus('b@example.org', { paused: true }),
      accountStatus('c@example.org'),
    ],
  });
  const menu = trayMenu(input(s));
  assert.deepEqual(enabled(menu), {
    'Open Lockbridge': true,
    'Add account…': true,
    'Pause sync': true,
    'Resume all': true,
    Accounts: true,
    'Accounts/Pause a@example.org': true,
    'Accounts/Resume b@example.org': true,
    'Accounts/Pause c@example.org': true,
    'Copy local password': true,
    'Quit Lockbridge': true,
  });
  assert.deepEqual(actionOf(menu, 'Pause sync'), { kind: 'pause-all' });
  assert.deepEqual(actionOf(menu, 'Resume b@example.org'), { kind: 'resume', email: 'b@example.org' });
  const allPaused = trayMenu(
    input(
      bridgeStatus({
        accounts: [
          accountStatus('a@example.org', { paused: true }),
          accountStatus('b@example.org', { paused: true }),
        ],
      }),
    ),
  );
  assert.deepEqual(actionOf(allPaused, 'Resume sync'), { kind: 'resume-all' });
  assert.equal(enabled(allPaused)['Resume all'], undefined);
});

function actionDeps(fail = false) {
  const log: string[] = [];
  const api = {
    pauseSync: async (e: string) => {
      if (fail) throw { code: 'locked', message: 'Lockbridge is locked: unlock it first' };
      log.push(`pause ${e}`);
    },
    resumeSync: async (e: string) => void log.push(`resume ${e}`),
    credentials: async () => ({ password: 'local-secret' }),
  } as unknown as Pick<ControlApi, 'pauseSync' | 'resumeSync' | 'credentials'>;
  return {
    log,
    deps: {
      api,
      accounts: () => ['a@example.org', 'b@example.org'],
      showWindow: (route?: string) => void log.push(`show ${route ?? '-'}`),
      copyText: (t: string) => void log.push(`copy ${t}`),
      quit: () => void log.push('quit'),
      notify: (title: string, body: string) => void log.push(`notify ${body}`),
    },
  };
}

test('menu actions reach the window, the engine, the clipboard and quit', async () => {
  const { log, deps } = actionDeps();
  for (const a of [
    { kind: 'open' },
    { kind: 'add-account' },
    { kind: 'pause', email: 'a@example.org' },
    { kind: 'resume-all' },
    { kind: 'pause-all' },
    { kind: 'copy-password' },
    { kind: 'quit' },
  ] as TrayAction[])
    await runTrayAction(a, deps);
  assert.deepEqual(log, [
    'show -',
    'show add-account',
    'pause a@example.org',
    'resume a@example.org',
    'resume b@example.org',
    'pause a@example.org',
    'pause b@example.org',
    'copy local-secret',
    'notify The local password is on the clipboard.',
    'quit',
  ]);
});

test('a failing action becomes a notification, not an exception', async () => {
  const { log, deps } = actionDeps(true);
  await runTrayAction({ kind: 'pause', email: 'a@example.org' }, deps);
  assert.deepEqual(log, ['notify Lockbridge is locked: unlock it first']);
});
