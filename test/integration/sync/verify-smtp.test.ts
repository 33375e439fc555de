// Issue 13 item 9: `account add` checks the SMTP login as well as the IMAP one (real Postfix with
// Dovecot SASL), with the same one-line errors; an account whose SMTP port is dead is not saved;
// and the TLS hint does not say "pass --ca FILE" when a CA was given.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startProvider, freePort, type Provider } from '../../helpers/provider.ts';
import { createTestCa } from '../../helpers/https-ca.ts';
import { verifyProviderLogin, verifySmtpLogin } from '../../../app/sync/remote/verify-login.ts';
import { ProviderError } from '../../../app/sync/remote/errors.ts';
import type { ProviderEndpoint } from '../../../app/sync/remote/endpoint.ts';
import { createBridge, initHome, type Bridge } from '../../../app/index.ts';
import { LogRing } from '../../../app/config/logging.ts';
import { silentLogger } from '../../../app/shared/logger.ts';

const alice = 'alice@example.test';
let p: Provider;
let silent: Server;
let silentPort = 0;
let otherCa = '';

before(async () => {
  p = await startProvider();
  await p.addUser(alice, 'right-pw');
  silent = createServer(() => {}); // accepts, never greets
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as { port: number }).port;
  otherCa = (await createTestCa('Some Other CA')).caPem;
});
after(async () => {
  silent?.close();
  await p?.close();
});

function smtp(over: Partial<ProviderEndpoint> = {}): ProviderEndpoint {
  return {
    host: '127.0.0.1',
    port: p.smtpPort,
    security: 'starttls',
    username: alice,
    password: 'right-pw',
    caPem: p.caPem,
    ...over,
  };
}

async function failure(run: () => Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof ProviderError, String(err));
    assert.doesNotMatch(err.message, /[\r\n]/);
    return { kind: err.kind, message: err.message };
  }
  return { kind: 'ok', message: '' };
}

test('verifySmtpLogin: a good login passes; each failure has its own one-line error', async () => {
  await verifySmtpLogin(smtp());
  const refused = await failure(async () => verifySmtpLogin(smtp({ port: await freePort() })));
  assert.equal(refused.kind, 'unreachable');
  assert.match(
    refused.message,
    /^cannot reach the provider at 127\.0\.0\.1:\d+ \(SMTP\): connection refused$/,
  );
  const timeout = await failure(() => verifySmtpLogin(smtp({ port: silentPort }), { timeoutMs: 2000 }));
  assert.equal(timeout.kind, 'timeout', timeout.message);
  const wrongCa = await failure(() => verifySmtpLogin(smtp({ caPem: otherCa })));
  assert.equal(wrongCa.kind, 'tls');
  assert.match(wrongCa.message, /not signed by the CA given with --ca/);
  assert.doesNotMatch(wrongCa.message, /pass --ca/);
  const noCa = await failure(() => verifySmtpLogin(smtp({ caPem: null })));
  assert.equal(noCa.kind, 'tls');
  assert.match(noCa.message, /pass --ca FILE/);
  const auth = await failure(() => verifySmtpLogin(smtp({ password: 'wrong' })));
  assert.equal(auth.kind, 'auth');
  assert.match(auth.message, /^the provider at 127\.0\.0\.1:\d+ \(SMTP\) rejected the username or password$/);
});

test('the IMAP check names the CA given with --ca instead of asking for --ca', async () => {
  const r = await failure(() =>
    verifyProviderLogin({ ...smtp({ caPem: otherCa }), port: p.imapPort }, { timeoutMs: 5000 }),
  );
  assert.equal(r.kind, 'tls');
  assert.match(r.message, /not signed by the CA given with --ca/);
});

test('addAccount refuses an account whose SMTP port is dead, and saves nothing', async () => {
  const home = mkdtempSync(join(tmpdir(), 'lb-verify-smtp-'));
  let bridge: Bridge | null = null;
  try {
    await initHome({ home, passphrase: 'verify smtp pass', localPassword: 'x-local', logger: silentLogger });
    bridge = await createBridge({
      home,
      passphrase: 'verify smtp pass',
      logger: silentLogger,
      logs: new LogRing(),
    });
    const dead = await freePort();
    const input = {
      email: alice,
      imap: { host: '127.0.0.1', port: p.imapPort },
      smtp: { host: '127.0.0.1', port: dead },
      security: 'starttls' as const,
      password: 'right-pw',
      caPem: p.caPem,
    };
    await assert.rejects(bridge.api.addAccount(input), (err: Error) => {
      assert.equal(err.message, `cannot reach the provider at 127.0.0.1:${dead} (SMTP): connection refused`);
      return true;
    });
    assert.deepEqual(await bridge.api.listAccounts(), []);
    const ok = await bridge.api.addAccount({ ...input, smtp: { host: '127.0.0.1', port: p.smtpPort } });
    assert.equal(ok.email, alice);
  } finally {
    await bridge?.close();
    rmSync(home, { recursive: true, force: true });
  }
});
