// The headless product end to end: init → account add (verified against a real Dovecot) →
// serve → a real IMAP client (imapflow) logs in with the local password over STARTTLS trusting the
// local CA → `lockbridge import` run while serving goes through the control API and the IDLE-ing
// client sees the new message at once → status/credentials through the running bridge → a second
// serve on the same directory exits 1 → SIGTERM shuts down cleanly with exit 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { cli, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';

const home = tempHome();
const PASS = 'serve flow passphrase';
const LOCAL = 'serve-flow-local-pw';
const env = {
  LOCKBRIDGE_PASSPHRASE: PASS,
  LOCKBRIDGE_LOCAL_PASSWORD: LOCAL,
  LOCKBRIDGE_PROVIDER_PASSWORD: 'provider-pw',
};
let provider: Provider;
let bridge: ServeHandle | null = null;
let caPem = '';

before(async () => {
  provider = await startProvider();
  await provider.addUser('flow@example.test', 'provider-pw');
});
after(async () => {
  await bridge?.stop('SIGKILL');
  await provider.close();
  home.cleanup();
});

test('init and account add (login verified; wrong password and unreachable host refused)', () => {
  assert.equal(cli(['--home', home.dir, 'init'], env).status, 0);
  const ca = join(home.dir, '..', `provider-ca-${process.pid}.pem`);
  writeFileSync(ca, provider.caPem);
  const base = [
    '--home',
    home.dir,
    'account',
    'add',
    '--email',
    'flow@example.test',
    '--smtp',
    `127.0.0.1:${provider.smtpPort}`,
  ];
  const imap = `127.0.0.1:${provider.imapPort}`;

  const wrong = cli([...base, '--imap', imap, '--security', 'starttls', '--ca', ca], {
    ...env,
    LOCKBRIDGE_PROVIDER_PASSWORD: 'nope',
  });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /password|authenticat|login/i);

  const untrusted = cli([...base, '--imap', imap, '--security', 'starttls'], env);
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /certificate|TLS/i);

  const unreachable = cli([...base, '--imap', '127.0.0.1:1', '--security', 'starttls', '--ca', ca], env);
  assert.equal(unreachable.status, 1);
  assert.match(unreachable.stderr, /reach|refused|connect/i);

  const ok = cli([...base, '--imap', imap, '--security', 'starttls', '--ca', ca], env);
  assert.equal(ok.status, 0, ok.stderr);
  const list = cli(['--home', home.dir, 'account', 'list', '--json'], env);
  assert.equal(JSON.parse(list.stdout)[0].email, 'flow@example.test');
  const keys = JSON.parse(cli(['--home', home.dir, 'keys', 'list', '--json'], env).stdout);
  assert.ok(
    keys.some((k: { own: boolean; email: string }) => k.own && k.email === 'flow@example.test'),
    'own key made',
  );
  caPem = JSON.parse(cli(['--home', home.dir, 'credentials', '--json'], env).stdout).caPem;
});

test('serve prints one ready line; a second serve on the same directory exits 1', async () => {
  bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  assert.ok(bridge.ready.imap > 0 && bridge.ready.smtp > 0 && bridge.ready.control > 0);
  assert.ok(existsSync(join(home.dir, 'control.token')));
  const second = cli(['--home', home.dir, 'serve', '--imap-port', '0', '--smtp-port', '0', '--offline'], env);
  assert.equal(second.status, 1);
  assert.match(second.stderr, /already/i);
});

test('an IDLE-ing IMAP client sees a message imported through the running bridge', async () => {
  assert.ok(bridge);
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: bridge.ready.imap,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: [caPem], servername: 'localhost' },
    auth: { user: 'flow@example.test', pass: LOCAL },
    logger: false,
  });
  await client.connect();
  try {
    const box = await client.mailboxOpen('INBOX');
    const before = box.exists;
    const seen = new Promise<number>((resolve) =>
      client.on('exists', (e: { count: number }) => resolve(e.count)),
    );
    const idling = client.idle();
    const eml = join(home.dir, '..', `flow-${process.pid}.eml`);
    writeFileSync(
      eml,
      'From: someone@example.test\r\nTo: flow@example.test\r\nSubject: imported while serving\r\nMessage-ID: <imp1@example.test>\r\n\r\nhello from import\r\n',
    );
    const imp = cli(['--home', home.dir, 'import', '--account', 'flow@example.test', eml], {
      LOCKBRIDGE_PASSPHRASE: undefined,
    });
    assert.equal(imp.status, 0, `import through the control API (no passphrase needed): ${imp.stderr}`);
    const count = await seen;
    assert.equal(count, before + 1);
    await client.messageFlagsAdd('1:*', []);
    void idling;
    const msg = await client.fetchOne(String(count), { source: true, envelope: true });
    assert.ok(msg);
    assert.equal(msg.envelope?.subject, 'imported while serving');
    assert.match(msg.source?.toString() ?? '', /hello from import/);
  } finally {
    await client.logout();
  }
});

test('status and credentials go through the running bridge', () => {
  const st = cli(['--home', home.dir, 'status', '--json'], { LOCKBRIDGE_PASSPHRASE: undefined });
  assert.equal(st.status, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  assert.equal(s.running, true);
  assert.equal(s.ports.imap, bridge?.ready.imap);
  const cr = cli(['--home', home.dir, 'credentials', '--json'], { LOCKBRIDGE_PASSPHRASE: undefined });
  assert.equal(JSON.parse(cr.stdout).password, LOCAL);
});

test('SIGTERM: clean shutdown, exit 0, control token removed', async () => {
  assert.ok(bridge);
  const code = await bridge.stop('SIGTERM');
  bridge = null;
  assert.equal(code, 0);
  assert.ok(!existsSync(join(home.dir, 'control.token')));
});
