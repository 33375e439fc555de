/** OutboxWorker lifecycle details on the real store: shutdown bound, retention, status, give-up. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Store } from '../../../app/store/store.ts';
import { newStore, reopen } from '../../unit/store/helpers.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { OutboxWorker, isPermanent, backoffDelay, DEFAULT_BACKOFF } from '../../../app/sync/outbox/worker.ts';
import { SinkServer } from './sink-server.ts';

/** Waits for an observed state (a deadline only so that a broken build fails instead of hanging). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; !cond();) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const MSG = Buffer.from(
  'From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nMessage-ID: <w@example.org>\r\n\r\nhi\r\n',
);

describe('outbox worker lifecycle', () => {
  let dir: string;
  let store: Store;
  let sink: SinkServer;
  let silent: net.Server;
  let silentPort: number;
  const sockets = new Set<net.Socket>();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lb-worker-'));
    store = await newStore(dir);
    sink = new SinkServer();
    await sink.start();
    // a provider that accepts TCP but never greets
    silent = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    silentPort = (silent.address() as AddressInfo).port;
  });
  after(async () => {
    await sink.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function account(email: string, port: number): number {
    return store.accounts.create({
      email,
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port },
      security: 'none',
      username: 'provider-user',
      providerPassword: 'provider-pass',
    }).id;
  }

  it('classifies errors: 5xx in the transaction is permanent; auth, TLS, 4xx, network are not', () => {
    assert.equal(
      isPermanent({ name: 'E', message: '', code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }),
      true,
    );
    assert.equal(
      isPermanent({ name: 'E', message: '', code: 'EMESSAGE', responseCode: 554, command: 'DATA' }),
      true,
    );
    assert.equal(
      isPermanent({ name: 'E', message: '', code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }),
      false,
    );
    assert.equal(
      isPermanent({ name: 'E', message: '', code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }),
      false,
    );
    assert.equal(isPermanent({ name: 'E', message: '', code: 'ECONNECTION' }), false);
    assert.equal(backoffDelay(1, DEFAULT_BACKOFF), 5_000);
    assert.equal(backoffDelay(3, DEFAULT_BACKOFF), 20_000);
    assert.equal(backoffDelay(30, DEFAULT_BACKOFF), DEFAULT_BACKOFF.maxMs);
  });

  it('a wrong provider password keeps the message queued with a clear error (no bounce)', async () => {
    const id = store.accounts.create({
      email: 'wrongpw@example.org',
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: sink.port },
      security: 'none',
      username: 'provider-user',
      providerPassword: 'nope',
    }).id;
    const item = store.outbox.enqueue(
      id,
      { from: 'wrongpw@example.org', to: ['b@example.net'], messageId: '<x>' },
      MSG,
    );
    const w = new OutboxWorker({ store, logger: silentLogger });
    assert.equal(await w.runOnce(), 1);
    const row = store.outbox.get(item)!;
    assert.equal(row.state, 'queued');
    assert.match(row.lastError ?? '', /535|bad provider login/);
    assert.equal(w.status(id).lastError, row.lastError);
    store.outbox.remove(item);
  });

  it('some recipients refused, others accepted: sent, with a notice naming the refused ones', async () => {
    const id = account('partial@example.org', sink.port);
    sink.refuse.add('ghost@example.net');
    const notices: Buffer[] = [];
    const w = new OutboxWorker({
      store,
      logger: silentLogger,
      deliverNotice: (_a, raw) => notices.push(raw),
    });
    const before = sink.received.length;
    const item = store.outbox.enqueue(
      id,
      {
        from: 'partial@example.org',
        to: ['b@example.net', 'ghost@example.net'],
        messageId: '<p@x>',
        subject: 'partial',
      },
      MSG,
    );
    assert.equal(await w.runOnce(), 1);
    sink.refuse.clear();
    assert.equal(store.outbox.get(item)!.state, 'sent');
    assert.deepEqual(sink.received[before]!.to, ['b@example.net']);
    assert.equal(notices.length, 1);
    const n = notices[0]!.toString();
    assert.match(n, /Recipients: ghost@example\.net/);
    assert.match(n, /It WAS delivered to: b@example\.net/);
    assert.match(n, /550.*User unknown/);
  });

  it('stop() is bounded: a hanging provider is aborted and the copy stays queued for later', async () => {
    const id = account('hang@example.org', silentPort);
    const item = store.outbox.enqueue(
      id,
      { from: 'hang@example.org', to: ['b@example.net'], messageId: '<h>' },
      MSG,
    );
    const w = new OutboxWorker({ store, logger: silentLogger, stopTimeoutMs: 200, timeoutMs: 60_000 });
    w.start();
    await until(() => store.outbox.get(item)!.state === 'sending', 'the send to the silent provider began');
    // stop() returning at all, with the send still hanging, is what proves the stop timeout
    await w.stop();
    assert.equal(store.outbox.get(item)!.state, 'queued');
    store.outbox.remove(item);
  });

  it('removes sent items after the retention period and gives up on very old ones with a notice', async () => {
    const id = account('old@example.org', sink.port);
    const a = store.outbox.enqueue(
      id,
      { from: 'old@example.org', to: ['b@example.net'], messageId: '<a>' },
      MSG,
    );
    let now = Date.now();
    const notices: Buffer[] = [];
    const w = new OutboxWorker({
      store,
      logger: silentLogger,
      now: () => now,
      sentRetentionMs: 1000,
      backoff: { maxAgeMs: 60_000 },
      deliverNotice: (_acc, raw) => notices.push(raw),
    });
    assert.equal(await w.runOnce(), 1);
    assert.equal(store.outbox.get(a)!.state, 'sent');
    now += 2000;
    await w.runOnce();
    assert.equal(store.outbox.get(a), null, 'pruned');
    const b = store.outbox.enqueue(
      id,
      { from: 'old@example.org', to: ['c@example.net'], messageId: '<b>', subject: 'stale' },
      MSG,
    );
    now += 120_000;
    assert.equal(await w.runOnce(), 1);
    assert.equal(store.outbox.get(b)!.state, 'failed');
    assert.equal(notices.length, 1);
    assert.match(notices[0]!.toString(), /gave up after 0 attempts/);
  });

  it('the outbox survives closing and reopening the store (restart): delivered once afterwards', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'lb-worker-restart-'));
    let s2 = await newStore(d2);
    const acc = s2.accounts.create({
      email: 'restart@example.org',
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: sink.port },
      security: 'none',
      username: 'provider-user',
      providerPassword: 'provider-pass',
    }).id;
    const raw = Buffer.from(MSG.toString().replace('<w@example.org>', '<restart@example.org>'));
    const id = s2.outbox.enqueue(
      acc,
      { from: 'restart@example.org', to: ['b@example.net'], messageId: '<restart@example.org>' },
      raw,
    );
    s2.outbox.setState(id, 'sending', { countAttempt: true }); // the process died while sending
    s2.close();
    s2 = await reopen(d2);
    try {
      const before = sink.received.length;
      const w = new OutboxWorker({ store: s2, logger: silentLogger });
      w.start();
      await until(() => s2.outbox.get(id)!.state === 'sent', 'the copy left sending was sent again');
      await w.stop();
      assert.equal(s2.outbox.get(id)!.state, 'sent');
      assert.equal(sink.received.length - before, 1);
      assert.ok(sink.received[sink.received.length - 1]!.raw.includes('<restart@example.org>'));
    } finally {
      s2.close();
      rmSync(d2, { recursive: true, force: true });
    }
  });
});
