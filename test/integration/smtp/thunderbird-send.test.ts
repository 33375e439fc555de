/**
 * Real Thunderbird (headless under Xvfb, driven with xdotool) sends a message through the local
 * SMTP server with STARTTLS (trusting only the local CA) and AUTH; it reaches the provider stand-in
 * as PGP/MIME that gpg decrypts with the recipient's key.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../../app/store/store.ts';
import { newStore } from '../../unit/store/helpers.ts';
import { Keyring } from '../../../app/keys/keyring.ts';
import { InMemoryKeyringRepo } from '../../helpers/memory-keyring-repo.ts';
import { DEFAULT_SETTINGS } from '../../../app/config/settings.ts';
import { silentLogger } from '../../../app/shared/logger.ts';
import { createLocalTls } from '../../../app/crypto/local-ca.ts';
import { startSmtpServer, type RunningSmtpServer } from '../../../app/smtp/server.ts';
import { createOutgoingMail, type OutgoingMail } from '../../../app/control/adapters/submission.ts';
import { Gpg, makeKey, type TestKey } from './pgp-tools.ts';
import { SinkServer } from './sink-server.ts';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.net';
const LOCAL_PW = 'tb-local-secret';

/** Starts Xvfb on a display it picks itself (-displayfd), so parallel tests never collide. */
async function startXvfb(): Promise<{ proc: ChildProcess; display: number }> {
  const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const display = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const fd3 = proc.stdio[3] as NodeJS.ReadableStream;
    fd3.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(Number(buf.trim()));
    });
    proc.on('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
    setTimeout(() => reject(new Error('Xvfb did not start')), 10_000).unref();
  });
  return { proc, display };
}

function xdo(display: number, args: string[]): string {
  const r = spawnSync('xdotool', args, { env: { ...process.env, DISPLAY: `:${display}` } });
  return r.stdout.toString();
}

