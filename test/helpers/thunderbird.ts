/**
 * Real Thunderbird (Debian's 153 ESR) under Xvfb, with a prepared profile: an IMAP account on
 * 127.0.0.1 over STARTTLS, the local CA trusted through the profile's NSS database, and the saved
 * login (key4.db + logins.json fixtures, made once with `scripts/make-thunderbird-logins.ts`, for
 * user TB_USER with password TB_PASSWORD) so no dialog ever appears.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

export const TB_USER = 'tb@example.test';
export const TB_PASSWORD = 'lockbridge-test-local-pw';
export const FIXTURE_DIR = join(ROOT, 'test', 'fixtures', 'thunderbird');

export interface ProfileOptions {
  imapPort: number;
  smtpPort: number;
  /** PEM of the CA that signs the server certificate. */
  caPem: string;
  /** Copy the saved-login fixtures (default true). */
  savedLogins?: boolean;
  email?: string;
}

export function prefsFor(o: ProfileOptions): string {
  const email = o.email ?? TB_USER;
  const p: Record<string, string | number | boolean> = {
    'mail.accountmanager.accounts': 'account1,account2',
    'mail.accountmanager.defaultaccount': 'account1',
    'mail.accountmanager.localfoldersserver': 'server2',
    'mail.account.account1.identities': 'id1',
    'mail.account.account1.server': 'server1',
    'mail.account.account2.server': 'server2',
    'mail.server.server1.type': 'imap',
    'mail.server.server1.hostname': '127.0.0.1',
    'mail.server.server1.port': o.imapPort,
    'mail.server.server1.userName': email,
    'mail.server.server1.name': 'Lockbridge',
    'mail.server.server1.socketType': 2,
    'mail.server.server1.authMethod': 3,
    'mail.server.server1.login_at_startup': true,
    'mail.server.server1.check_new_mail': true,
    'mail.server.server1.offline_download': true,
    'mail.server.server1.autosync_offline_stores': true,
    'mail.server.server1.directory-rel': '[ProfD]ImapMail/127.0.0.1',
    'mail.server.server1.storeContractID': '@mozilla.org/msgstore/berkeleystore;1',
    'mail.server.server2.type': 'none',
    'mail.server.server2.hostname': 'Local Folders',
    'mail.server.server2.userName': 'nobody',
    'mail.server.server2.name': 'Local Folders',
    'mail.server.server2.directory-rel': '[ProfD]Mail/Local Folders',
    'mail.identity.id1.useremail': email,
    'mail.identity.id1.fullName': 'TB Tester',
    'mail.identity.id1.valid': true,
    'mail.identity.id1.smtpServer': 'smtp1',
    'mail.identity.id1.fcc': true,
    'mail.identity.id1.fcc_folder': `imap://${encodeURIComponent(email)}@127.0.0.1/Sent`,
    'mail.identity.id1.draft_folder': `imap://${encodeURIComponent(email)}@127.0.0.1/Drafts`,
    'mail.identity.id1.compose_html': false,
    'mail.smtpservers': 'smtp1',
    'mail.smtp.defaultserver': 'smtp1',
    'mail.smtpserver.smtp1.hostname': '127.0.0.1',
    'mail.smtpserver.smtp1.port': o.smtpPort,
    'mail.smtpserver.smtp1.try_ssl': 2,
    'mail.smtpserver.smtp1.authMethod': 3,
    'mail.smtpserver.smtp1.username': email,
    'mail.shell.checkDefaultClient': false,
    'mail.provider.enabled': false,
    'mailnews.start_page.enabled': false,
    'mailnews.start_page_override.mstone': 'ignore',
    'mail.rights.version': 1,
    'mail.startup.enabledMailCheckOnce': true,
    'mail.spotlight.firstRunDone': true,
    'mail.winsearch.firstRunDone': true,
    'mail.inappnotifications.enabled': false,
    'mail.openpgp.enable': false,
    'mailnews.auto_config_url': '',
    'app.update.auto': false,
    'app.update.enabled': false,
    'app.update.disabledForTesting': true,
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'extensions.autoDisableScopes': 15,
    'network.dns.disableIPv6': true,
    'mail.server.default.autosync_offline_stores': true,
    'mail.imap.use_status_for_biff': true,
    'signon.rememberSignons': true,
    'mail.warn_on_send_accel_key': false,
    'mail.biff.play_sound': false,
    'mail.biff.show_alert': false,
  };
  return Object.entries(p)
    .map(
      ([k, v]) =>
        `user_pref(${JSON.stringify(k)}, ${typeof v === 'string' ? JSON.stringify(v) : String(v)});`,
    )
    .join('\n');
}

