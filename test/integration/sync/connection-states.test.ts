// verifyProviderLogin's distinct errors (wrong password, untrusted certificate, refused,
// timeout) and the engine's states: auth failure waits for the user, TLS failure, offline mode.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { verifyProviderLogin } from '../../../app/sync/remote/verify-login.ts';
import { ProviderError } from '../../../app/sync/remote/errors.ts';
import type { ProviderEndpoint } from '../../../app/sync/remote/endpoint.ts';
import { localFor, until, msg } from './setup.ts';
import { analyzeMessage } from '../../../app/mime/analyze.ts';

const alice = 'alice@example.test';
let p: Provider;
let silent: Server;
let silentPort = 0;

before(async () => {
  p = await startProvider({ postfix: false });
  await p.addUser(alice, 'right-pw');
  silent = createServer(() => {}); // accepts, never greets
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as { port: number }).port;
});
after(async () => {
  silent?.close();
  await p?.close();
});

function ep(over: Partial<ProviderEndpoint> = {}): ProviderEndpoint {
  return {
    host: '127.0.0.1',
    port: p.imapPort,
    security: 'starttls',
    username: alice,
    password: 'right-pw',
    caPem: p.caPem,
    ...over,
  };
}

async function kindOf(e: ProviderEndpoint, timeoutMs = 2000): Promise<{ kind: string; message: string }> {
  try {
    await verifyProviderLogin(e, { timeoutMs });
  } catch (err) {
    assert.ok(err instanceof ProviderError, String(err));
    return { kind: err.kind, message: err.message };
  }
  return { kind: 'ok', message: '' };
}

test('verifyProviderLogin: success lists the special-use folders', async () => {
  const r = await verifyProviderLogin(ep());
  assert.ok(r.capabilities.includes('IDLE'));
  assert.ok(r.folders.some((f) => f.path === 'Sent' && f.specialUse === '\\Sent'));
});

test('verifyProviderLogin: each failure has its own clear error', async () => {
  const tls = await kindOf(ep({ caPem: null }));
  assert.equal(tls.kind, 'tls');
  assert.match(tls.message, /certificate|--ca/);
  const implicit = await kindOf(ep({ security: 'tls' }));
  assert.equal(implicit.kind, 'tls');
  const refused = await kindOf(ep({ port: 1 }));
  assert.equal(refused.kind, 'unreachable');
  assert.match(refused.message, /connection refused/);
  const timeout = await kindOf(ep({ port: silentPort }));
  assert.equal(timeout.kind, 'timeout');
  // last: a failed login makes Dovecot slow down later logins from this address
  // (Dovecot answers a wrong password only after auth_failure_delay, 2 s)
  const auth = await kindOf(ep({ password: 'wrong' }), 15_000);
  assert.equal(auth.kind, 'auth');
  assert.match(auth.message, /rejected the username or password/);
});

test('engine: a TLS failure is reported as tls-failed and retried', async () => {
  const local = await localFor(p, alice);
  try {
    local.store.accounts.update(local.accountId, { caPem: null });
    const e = local.engine({ backoffBaseMs: 100 });
    e.start();
    await until(() => e.status().connection === 'tls-failed', 10_000, 'tls-failed');
    assert.match(e.status().lastError ?? '', /TLS/);
  } finally {
    await local.close();
  }
});

test('engine: an auth failure waits for the user, then recovers', async () => {
  const local = await localFor(p, alice);
  try {
    local.store.accounts.update(local.accountId, { providerPassword: 'stale' });
    const e = local.engine({ backoffBaseMs: 100 });
    const states: string[] = [];
    e.on((ev) => {
      if (ev.type === 'connection') states.push(ev.state);
    });
    e.start();
    await until(() => e.status().connection === 'auth-failed', 45_000, 'auth-failed');
    assert.match(e.status().lastError ?? '', /password/);
    const failedAt = states.length;
    // No retry loop on its own: a retry would show as a 'connecting' event (another failure would
    // end in 'auth-failed' again, so the final state alone cannot tell). Five backoff periods pass.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(states.slice(failedAt), [], 'no connection attempt while waiting for the user');
    assert.equal(e.status().connection, 'auth-failed');
    local.store.accounts.update(local.accountId, { providerPassword: 'right-pw' });
    e.credentialsChanged();
    await e.whenSynced(30_000);
    assert.equal(e.status().connection, 'online');
    assert.equal(e.status().lastError, null);
  } finally {
    await local.close();
  }
});

// The silent server accepts and never greets: the engine's connection attempt waits for the
// greeting until its socket timeout (50 s; the greeting limit is its probe interval, 10 min here).
// The old code's stop() waited that out (a bridge stopped during an outage; body-cache-offline's
// stop test, up to 15 s). STOP_DEADLINE_MS tells that from stopping at once, as a reply deadline does.
const STOP_DEADLINE_MS = 30_000;
test('engine: stopping gives up a connection still waiting for the greeting', async () => {
  const local = await localFor(p, alice, undefined, { port: silentPort });
  let accepted = 0;
  const onConnection = () => accepted++;
  silent.on('connection', onConnection);
  let deadline: NodeJS.Timeout | undefined;
  try {
    const e = local.engine({ probeEveryMs: 600_000 });
    e.start();
    await until(() => accepted > 0 && e.status().connection === 'connecting', 30_000, 'an attempt made');
    await Promise.race([
      e.stop(),
      new Promise((_, reject) => {
        deadline = setTimeout(
          () => reject(new Error('stop() still waits for the connection attempt')),
          STOP_DEADLINE_MS,
        );
      }),
    ]);
    assert.equal(e.status().connection, 'offline');
  } finally {
    clearTimeout(deadline);
    silent.off('connection', onConnection);
    await local.close();
  }
});

test('engine: --offline never connects and queues local changes', async () => {
  const local = await localFor(p, alice);
  try {
    const e = local.engine({ offline: true });
    e.start();
    assert.equal(e.status().connection, 'offline');
    const box = local.store.mailboxes.create(local.accountId, 'Offline');
    const raw = Buffer.from(msg(1));
    local.store.messages.insert(box.id, { raw, analysis: analyzeMessage(raw) });
    // both changes queued is the event that shows the engine has seen them
    await until(() => e.status().pending === 2, 60_000, 'mailbox-create + append queued');
    assert.equal(e.status().connection, 'offline');
    const st = await p.mailboxStatus(alice, 'INBOX');
    assert.ok(st.uidnext !== undefined);
    await assert.rejects(p.mailboxStatus(alice, 'Offline'));
  } finally {
    await local.close();
  }
});
