/**
 * Test provider: a real Dovecot 2.3 (IMAP with STARTTLS, LMTP, SASL auth listener) and a real
 * Postfix 3.7 delivering to it over LMTP, both running from a private temp dir on free loopback
 * ports. Mail is owned by an unprivileged user (nobody/nogroup when run as root).
 *
 *   const p = await startProvider();
 *   await p.addUser('alice@example.test', 'secret');
 *   await p.deliver(raw, { to: ['alice@example.test'] });   // through Postfix (SMTP) → LMTP
 *   ...
 *   await p.close();
 */
import { spawn } from 'node:child_process';
import {
  readdirSync,
  utimesSync,
  renameSync,
  closeSync,
  openSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';

export interface ProviderOptions {
  /** Start Postfix too (default true). Without it `deliver` falls back to LMTP. */
  postfix?: boolean;
  /** Domain of the virtual users (default example.test). */
  domain?: string;
  /** A storage quota for every user, in Dovecot's syntax (e.g. '200K'); default none. */
  quota?: string;
  /**
   * Without CONDSTORE and QRESYNC (as outlook.com's IMAP): Dovecot advertises its usual
   * capabilities but those two, so clients never get a HIGHESTMODSEQ. Default false.
   */
  noCondstore?: boolean;
  /** Keep the temp dir after close (debugging). */
  keep?: boolean;
  /**
   * OAuth 2.0 (issue 18): Dovecot also takes bearer tokens (XOAUTH2 and OAUTHBEARER, for IMAP and —
   * through its SASL listener — Postfix), validated by its `oauth2` passdb at this RFC 7662
   * introspection endpoint (POST; put the introspecting client's id:secret in the URL's userinfo).
   * `usernameAttribute`: the introspection field that must equal the login name (default 'sub').
   */
  oauth2?: { introspectionUrl: string; usernameAttribute?: string };
}

export interface DeliverOptions {
  from?: string;
  to?: string[];
  /** 'smtp' = through Postfix (default when Postfix runs), 'lmtp' = straight into Dovecot. */
  via?: 'smtp' | 'lmtp';
}

export interface ProviderAccount {
  host: string;
  port: number;
  security: 'starttls';
  user: string;
  password: string;
  /** PEM of the CA that signed the provider's certificate (for `--ca`). */
  ca: string;
}

export interface Provider {
  readonly dir: string;
  readonly host: '127.0.0.1';
  readonly domain: string;
  readonly imapPort: number;
  readonly lmtpPort: number;
  readonly saslPort: number;
  /** Postfix SMTP port (0 when started without Postfix). */
  readonly smtpPort: number;
  /** PEM of the private CA that signed the server certificate (trust this with `--ca`). */
  readonly caPem: string;
  /** Path of the CA PEM file. */
  readonly caFile: string;
  /** PEM of the server certificate itself. */
  readonly certPem: string;
  addUser(email: string, password: string): Promise<void>;
  /** Changes a user's password (the old one stops working once Dovecot has re-read the file). */
  changePassword(email: string, password: string): Promise<void>;
  /** Connection settings for a user added with addUser. */
  account(email: string): ProviderAccount;
  deliver(raw: Buffer | string, opts?: DeliverOptions): Promise<void>;
  /** APPEND through IMAP; returns the new UID (UIDPLUS). */
  appendRaw(
    user: string,
    mailbox: string,
    raw: Buffer | string,
    flags?: string[],
    internalDate?: Date,
  ): Promise<number>;
  /** Logged-in imapflow client for assertions (caller logs out). */
  imapClient(user: string): Promise<ImapFlow>;
  /** Fast bulk load: writes maildir files directly (Dovecot indexes them on next access). */
  bulkLoad(user: string, mailbox: string, messages: Iterable<Buffer>): Promise<number>;
  doveadm(...args: string[]): Promise<string>;
  stopDovecot(): Promise<void>;
  startDovecot(): Promise<void>;
  stopPostfix(): Promise<void>;
  startPostfix(): Promise<void>;
  /**
   * Resolves once Postfix's queue holds no message: everything it accepted (said 250 to) has been
   * delivered to Dovecot or bounced. What a test waits for before it counts deliveries.
   */
  postfixDrained(timeoutMs?: number): Promise<void>;
  /** Delete and re-create a mailbox with the same messages: a new UIDVALIDITY and new UIDs. */
  recreateMailbox(user: string, mailbox: string): Promise<{ oldUidValidity: number; newUidValidity: number }>;
  /** Mailbox status via doveadm: messages, uidnext, uidvalidity, highestmodseq. */
  mailboxStatus(user: string, mailbox: string): Promise<Record<string, number>>;
  logTail(lines?: number): string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A port to hand to a server started later (Dovecot, Postfix, a dead endpoint): chosen below the
 * kernel's ephemeral range (32768–60999 here), which a listen(0) port is in, so that no outbound
 * connection of a concurrent test can take it between this check and the server's bind — a race CI
 * hit as Postfix's "bind: Address already in use". The start is per process, the rest sequential. */
const PORT_LOW = 20000;
const PORT_SPAN = 12000;
let nextPort = PORT_LOW + ((process.pid * 7919) % PORT_SPAN);
/** bulkLoad calls so far in this process: part of each file name it writes (names stay unique) */
let bulkLoads = 0;

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_SPAN; tries++) {
    const port = nextPort;
    nextPort = PORT_LOW + ((nextPort - PORT_LOW + 1) % PORT_SPAN);
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, HOST, () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv; daemonLog?: string } = {},
): Promise<RunResult> {
  if (opts.daemonLog) {
    // A command that forks a daemon keeps inherited pipes open forever: give it a file instead
    // and resolve on exit.
    const fd = openSync(opts.daemonLog, 'a');
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
      child.on('error', (e) => {
        closeSync(fd);
        reject(e);
      });
      child.on('exit', (code) => {
        closeSync(fd);
        resolve({ code: code ?? -1, stdout: '', stderr: tail(opts.daemonLog as string, 20) });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: HOST, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitPort(port: number, open: boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await portOpen(port)) === open) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process's command line ('' once it is gone). */
function commandLine(pid: number | string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

/** SIGKILLs every process whose title names this Dovecot instance (only the ones we started). */
function killInstanceProcesses(instance: string): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    if (commandLine(pid).startsWith(`dovecot-${instance}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** True when a file is anywhere under these directories (Postfix hashes some queues into subdirectories). */
function holdsFile(dirs: string[]): boolean {
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isFile() || (e.isDirectory() && holdsFile([join(d, e.name)]))) return true;
    }
  }
  return false;
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  const all = readFileSync(file, 'utf8').split('\n');
  return all.slice(-lines).join('\n');
}

async function makeCerts(dir: string): Promise<void> {
  const ca = join(dir, 'ca');
  const srv = join(dir, 'server');
  const steps: string[][] = [
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca}.key`],
    [
      'req',
      '-x509',
      '-new',
      '-key',
      `${ca}.key`,
      '-sha256',
      '-days',
      '30',
      '-subj',
      '/CN=Lockbridge Test Provider CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${ca}.pem`,
    ],
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${srv}.key`],
    ['req', '-new', '-key', `${srv}.key`, '-subj', '/CN=localhost', '-out', `${srv}.csr`],
  ];
  for (const s of steps) {
    const r = await run('openssl', s);
    if (r.code !== 0) throw new Error(`openssl ${s[0]} failed: ${r.stderr}`);
  }
  writeFileSync(
    `${srv}.ext`,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  const r = await run('openssl', [
    'x509',
    '-req',
    '-in',
    `${srv}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    `${srv}.ext`,
    '-out',
    `${srv}.pem`,
  ]);
  if (r.code !== 0) throw new Error(`openssl x509 failed: ${r.stderr}`);
  chmodSync(`${srv}.key`, 0o644); // Dovecot's config reader and Postfix read it as root; test-only key
}

function dovecotConf(p: {
  dir: string;
  instance: string;
  imapPort: number;
  lmtpPort: number;
  saslPort: number;
  mailUser: string;
  mailGroup: string;
  root: boolean;
  quota?: string | undefined;
  noCondstore?: boolean | undefined;
  oauth2?: { introspectionUrl: string; usernameAttribute?: string } | undefined;
}): string {
  const d = p.dir;
  const unpriv = p.root
    ? ''
    : `default_internal_user = ${p.mailUser}\ndefault_login_user = ${p.mailUser}\ndefault_internal_group = ${p.mailGroup}\n`;
  return `# generated by test/helpers/provider.ts
instance_name = ${p.instance}
base_dir = ${d}/dovecot-run
state_dir = ${d}/dovecot-state
log_path = ${d}/dovecot.log
info_log_path = ${d}/dovecot.log
protocols = imap lmtp
listen = ${HOST}
${unpriv}ssl = yes
ssl_cert = <${d}/server.pem
ssl_key = <${d}/server.key
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login${p.oauth2 ? ' xoauth2 oauthbearer' : ''}
mail_location = maildir:~/Maildir
mail_max_userip_connections = 500
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${d}/users
${p.oauth2 ? '  mechanisms = plain login none\n' : ''}}
${
  p.oauth2
    ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${d}/dovecot-oauth2.conf.ext
}
`
    : ''
}
userdb {
  driver = static
  args = uid=${p.mailUser} gid=${p.mailGroup} home=${d}/mail/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${p.imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = ${HOST}
    port = ${p.lmtpPort}
  }
}
service auth {
  inet_listener sasl {
    address = ${HOST}
    port = ${p.saslPort}
  }
}
service imap {
  process_limit = 1024
  # a session on a mailbox of a million messages (bench/million.ts) needs more than the default
  # 256 MB of address space: Dovecot's index of it alone is ~100 MB
  vsz_limit = 2G
}
protocol imap {
  mail_max_userip_connections = 500
}${
    p.noCondstore
      ? `
imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE`
      : ''
  }
protocol lmtp {
  auth_username_format = %Lu
}
${
  p.quota
    ? `mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=${p.quota}
}
`
    : ''
}`;
}

function postfixMain(p: {
  dir: string;
  smtpPort: number;
  lmtpPort: number;
  saslPort: number;
  domain: string;
}): string {
  const pf = join(p.dir, 'postfix');
  return `# generated by test/helpers/provider.ts
compatibility_level = 3.6
queue_directory = ${pf}/queue
data_directory = ${pf}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.${p.domain}
mydomain = ${p.domain}
myorigin = ${p.domain}
inet_interfaces = ${HOST}
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
mydestination =
local_recipient_maps =
local_transport = error:no local delivery
virtual_mailbox_domains = ${p.domain}
virtual_transport = lmtp:inet:${HOST}:${p.lmtpPort}
default_transport = error:no external delivery
relay_transport = error:no external delivery
alias_maps =
alias_database =
biff = no
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
lmtp_host_lookup = native
message_size_limit = 104857600
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:${HOST}:${p.saslPort}
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = ${p.dir}/server.pem
smtpd_tls_key_file = ${p.dir}/server.key
smtpd_tls_security_level = may
maillog_file = ${pf}/maillog
maillog_file_prefixes = ${pf}
`;
}

function postfixMaster(smtpPort: number): string {
  return `# generated by test/helpers/provider.ts
${HOST}:${smtpPort} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
}

/** A minimal LMTP (RFC 2033) client: one message per connection. */
async function lmtpSend(port: number, from: string, to: string[], raw: Buffer): Promise<void> {
  const sock: Socket = connect({ host: HOST, port });
  let buf = '';
  const waiters: Array<(line: string) => void> = [];
  const lines: string[] = [];
  let failure: Error | null = null;
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  sock.on('error', (e) => {
    failure = e;
    for (const w of waiters.splice(0)) w('');
  });
  const readLine = (): Promise<string> =>
    lines.length ? Promise.resolve(lines.shift() as string) : new Promise((r) => waiters.push(r));
  const reply = async (): Promise<string> => {
    for (;;) {
      const l = await readLine();
      if (failure) throw failure;
      if (l.length < 4 || l[3] !== '-') return l;
    }
  };
  const expect = async (ok: string, what: string) => {
    const r = await reply();
    if (!r.startsWith(ok)) throw new Error(`LMTP ${what}: ${r}`);
  };
  try {
    await expect('220', 'greeting');
    sock.write('LHLO test.local\r\n');
    await expect('250', 'LHLO');
    sock.write(`MAIL FROM:<${from}>\r\n`);
    await expect('250', 'MAIL');
    for (const rcpt of to) {
      sock.write(`RCPT TO:<${rcpt}>\r\n`);
      await expect('250', `RCPT ${rcpt}`);
    }
    sock.write('DATA\r\n');
    await expect('354', 'DATA');
    let text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
    text = text.replace(/^\./gm, '..');
    if (!text.endsWith('\r\n')) text += '\r\n';
    sock.write(Buffer.from(text, 'latin1'));
    sock.write('.\r\n');
    for (const rcpt of to) await expect('250', `delivery to ${rcpt}`);
    sock.write('QUIT\r\n');
  } finally {
    sock.end();
  }
}

/** Every message in `user`'s INBOX at the provider (Dovecot), raw, oldest first. */
export async function providerInbox(p: Provider, user: string): Promise<Buffer[]> {
  const c = await p.imapClient(user);
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      const out: Buffer[] = [];
      const status = await c.status('INBOX', { messages: true });
      if (!status || !status.messages) return out;
      for await (const m of c.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await c.logout().catch(() => {});
  }
}

/** The provider INBOX of `user` once it holds `n` messages or more (the provider's log tail if not by `ms`). */
export async function providerInboxOf(p: Provider, user: string, n: number, ms = 20_000): Promise<Buffer[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const msgs = await providerInbox(p, user);
    if (msgs.length >= n) return msgs;
    if (Date.now() > deadline) throw new Error(`${user}: ${msgs.length} of ${n} messages\n${p.logTail(30)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startProvider(opts: ProviderOptions = {}): Promise<Provider> {
  const domain = opts.domain ?? 'example.test';
  const root = process.getuid?.() === 0;
  const mailUser = root ? 'nobody' : (process.env.USER ?? 'nobody');
  const mailGroup = root ? 'nogroup' : String(process.getgid?.() ?? 'nogroup');
  const withPostfix = opts.postfix ?? true;
  if (withPostfix && !root) throw new Error('provider harness: Postfix needs root; pass { postfix: false }');

  const dir = mkdtempSync(join(tmpdir(), 'lb-provider-'));
  chmodSync(dir, 0o755);
  const instance = 'lbtest-' + randomBytes(4).toString('hex');
  const conf = join(dir, 'dovecot.conf');
  const usersFile = join(dir, 'users');
  const mailDir = join(dir, 'mail');
  const pfDir = join(dir, 'postfix');
  const dovecotLog = join(dir, 'dovecot.log');
  const postfixLog = join(pfDir, 'maillog');
  mkdirSync(mailDir);
  writeFileSync(usersFile, '');
  chmodSync(usersFile, 0o644);
  if (root) chownSync(mailDir, 65534, 65534);

  await makeCerts(dir);
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const certPem = readFileSync(join(dir, 'server.pem'), 'utf8');
  const [imapPort, lmtpPort, saslPort, smtpPortMaybe] = (await distinctFreePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  const smtpPort = withPostfix ? smtpPortMaybe : 0;
  writeFileSync(
    conf,
    dovecotConf({
      dir,
      instance,
      imapPort,
      lmtpPort,
      saslPort,
      mailUser,
      mailGroup,
      root,
      quota: opts.quota,
      noCondstore: opts.noCondstore,
      oauth2: opts.oauth2,
    }),
  );
  if (opts.oauth2) {
    // Dovecot 2.3's oauth2 passdb: every login asks the introspection endpoint (no cache), so a
    // revoked token stops working at the next connection.
    writeFileSync(
      join(dir, 'dovecot-oauth2.conf.ext'),
      `introspection_mode = post
introspection_url = ${opts.oauth2.introspectionUrl}
username_attribute = ${opts.oauth2.usernameAttribute ?? 'sub'}
active_attribute = active
active_value = true
force_introspection = yes
`,
    );
    chmodSync(join(dir, 'dovecot-oauth2.conf.ext'), 0o644);
  }
  const passwords = new Map<string, string>();
  let usersMtime = Math.floor(Date.now() / 1000);
  /** When the last `doveadm auth test` was answered (ms): see usersChanged. */
  let lastAuthCheck = 0;

  let dovecotUp = false;
  let postfixUp = false;

  async function startDovecot(): Promise<void> {
    const r = await run('dovecot', ['-c', conf], { daemonLog: join(dir, 'dovecot.out') });
    if (r.code !== 0)
      throw new Error(`dovecot failed to start (${r.code}): ${r.stderr}\n${tail(dovecotLog, 30)}`);
    for (const port of [imapPort, lmtpPort, saslPort]) {
      if (!(await waitPort(port, true, 15000)))
        throw new Error(`dovecot did not open port ${port}\n--- dovecot.log ---\n${tail(dovecotLog, 30)}`);
    }
    dovecotUp = true;
  }

  /** `signal`: SIGTERM (a shutdown: the master ends its processes, ~1.1 s) or SIGKILL (teardown). */
  async function stopDovecot(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!dovecotUp) return;
    dovecotUp = false;
    const pidFile = join(dir, 'dovecot-run', 'master.pid');
    const filed = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    // Only a master still running this config: a stale pid file's number may be another process's
    // now (a test process of this very run, when a test had already killed the master).
    const pid = filed && commandLine(filed).includes(conf) ? filed : 0;
    if (pid) {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    } else {
      await run('doveadm', ['-c', conf, 'stop']);
    }
    // wait for the master to exit (the listeners close with it)
    const deadline = Date.now() + 10000;
    while (pid && commandLine(pid).includes(conf) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    // Like a real outage: connections still served by the old processes end too.
    killInstanceProcesses(instance);
    await waitPort(imapPort, false, 5000);
  }

  async function postfixCmd(cmd: string): Promise<RunResult> {
    const env = { ...process.env, MAIL_CONFIG: pfDir };
    return await run(
      'postfix',
      ['-c', pfDir, cmd],
      cmd === 'start' ? { env, daemonLog: join(dir, 'postfix.out') } : { env },
    );
  }

  async function startPostfix(): Promise<void> {
    if (!withPostfix) throw new Error('provider started without Postfix');
    const r = await postfixCmd('start');
    if (r.code !== 0)
      throw new Error(
        `postfix failed to start: ${r.stderr}${r.stdout}\n--- maillog ---\n${tail(postfixLog, 30)}`,
      );
    if (!(await waitPort(smtpPort, true, 15000)))
      throw new Error(`postfix did not open port ${smtpPort}\n--- maillog ---\n${tail(postfixLog, 30)}`);
    // The banner proves the smtpd is not blocked on logging (see the postlog trap).
    const banner = await new Promise<string>((resolve) => {
      const s = connect({ host: HOST, port: smtpPort });
      const t = setTimeout(() => {
        s.destroy();
        resolve('');
      }, 10000);
      s.once('data', (d: Buffer) => {
        clearTimeout(t);
        s.end('QUIT\r\n');
        resolve(d.toString());
      });
      s.once('error', () => resolve(''));
    });
    if (!banner.startsWith('220'))
      throw new Error(`postfix sent no banner\n--- maillog ---\n${tail(postfixLog, 30)}`);
    postfixUp = true;
  }

  async function stopPostfix(): Promise<void> {
    if (!postfixUp) return;
    postfixUp = false;
    await postfixCmd('stop');
    await waitPort(smtpPort, false, 10000);
  }

  if (withPostfix) {
    mkdirSync(join(pfDir, 'queue'), { recursive: true });
    mkdirSync(join(pfDir, 'data'), { recursive: true });
    chownSync(join(pfDir, 'data'), 102, 0);
    chmodSync(pfDir, 0o755);
    writeFileSync(join(pfDir, 'main.cf'), postfixMain({ dir, smtpPort, lmtpPort, saslPort, domain }));
    writeFileSync(join(pfDir, 'master.cf'), postfixMaster(smtpPort));
    // Postfix takes a main.cf changed within the last second or so for one being edited, and reads
    // it again every 300 ms until it is older: dated a minute back, the first postfix command
    // here does not spend ~2.4 s waiting for its own file to settle.
    const settled = new Date(Date.now() - 60_000);
    for (const f of ['main.cf', 'master.cf']) utimesSync(join(pfDir, f), settled, settled);
    // data_directory must belong to mail_owner
    const pfUid = Number((await run('id', ['-u', 'postfix'])).stdout.trim());
    chownSync(join(pfDir, 'data'), pfUid, 0);
    // no `postfix check` first: `postfix start` runs the same integrity checks (postfix-script
    // check-fatal and check-warn) and fails with their message
  }

  try {
    await startDovecot();
    if (withPostfix) await startPostfix();
  } catch (e) {
    await stopPostfix().catch(() => {});
    await stopDovecot().catch(() => {});
    throw e;
  }

  /**
   * The passwd-file changed: wait until Dovecot's auth process has really re-read it — a login
   * tried too early is refused, and a sync engine then (rightly) waits for the user instead of
   * retrying. Dovecot re-reads the file when its mtime (1 s resolution) or size changed, so the
   * mtime moves forward on every change; and it looks at the file at most once a second
   * (passwd_file_sync), so a check in the second of the last one waits for the next second: in the
   * second of a lookup made before the change it was refused after auth_failure_delay (2 s), and
   * the next try was then answered ~4 s later (7 users added one after another took 31 s).
   */
  async function usersChanged(email: string, password: string, what: string): Promise<void> {
    usersMtime = Math.max(usersMtime + 1, Math.floor(Date.now() / 1000));
    utimesSync(usersFile, usersMtime, usersMtime);
    if (Math.floor(lastAuthCheck / 1000) === Math.floor(Date.now() / 1000))
      await new Promise((res) => setTimeout(res, 1010 - (Date.now() % 1000)));
    for (let attempt = 0; ; attempt++) {
      const r = await run('doveadm', ['-c', conf, 'auth', 'test', email, password]);
      lastAuthCheck = Date.now();
      if (r.code === 0) return;
      if (attempt >= 40) throw new Error(`Dovecot does not ${what} ${email}: ${r.stdout}${r.stderr}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  async function doveadm(...args: string[]): Promise<string> {
    const r = await run('doveadm', ['-c', conf, ...args]);
    if (r.code !== 0) throw new Error(`doveadm ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async function imapClient(user: string): Promise<ImapFlow> {
    const password = passwords.get(user);
    if (password === undefined) throw new Error(`unknown provider user ${user}`);
    const client = new ImapFlow({
      host: HOST,
      port: imapPort,
      secure: false,
      doSTARTTLS: true,
      tls: { ca: [caPem] },
      auth: { user, pass: password },
      logger: false,
    });
    await client.connect();
    return client;
  }

  const provider: Provider = {
    dir,
    host: HOST,
    domain,
    imapPort,
    lmtpPort,
    saslPort,
    smtpPort,
    caPem,
    caFile: join(dir, 'ca.pem'),
    certPem,
    async addUser(email, password) {
      if (/[:\n]/.test(email) || /\n/.test(password)) throw new Error('bad user/password for passwd-file');
      passwords.set(email, password);
      appendFileSync(usersFile, `${email}:${password}::::::\n`);
      await usersChanged(email, password, 'accept the new user');
    },
    async changePassword(email, password) {
      if (!passwords.has(email) || /\n/.test(password))
        throw new Error(`cannot change the password of ${email}`);
      passwords.set(email, password);
      const lines = readFileSync(usersFile, 'utf8').split('\n');
      writeFileSync(
        usersFile,
        lines.map((l) => (l.startsWith(`${email}:`) ? `${email}:${password}::::::` : l)).join('\n'),
      );
      await usersChanged(email, password, 'take the new password of');
    },
    account(email) {
      const password = passwords.get(email);
      if (password === undefined) throw new Error(`unknown provider user ${email}`);
      return { host: HOST, port: imapPort, security: 'starttls', user: email, password, ca: caPem };
    },
    async deliver(raw, o = {}) {
      const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      const to = o.to ?? [...passwords.keys()].slice(0, 1);
      if (!to.length) throw new Error('deliver: no recipient (add a user first)');
      const from = o.from ?? `sender@outside.test`;
      const via = o.via ?? (withPostfix ? 'smtp' : 'lmtp');
      if (via === 'lmtp') return await lmtpSend(lmtpPort, from, to, buf);
      const before = await Promise.all(
        to.map((u) => provider.mailboxStatus(u, 'INBOX').then((s) => s.messages ?? 0)),
      );
      const { createTransport } = await import('nodemailer');
      const transport = createTransport({ host: HOST, port: smtpPort, secure: false, tls: { ca: [caPem] } });
      try {
        await transport.sendMail({ envelope: { from, to }, raw: buf });
      } finally {
        transport.close();
      }
      // Postfix queues and delivers asynchronously: wait until each INBOX grew.
      const deadline = Date.now() + 20000;
      for (let i = 0; i < to.length; i++) {
        for (;;) {
          const n = (await provider.mailboxStatus(to[i] as string, 'INBOX')).messages ?? 0;
          if (n > (before[i] as number)) break;
          if (Date.now() > deadline)
            throw new Error(`delivery to ${to[i]} did not arrive\n--- maillog ---\n${tail(postfixLog, 20)}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    },
    async appendRaw(user, mailbox, raw, flags = [], internalDate) {
      const client = await imapClient(user);
      try {
        const res = await client.append(
          mailbox,
          typeof raw === 'string' ? Buffer.from(raw) : raw,
          flags,
          internalDate,
        );
        if (!res || typeof res !== 'object' || !res.uid) throw new Error('APPEND returned no UID');
        return res.uid;
      } finally {
        await client.logout().catch(() => {});
      }
    },
    imapClient,
    async bulkLoad(user, mailbox, messages) {
      // Make sure the user's maildir exists (Dovecot creates it on first access).
      // Dovecot's auth process may not have re-read the passwd-file yet right after addUser:
      // retry "User doesn't exist" for a few seconds.
      for (let attempt = 0; ; attempt++) {
        try {
          await doveadm('mailbox', 'status', '-u', user, 'messages', 'INBOX');
          break;
        } catch (err) {
          if (attempt >= 20 || !/User doesn't exist/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      const [local, dom] = user.split('@') as [string, string];
      const base = join(mailDir, dom, local, 'Maildir');
      const box = mailbox === 'INBOX' ? base : join(base, '.' + mailbox.replace(/\//g, '.'));
      if (!existsSync(box)) await doveadm('mailbox', 'create', '-u', user, mailbox);
      const cur = join(box, 'cur');
      let n = 0;
      const stamp = Math.floor(Date.now() / 1000);
      const load = ++bulkLoads;
      for (const m of messages) {
        // names shaped like Dovecot's own (time.MusecPpid.host): a sequential pattern makes
        // Dovecot's filename hash collide, and each uidlist read of a big mailbox costs it seconds
        const name = `${stamp + (n >> 3)}.M${(n * 7919) % 1_000_000}P${process.pid}Q${load}.lbbulk,S=${m.length}:2,`;
        const path = join(cur, name);
        writeFileSync(path, m);
        if (root) chownSync(path, 65534, 65534);
        n++;
      }
      // Index now so the first IMAP SELECT is not what pays for it.
      await doveadm('force-resync', '-u', user, mailbox);
      return n;
    },
    doveadm,
    stopDovecot: () => stopDovecot(),
    startDovecot,
    stopPostfix,
    startPostfix,
    async postfixDrained(timeoutMs = 60_000) {
      const queue = join(pfDir, 'queue');
      const deadline = Date.now() + timeoutMs;
      while (holdsFile(['maildrop', 'incoming', 'active', 'deferred', 'hold'].map((q) => join(queue, q)))) {
        if (Date.now() > deadline)
          throw new Error(`Postfix still holds mail after ${timeoutMs} ms\n${tail(postfixLog, 30)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async recreateMailbox(user, mailbox) {
      // The provider loses the mailbox's index and rebuilds it (what a restore or a server
      // migration does): same messages, a new UIDVALIDITY and renumbered UIDs, with no moment
      // where the mailbox looks empty. Done with Dovecot stopped, like a real restore.
      const before = await provider.mailboxStatus(user, mailbox);
      const [localPart, dom] = user.split('@') as [string, string];
      const base = join(mailDir, dom, localPart, 'Maildir');
      const box = mailbox.toUpperCase() === 'INBOX' ? base : join(base, '.' + mailbox.replace(/\//g, '.'));
      await stopDovecot();
      for (const f of readdirSync(box)) {
        if (/^dovecot[.-]/.test(f) && f !== 'dovecot-keywords' && !f.startsWith('dovecot-uidvalidity'))
          rmSync(join(box, f), { force: true });
      }
      for (const f of readdirSync(base))
        if (f.startsWith('dovecot.list.index')) rmSync(join(base, f), { force: true });
      // Reverse the order Dovecot will number the messages in (by file name), so UIDs really move.
      const cur = join(box, 'cur');
      const files = readdirSync(cur).sort();
      files.forEach((f, i) => {
        const m = /^(.*?)(:2,.*)?$/.exec(f)!;
        const renamed = `${String(files.length - i).padStart(8, '0')}.re${i}.${m[1]!.replace(/[^A-Za-z0-9]/g, '')}${m[2] ?? ':2,'}`;
        renameSync(join(cur, f), join(cur, renamed));
      });
      await startDovecot();
      const after = await provider.mailboxStatus(user, mailbox);
      return { oldUidValidity: before.uidvalidity ?? 0, newUidValidity: after.uidvalidity ?? 0 };
    },
    async mailboxStatus(user, mailbox) {
      const out = await doveadm(
        '-f',
        'flow',
        'mailbox',
        'status',
        '-u',
        user,
        'messages uidnext uidvalidity highestmodseq',
        mailbox,
      );
      const res: Record<string, number> = {};
      for (const m of out.trim().matchAll(/(\w+)=(\d+)/g)) res[m[1] as string] = Number(m[2]);
      return res;
    },
    logTail(lines = 30) {
      return `--- dovecot.log ---\n${tail(dovecotLog, lines)}\n--- maillog ---\n${tail(postfixLog, lines)}`;
    },
    async close() {
      // the end of the test: no need to wait for a graceful shutdown of either
      await Promise.all([stopPostfix().catch(() => {}), stopDovecot('SIGKILL').catch(() => {})]);
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    },
  };
  return provider;
}
