// The header's bridge state and how events update the last known status; form rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountStatus, BridgeStatus, Settings } from '../../../app/control/contract.ts';
import { applyEvent, overallState, progressView, STATE_LABEL } from '../../../renderer/src/status-logic.ts';
import {
  looksLikeEmail,
  passphraseProblem,
  settingsPatch,
  isPemCertificate,
  pendingRestart,
} from '../../../renderer/src/forms.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import { accountStatus, bridgeStatus } from '../../helpers/bridge-status.ts';

const account = (over: Partial<AccountStatus> = {}) => accountStatus('a@example.test', over);
const status = (over: Partial<BridgeStatus> = {}) => bridgeStatus({ accounts: [account()], ...over });

test('overall state: locked > error > syncing > offline > ok', () => {
  assert.equal(overallState(null), 'unknown');
  assert.equal(overallState(status({ locked: true })), 'locked');
  assert.equal(overallState(status({ initialized: false })), 'locked');
  assert.equal(overallState(status({ accounts: [account({ connection: 'auth-failed' })] })), 'error');
  const syncing = account({
    sync: {
      phase: 'initial',
      messagesTotal: 10,
      messagesSynced: 3,
      bytesSynced: 0,
      eta: 5,
      folders: [],
      sizesKnown: true,
    },
  });
  assert.equal(overallState(status({ accounts: [syncing] })), 'syncing');
  assert.equal(
    overallState(status({ accounts: [{ ...syncing, paused: true }] })),
    'ok',
    'paused is not syncing',
  );
  assert.equal(overallState(status({ offline: true })), 'offline');
  assert.equal(overallState(status()), 'ok');
});

test('events patch the matching account only', () => {
  const s = status({ accounts: [account(), account({ email: 'b@example.test' })] });
  const progress = {
    phase: 'initial' as const,
    messagesTotal: 50,
    messagesSynced: 20,
    bytesSynced: 9,
    eta: null,
    folders: [],
    sizesKnown: true,
  };
  const next = applyEvent(s, { type: 'sync-progress', email: 'b@example.test', progress });
  assert.equal(next?.accounts[1]?.sync.messagesSynced, 20);
  assert.equal(next?.accounts[0], s.accounts[0]);
  const failed = applyEvent(next, {
    type: 'connection',
    email: 'a@example.test',
    state: 'tls-failed',
    error: 'bad cert',
  });
  assert.equal(failed?.accounts[0]?.connection, 'tls-failed');
  assert.equal(failed?.accounts[0]?.lastError, 'bad cert');
  const back = applyEvent(failed, {
    type: 'connection',
    email: 'a@example.test',
    state: 'online',
    error: null,
  });
  assert.equal(back?.accounts[0]?.lastError, null);
  assert.equal(
    applyEvent(s, { type: 'sync-progress', email: 'zz@x', progress }),
    s,
    'unknown account: unchanged',
  );
  const replaced = status({ offline: true });
  assert.equal(applyEvent(s, { type: 'status', status: replaced }), replaced);
  assert.equal(applyEvent(null, { type: 'sync-progress', email: 'a', progress }), null);
});

test('form rules: passphrases, settings patches, addresses, PEM', () => {
  assert.match(passphraseProblem('short', 'short') ?? '', /at least 8/);
  assert.match(passphraseProblem('long enough', 'long enougH') ?? '', /not the same/);
  assert.equal(passphraseProblem('long enough', 'long enough'), null);
  const before = { sign: true, imapPort: 1143, encryptPolicy: 'when-possible' } as Settings;
  const after = { ...before, sign: false, encryptPolicy: 'always' } as Settings;
  assert.deepEqual(settingsPatch(before, after), { sign: false, encryptPolicy: 'always' });
  assert.deepEqual(settingsPatch(before, before), {});
  assert.ok(looksLikeEmail('you@example.org'));
  assert.ok(!looksLikeEmail('you@localhost'));
  assert.ok(!looksLikeEmail('no at sign'));
  assert.ok(isPemCertificate('-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n'));
  assert.ok(!isPemCertificate('-----BEGIN PRIVATE KEY-----'));
});

test('header: "No accounts yet" when there are none (not "Up to date")', () => {
  assert.equal(overallState(status({ accounts: [] })), 'no-accounts');
  assert.equal(STATE_LABEL['no-accounts'], 'No accounts yet');
});

test('progress: indeterminate until folder sizes are known, then a percentage that never goes back within a sync', () => {
  const sync = (over: Partial<AccountStatus['sync']>): AccountStatus['sync'] => ({
    phase: 'initial',
    messagesTotal: 0,
    messagesSynced: 0,
    bytesSynced: 0,
    eta: null,
    folders: [],
    sizesKnown: false,
    ...over,
  });
  // a new account: no "0 of 0 · 100 %"
  const fresh = progressView(account({ sync: sync({ phase: 'idle' }), connection: 'connecting' }), null);
  assert.equal(fresh.view.percent, null);
  assert.equal(fresh.view.detail, 'Counting messages…');
  assert.equal(
    progressView(account({ sync: sync({ phase: 'idle' }), connection: 'offline' }), null).view.detail,
    'Not counted yet: waiting for a connection',
  );
  // sizes known: the percentage; new mail raising the total does not move the bar back
  let memo = fresh.memo;
  const shown: number[] = [];
  for (const [synced, total] of [
    [0, 100],
    [50, 100],
    [50, 200],
    [120, 200],
    [200, 200],
  ] as const) {
    const r = progressView(
      account({ sync: sync({ messagesSynced: synced, messagesTotal: total, sizesKnown: true }) }),
      memo,
    );
    memo = r.memo;
    shown.push(r.view.percent as number);
  }
  assert.deepEqual(shown, [0, 50, 50, 60, 100]);
  // the next sync starts afresh
  const idle = progressView(
    account({ sync: sync({ phase: 'idle', messagesSynced: 200, messagesTotal: 200, sizesKnown: true }) }),
    memo,
  );
  const next = progressView(
    account({
      sync: sync({ phase: 'incremental', messagesSynced: 200, messagesTotal: 400, sizesKnown: true }),
    }),
    idle.memo,
  );
  assert.equal(next.view.percent, 50);
});

test('settings: a restart notice only for start-time settings that differ from what runs', () => {
  const running = status({
    ports: { imap: 41000, smtp: 41001, control: 3 },
    serving: { tlsMode: 'starttls', allowPlaintextLoopback: false, imapCompress: true },
  });
  const form = {
    ...DEFAULT_SETTINGS,
    imapPort: 41000,
    smtpPort: 41001,
    tlsMode: 'starttls' as const,
    imapCompress: true,
  };
  assert.deepEqual(pendingRestart(form, running), {}, 'nothing changed: no notice');
  assert.deepEqual(pendingRestart({ ...form, imapPort: 1143, tlsMode: 'tls' }, running), {
    imapPort: 'IMAP port 1143 applies after a restart of the bridge.',
    tlsMode: 'Applies after a restart of the bridge.',
  });
  assert.deepEqual(pendingRestart(form, status({ ports: { imap: null, smtp: null, control: 3 } })), {});
});
