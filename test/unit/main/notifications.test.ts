// Notifications: key-change warnings and failed sends become short OS notifications that carry
// addresses, short fingerprints and the engine's one-line reason — never message content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BridgeEvent } from '../../../app/control/contract.ts';
import {
  notificationFor,
  shortFingerprint,
  wireNotifications,
  type NotificationText,
} from '../../../main/notifications.ts';

const keyChange: BridgeEvent = {
  type: 'key-change',
  warning: {
    id: 'w1',
    email: 'bob@example.org',
    oldFingerprint: 'AAAA BBBB CCCC DDDD EEEE FFFF 0000 1111 2222 3333',
    newFingerprint: '0123456789abcdef0123456789abcdef12345678',
    source: 'autocrypt',
    seenAt: '2025-01-01T00:00:00Z',
  },
};

test('shortFingerprint: the last 8 hex digits, grouped', () => {
  assert.equal(shortFingerprint('0123456789abcdef0123456789abcdef12345678'), '1234 5678');
  assert.equal(shortFingerprint('AAAA BBBB CCCC DDDD EEEE FFFF 0000 1111 2222 3333'), '2222 3333');
  assert.equal(shortFingerprint('abc'), 'ABC');
});

test('key change: who, old and new key, where it came from; leads to the keys page', () => {
  assert.deepEqual(notificationFor(keyChange), {
    title: 'The key of bob@example.org changed',
    body: 'New key …1234 5678 (was …2222 3333), found via autocrypt. Check it with bob@example.org before trusting it.',
    route: 'keys',
  });
});

test('failed send: the account and the one-line reason; leads to the outbox', () => {
  const n = notificationFor({
    type: 'send-failed',
    email: 'me@example.org',
    id: 'o1',
    reason: '550 5.1.1 mailbox unavailable\r\n  (more text)',
  });
  assert.deepEqual(n, {
    title: 'A message could not be sent',
    body: 'From me@example.org: 550 5.1.1 mailbox unavailable (more text). It is kept in the outbox.',
    route: 'outbox',
  });
  const long = notificationFor({
    type: 'send-failed',
    email: 'me@example.org',
    id: 'o1',
    reason: 'x'.repeat(1000),
  });
  assert.ok(long!.body.length < 250);
});

test('other events make no notification; nothing beyond the event fields is read', () => {
  const others: BridgeEvent[] = [
    { type: 'log', line: { time: 't', level: 'error', msg: 'Subject: secret plans' } },
    { type: 'connection', email: 'a@example.org', state: 'error', error: 'x' },
    { type: 'import-progress', email: 'a@example.org', imported: 1, bytes: 1, totalBytes: null },
  ];
  for (const e of others) assert.equal(notificationFor(e), null);
  // an event carrying extra (unexpected) content: the notification text does not include it
  const withExtra = { ...keyChange, subject: 'Top secret', body: 'Attack at dawn' } as unknown as BridgeEvent;
  const text = JSON.stringify(notificationFor(withExtra));
  assert.ok(!text.includes('secret') && !text.includes('dawn'));
});

test('wiring shows one notification per qualifying event, none when unsupported', () => {
  let listener: ((e: BridgeEvent) => void) | null = null;
  const shown: NotificationText[] = [];
  let supported = true;
  const off = wireNotifications(
    (l) => {
      listener = l;
      return () => (listener = null);
    },
    { isSupported: () => supported, show: (t) => shown.push(t) },
  );
  listener!(keyChange);
  listener!({ type: 'log', line: { time: 't', level: 'info', msg: 'm' } });
  supported = false;
  listener!(keyChange);
  assert.equal(shown.length, 1);
  off();
  assert.equal(listener, null);
});