async function waitWindow(display: number, name: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const id = xdo(display, ['search', '--name', name]).trim().split('\n')[0];
    if (id) return id;
    if (Date.now() > deadline) throw new Error(`window "${name}" did not appear`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function userJs(smtpPort: number): string {
  const prefs: Record<string, string | number | boolean> = {
    'mail.shell.checkDefaultClient': false,
    'mail.provider.enabled': false,
    'mailnews.start_page.enabled': false,
    'mail.rights.version': 1,
    'toolkit.telemetry.enabled': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'app.update.enabled': false,
    'app.update.auto': false,
    'mail.spotlight.firstRunDone': true,
    'mail.winsearch.firstRunDone': true,
    'mail.accountmanager.accounts': 'account1,account2',
    'mail.accountmanager.defaultaccount': 'account1',
    'mail.accountmanager.localfoldersserver': 'server2',
    'mail.account.account1.identities': 'id1',
    'mail.account.account1.server': 'server1',
    'mail.account.account2.server': 'server2',
    // a POP account that never connects: only the identity and SMTP matter here
    'mail.server.server1.type': 'pop3',
    'mail.server.server1.hostname': '127.0.0.1',
    'mail.server.server1.port': 1,
    'mail.server.server1.userName': ALICE,
    'mail.server.server1.name': ALICE,
    'mail.server.server1.login_at_startup': false,
    'mail.server.server1.check_new_mail': false,
    'mail.server.server1.deferred_to_account': 'account2',
    'mail.server.server2.type': 'none',
    'mail.server.server2.hostname': 'Local Folders',
    'mail.server.server2.userName': 'nobody',
    'mail.server.server2.name': 'Local Folders',
    'mail.identity.id1.fullName': 'Alice',
    'mail.identity.id1.useremail': ALICE,
    'mail.identity.id1.smtpServer': 'smtp1',
    'mail.identity.id1.fcc': false,
    'mail.identity.id1.compose_html': false,
    'mail.identity.id1.valid': true,
    'mail.smtpservers': 'smtp1',
    'mail.smtp.defaultserver': 'smtp1',
    'mail.smtpserver.smtp1.hostname': '127.0.0.1',
    'mail.smtpserver.smtp1.port': smtpPort,
    'mail.smtpserver.smtp1.try_ssl': 2, // STARTTLS
    'mail.smtpserver.smtp1.authMethod': 3, // normal password
    'mail.smtpserver.smtp1.username': ALICE,
    'mail.warn_on_send_accel_key': false,
    'mailnews.show_send_progress': false,
  };
  return Object.entries(prefs)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join('\n');
}

describe('Thunderbird sends through Lockbridge', () => {
  let dir: string;
  let store: Store;
  let sink: SinkServer;
  let out: OutgoingMail;
  let smtp: RunningSmtpServer;
  let gpg: Gpg;
  let bob: TestKey;
  const procs: ChildProcess[] = [];
  let display = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lb-tb-'));
    store = await newStore(join(dir, 'home'));
    sink = new SinkServer();
    await sink.start();
    store.accounts.create({
      email: ALICE,
      imap: { host: '127.0.0.1', port: 1 },
      smtp: { host: '127.0.0.1', port: sink.port },
      security: 'none',
      username: 'provider-user',
      providerPassword: 'provider-pass',
    });
    store.credentials.set(LOCAL_PW);
    const repo = new InMemoryKeyringRepo();
    const keyring = new Keyring({ repo });
    await keyring.own.generate(ALICE);
    bob = await makeKey(BOB);
    await keyring.importKeys(bob.armoredPublic, { source: 'manual' });
    gpg = new Gpg();
    gpg.importKey(bob.armoredSecret);
    gpg.importKey(keyring.own.exportPublic(ALICE));
    out = createOutgoingMail({
      store,
      keyring,
      keyringRepo: repo,
      settings: () => DEFAULT_SETTINGS,
      logger: silentLogger,
      checkDomains: false,
    });
    const tls = await createLocalTls();
    smtp = await startSmtpServer({
      submission: out.adapter,
      logger: silentLogger,
      port: 0,
      tls: { cert: tls.certPem, key: tls.keyPem },
    });
    out.start();

    const profile = join(dir, 'profile');
    spawnSync('mkdir', ['-p', profile]);
    writeFileSync(join(profile, 'user.js'), userJs(smtp.port));
    writeFileSync(join(dir, 'ca.pem'), tls.caCertPem);
    // trust the local CA once, as a user does with `lockbridge credentials --cert`
    for (const args of [
      ['-N', '-d', `sql:${profile}`, '--empty-password'],
      ['-A', '-n', 'lockbridge-local-ca', '-t', 'C,,', '-i', join(dir, 'ca.pem'), '-d', `sql:${profile}`],
    ]) {
      const r = spawnSync('certutil', args);
      assert.equal(r.status, 0, r.stderr.toString());
    }
    const x = await startXvfb();
    procs.push(x.proc);
    display = x.display;
    const tb = spawn(
      'thunderbird',
      [
        '--no-remote',
        '--profile',
        profile,
        '-compose',
        `to='${BOB}',subject='Hello from Thunderbird',body='Sent by a real client'`,
      ],
      { env: { ...process.env, DISPLAY: `:${display}` }, stdio: 'ignore' },
    );
    procs.push(tb);
  });

  after(async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode === null && p.pid) p.kill('SIGTERM');
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const p of procs) if (p.exitCode === null && p.pid) p.kill('SIGKILL');
    await out?.stop();
    await smtp?.close();
    await sink?.close();
    store?.close();
    gpg?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the message arrives at the provider encrypted to the recipient', async () => {
    const compose = await waitWindow(display, 'Write: Hello from Thunderbird', 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    xdo(display, ['key', '--window', compose, 'ctrl+Return']);
    const prompt = await waitWindow(display, 'Password Required', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    xdo(display, ['type', '--window', prompt, '--delay', '20', LOCAL_PW]);
    xdo(display, ['key', '--window', prompt, 'Return']);
    const deadline = Date.now() + 30_000;
    while (!sink.received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink.received.length, 1, 'Thunderbird → Lockbridge → provider');
    const got = sink.received[0]!;
    assert.deepEqual(got.to, [BOB]);
    const raw = got.raw.toString();
    assert.match(raw, /^User-Agent: Mozilla Thunderbird/m);
    assert.match(raw, /Content-Type: multipart\/encrypted;/);
    assert.match(raw, /^Subject: \.\.\.\r$/m);
    const dec = gpg.decrypt(got.raw);
    assert.ok(dec.ok, dec.stderr);
    assert.match(dec.plaintext, /Sent by a real client/);
    assert.match(dec.plaintext, /Subject: Hello from Thunderbird/);
    assert.match(dec.stderr, /Good signature from "<?alice@example\.org/);
  });
});
