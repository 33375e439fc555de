// mbsync (isync) against the product exactly as `lockbridge credentials` describes it: the printed
// host, port, security, username and password, and the CA it writes — with certificate
// verification on (STARTTLS, CertificateFile). The message was delivered to the provider (real
// Dovecot) and reaches the maildir through the bridge's sync; a client that does not trust the CA
// is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProvider, type Provider } from '../../helpers/provider.ts';
import { cli, initWithAccount, serve, tempHome, type ServeHandle } from '../../helpers/cli.ts';

const run = promisify(execFile);
const home = tempHome();
const EMAIL = 'mbsync@example.test';
const env = { LOCKBRIDGE_PASSPHRASE: 'mbsync verified pass', LOCKBRIDGE_PROVIDER_PASSWORD: 'provider-pw' };
let provider: Provider;
let bridge: ServeHandle | null = null;

before(async () => {
  provider = await startProvider();
  await provider.addUser(EMAIL, 'provider-pw');
  await provider.deliver(
    `From: a@example.test\r\nTo: ${EMAIL}\r\nSubject: verified hello\r\nMessage-ID: <mv1@example.test>\r\n\r\nbody\r\n`,
    { to: [EMAIL] },
  );
  initWithAccount(home.dir, EMAIL, provider, env);
  bridge = await serve(home.dir, ['--imap-port', '0', '--smtp-port', '0'], env);
});
after(async () => {
  await bridge?.stop('SIGTERM');
  await provider.close();
  home.cleanup();
});

function mbsyncrc(dir: string, c: Record<string, unknown>, caFile: string): string {
  const imap = c.imap as { port: number; security: string };
  assert.equal(imap.security, 'starttls', 'the default the README documents');
  const local = join(dir, 'mail');
  mkdirSync(local, { recursive: true });
  const rc = join(dir, 'mbsyncrc');
  writeFileSync(
    rc,
    [
      'IMAPAccount lb',
      `Host ${c.host as string}`,
      `Port ${imap.port}`,
      `User ${(c.usernames as string[])[0]}`,
      `Pass ${c.password as string}`,
      'SSLType STARTTLS',
      `CertificateFile ${caFile}`,
      '',
      'IMAPStore remote',
      'Account lb',
      '',
      'MaildirStore local',
      `Path ${local}/`,
      `Inbox ${local}/INBOX`,
      '',
      'Channel lb',
      'Far :remote:',
      'Near :local:',
      'Patterns INBOX',
      'Create Near',
      'SyncState *',
      '',
    ].join('\n'),
  );
  return rc;
}

test('mbsync with the printed settings and certificate verification on syncs the Inbox', async () => {
  const caFile = join(home.dir, '..', `mbsync-lb-ca-${process.pid}.pem`);
  const out = cli(['--home', home.dir, 'credentials', '--json', '--cert', caFile], {});
  assert.equal(out.status, 0, out.stderr);
  const c = JSON.parse(out.stdout) as Record<string, unknown>;
  assert.equal(c.host, '127.0.0.1');
  assert.deepEqual(c.usernames, [EMAIL]);
  const dir = join(home.dir, '..', `mbsync-verified-${process.pid}`);
  const rc = mbsyncrc(dir, c, caFile);
  // the bridge may still be fetching the Inbox from the provider: sync until the message is there
  let names: string[] = [];
  for (let attempt = 0; names.length === 0; attempt++) {
    const res = await run('mbsync', ['-c', rc, '-V', 'lb'], { timeout: 60_000 }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    assert.doesNotMatch(res.stderr, /certificate|SSL|error/i, `mbsync:\n${res.stdout}${res.stderr}`);
    const inbox = join(dir, 'mail', 'INBOX');
    names = [...readdirSync(join(inbox, 'cur')), ...readdirSync(join(inbox, 'new'))].map((n) =>
      readFileSync(join(inbox, readdirSync(join(inbox, 'cur')).includes(n) ? 'cur' : 'new', n), 'utf8'),
    );
    if (names.length === 0) {
      assert.ok(attempt < 120, 'the message reached the bridge');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  assert.equal(names.length, 1);
  assert.match(names[0]!, /Subject: verified hello/);
});

test('mbsync trusting another CA is refused (verification is really on)', async () => {
  const dir = join(home.dir, '..', `mbsync-untrusted-${process.pid}`);
  const c = JSON.parse(cli(['--home', home.dir, 'credentials', '--json'], {}).stdout) as Record<
    string,
    unknown
  >;
  const rc = mbsyncrc(dir, c, provider.caPem ? writeCa(dir) : '');
  const res = await run('mbsync', ['-c', rc, '-V', 'lb'], { timeout: 60_000 }).then(
    () => null,
    (e: { stderr: string }) => e,
  );
  assert.ok(res, 'mbsync fails');
  assert.match(res.stderr, /certificate/i);
});

function writeCa(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const f = join(dir, 'other-ca.pem');
  writeFileSync(f, provider.caPem);
  return f;
}
