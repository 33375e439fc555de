/**
 * A throw-away Dovecot (apt dovecot-imapd) from a temp config, as the reference IMAP server for
 * comparison tests and the IMAP benchmark. Plaintext auth on 127.0.0.1, maildir, '/' separator,
 * special-use Drafts/Sent/Trash/Junk.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './provider.ts';

export interface DovecotHandle {
  port: number;
  user: string;
  password: string;
  dir: string;
  /** Run doveadm with this instance's config. */
  doveadm(args: string[]): string;
  stop(): Promise<void>;
}

function mailUser(): { uid: number; gid: number; name: string } {
  const me = userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, name: me.username };
  // As root: Dovecot refuses uid 0 for mail; use nobody.
  const uid = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody']).toString().trim());
  return { uid, gid, name: 'nobody' };
}

/**
 * `tls`: a certificate and key (PEM) for STARTTLS (ssl = yes; plaintext LOGIN stays allowed), as the
 * bench's STARTTLS scenarios give both servers the same pair.
 */
export async function startDovecot(
  opts: { user?: string; password?: string; tls?: { cert: string; key: string } } = {},
): Promise<DovecotHandle> {
  const user = opts.user ?? 'alice@example.test';
  const password = opts.password ?? 'secret';
  const dir = mkdtempSync(join(tmpdir(), 'lb-dovecot-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const mu = mailUser();
  const mail = join(dir, 'mail');
  mkdirSync(mail, { recursive: true });
  chownSync(mail, mu.uid, mu.gid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}::::::\n`);
  const me = userInfo();
  let ssl = 'ssl = no';
  if (opts.tls) {
    writeFileSync(join(dir, 'cert.pem'), opts.tls.cert);
    writeFileSync(join(dir, 'key.pem'), opts.tls.key, { mode: 0o600 });
    ssl = `ssl = yes\nssl_cert = <${dir}/cert.pem\nssl_key = <${dir}/key.pem\nssl_dh = </usr/share/dovecot/dh.pem`;
  }
  const conf = `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = lb-dovecot-${port}
listen = 127.0.0.1
protocols = imap
${ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
${me.uid !== 0 ? `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}\ndefault_internal_group = ${execFileSync('id', ['-gn']).toString().trim()}` : ''}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${mu.uid} gid=${mu.gid} home=${mail}/%d/%n
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
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
}
service imap-login {
${me.uid !== 0 ? '  chroot =' : ''}
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = 64
}
${me.uid !== 0 ? 'service anvil {\n  chroot =\n}' : ''}
`;
  const confPath = join(dir, 'dovecot.conf');
  writeFileSync(confPath, conf);
  // Dovecot daemonizes: no pipes, or spawnSync would wait for the daemon.
  const r = spawnSync('dovecot', ['-c', confPath], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`dovecot failed to start (exit ${r.status}); see ${dir}/dovecot.log`);
  // Wait for the listener.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return {
    port,
    user,
    password,
    dir,
    doveadm(args: string[]) {
      return execFileSync('doveadm', ['-c', confPath, ...args], { encoding: 'utf8' });
    },
    async stop() {
      spawnSync('doveadm', ['-c', confPath, 'stop']);
      await new Promise((res) => setTimeout(res, 100));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