/** A fresh profile directory ready to start. */
export function makeProfile(o: ProfileOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'lb-tb-profile-'));
  writeFileSync(join(dir, 'user.js'), prefsFor(o) + '\n');
  const caFile = join(dir, 'local-ca.pem');
  writeFileSync(caFile, o.caPem);
  if (o.savedLogins ?? true) {
    copyFileSync(join(FIXTURE_DIR, 'key4.db'), join(dir, 'key4.db'));
    copyFileSync(join(FIXTURE_DIR, 'logins.json'), join(dir, 'logins.json'));
  } else {
    run('certutil', ['-N', '--empty-password', '-d', `sql:${dir}`]);
  }
  run('certutil', ['-A', '-n', 'lockbridge-local-ca', '-t', 'C,,', '-i', caFile, '-d', `sql:${dir}`]);
  return dir;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

export interface Display {
  display: string;
  stop(): void;
}

/** Starts Xvfb on a free display number. */
export async function startXvfb(): Promise<Display> {
  for (let n = 90 + Math.floor(Math.random() * 100); n < 400; n++) {
    if (existsSync(`/tmp/.X${n}-lock`)) continue;
    const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(`/tmp/.X11-unix/X${n}`)) return { display: `:${n}`, stop: () => proc.kill('SIGTERM') };
      if (proc.exitCode !== null) break;
    }
    proc.kill('SIGKILL');
  }
  throw new Error('could not start Xvfb');
}

export interface RunningThunderbird {
  proc: ChildProcess;
  logFile: string;
  log(): string;
  stop(): Promise<void>;
}

export function startThunderbird(profile: string, display: string): RunningThunderbird {
  const logFile = join(profile, 'imap.log');
  const proc = spawn('thunderbird', ['--no-remote', '--profile', profile], {
    env: {
      ...process.env,
      DISPLAY: display,
      MOZ_LOG: 'IMAP:5,SMTPClient:5,timestamp',
      MOZ_LOG_FILE: logFile,
      MOZ_DISABLE_CONTENT_SANDBOX: '1',
      MOZ_CRASHREPORTER_DISABLE: '1',
      HOME: profile,
    },
    stdio: 'ignore',
  });
  return {
    proc,
    logFile,
    log: () => {
      const files = readdirSync(profile).filter((f) => f.startsWith('imap.log'));
      return files.map((f) => readFileSync(join(profile, f), 'utf8')).join('\n');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Waits until `check()` is true, polling; throws with `describe()` on timeout. */
export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out: ${describe()}`);
}

/** The offline store (mbox) of an IMAP folder in the profile, or '' when not there yet. */
export function offlineStore(profile: string, folder: string): string {
  const dir = join(profile, 'ImapMail', '127.0.0.1');
  if (!existsSync(dir)) return '';
  // Thunderbird names the mbox file after the folder, adding "-1", "-2"… when its own stub
  // (INBOX.msf made at account creation) already holds the plain name
  const re = new RegExp(`^${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)?$`);
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .map((f) => readFileSync(join(dir, f), 'latin1'))
    .join('');
}

export function removeProfile(profile: string): void {
  rmSync(profile, { recursive: true, force: true });
}

export function ensureDir(p: string): void {
  mkdirSync(p, { recursive: true });
}
