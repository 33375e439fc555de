import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchBySize, toUidSet } from '../../../app/sync/uid-range.ts';
import { classifyProviderError, ProviderError } from '../../../app/sync/remote/errors.ts';
import { Backoff } from '../../../app/sync/backoff.ts';
import { ProgressTracker } from '../../../app/sync/progress.ts';
import { localNameOf, remoteNameOf } from '../../../app/sync/folders.ts';

test('toUidSet compacts runs', () => {
  assert.equal(toUidSet([7, 1, 2, 3, 9, 10]), '1:3,7,9:10');
  assert.equal(toUidSet([5]), '5');
  assert.equal(toUidSet([]), '');
});

test('batchBySize bounds count and bytes, keeps order, never drops a big message', () => {
  const items = [
    { uid: 1, size: 10 },
    { uid: 2, size: 10 },
    { uid: 3, size: 100 },
    { uid: 4, size: 10 },
  ];
  assert.deepEqual(
    batchBySize(items, 2, 50).map((b) => b.map((x) => x.uid)),
    [[1, 2], [3], [4]],
  );
  assert.deepEqual(
    batchBySize(items, 10, 1000).map((b) => b.length),
    [4],
  );
});

test('provider errors are classified with clear messages', () => {
  const at = { host: 'imap.example', port: 143 };
  const auth = classifyProviderError(
    Object.assign(new Error('Command failed'), { authenticationFailed: true }),
    at,
  );
  assert.equal(auth.kind, 'auth');
  assert.match(auth.message, /rejected the username or password/);
  const tls = classifyProviderError(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), at);
  assert.equal(tls.kind, 'tls');
  assert.match(tls.message, /--ca/);
  const refused = classifyProviderError(
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    at,
  );
  assert.equal(refused.kind, 'unreachable');
  assert.match(refused.message, /connection refused/);
  const dns = classifyProviderError(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), at);
  assert.match(dns.message, /host not found/);
  const slow = classifyProviderError(Object.assign(new Error('Socket timeout'), { code: 'ETIMEOUT' }), at);
  assert.equal(slow.kind, 'timeout');
  // nodemailer's greeting timeout: code ETIMEDOUT (not /TIMEOUT/), a message without "timeout"
  const greeting = classifyProviderError(
    Object.assign(new Error('Greeting never received'), {
      code: 'ETIMEDOUT',
      timeoutType: 'GREETING_TIMEOUT',
    }),
    at,
  );
  assert.equal(greeting.kind, 'timeout');
  const sysTimeout = classifyProviderError(Object.assign(new Error('connect'), { code: 'ETIMEDOUT' }), at);
  assert.equal(sysTimeout.kind, 'timeout');
  const plain = classifyProviderError(
    Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
    at,
  );
  assert.match(plain.message, /does not speak TLS/);
  const same = new ProviderError('quota', 'full');
  assert.equal(classifyProviderError(same, at), same);
});

test('backoff doubles up to the cap and resets', () => {
  const b = new Backoff(100, 1000);
  const xs = Array.from({ length: 6 }, () => b.next());
  assert.ok(xs[0]! >= 80 && xs[0]! <= 120);
  assert.ok(xs[2]! >= 320 && xs[2]! <= 480);
  assert.ok(xs[5]! <= 1200);
  b.reset();
  assert.ok(b.next() <= 120);
});

test('progress snapshot sums folders and estimates an ETA', async () => {
  const p = new ProgressTracker();
  p.setFolder('INBOX', 100, 0);
  p.setFolder('Sent', 50, 0);
  p.begin('initial');
  await new Promise((r) => setTimeout(r, 20));
  p.add('INBOX', 30, 3000);
  const s = p.snapshot();
  assert.equal(s.messagesTotal, 150);
  assert.equal(s.messagesSynced, 30);
  assert.equal(s.bytesSynced, 3000);
  assert.ok(s.eta !== null && s.eta >= 0);
  assert.deepEqual(
    s.folders.map((f) => f.name),
    ['INBOX', 'Sent'],
  );
});

test('folder names map between provider delimiters and "/"', () => {
  assert.equal(
    localNameOf({
      path: 'INBOX',
      delimiter: '.',
      specialUse: null,
      subscribed: true,
      selectable: true,
      messages: null,
    }),
    'INBOX',
  );
  assert.equal(
    localNameOf({
      path: 'Work.2026',
      delimiter: '.',
      specialUse: null,
      subscribed: true,
      selectable: true,
      messages: null,
    }),
    'Work/2026',
  );
  assert.equal(remoteNameOf('Work/2026', '.'), 'Work.2026');
  assert.equal(remoteNameOf('Work/2026', '/'), 'Work/2026');
});
