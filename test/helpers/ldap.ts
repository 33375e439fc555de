/**
 * Test helper: a real OpenLDAP slapd (Debian's `slapd` package, started from a temp dir with its
 * own slapd.conf and an mdb database — the distribution's own service is not used) on a free
 * port of 127.0.0.1, loaded with LDIF by slapadd before it starts. `bindRequired`: anonymous
 * clients may only bind (read needs the root DN's bind). `tls`: it serves ldaps:// with that
 * certificate (e.g. one issued by test/helpers/https-ca.ts for 127.0.0.1) instead of ldap://.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './provider.ts';

export interface Slapd {
  url: string;
  port: number;
  suffix: string;
  rootDn: string;
  rootPw: string;
  /** The filters of the searches slapd received so far, in order (from its stats log). */
  searches(): string[];
  /** `ldapsearch` as the root DN (for checks of the directory itself): its LDIF output. */
  search(filter: string, ...attrs: string[]): string;
  close(): Promise<void>;
}

const SCHEMA = ['core', 'cosine', 'inetorgperson'].map((n) => `/etc/ldap/schema/${n}.schema`);

/** One LDIF entry: the DN, then attribute lines (`name: value`, or `name:: base64`). */
export function ldifEntry(dn: string, attrs: [string, string | Buffer][]): string {
  const lines = [`dn: ${dn}`];
  for (const [name, value] of attrs)
    lines.push(typeof value === 'string' ? `${name}: ${value}` : `${name}:: ${value.toString('base64')}`);
  return lines.join('\n') + '\n\n';
}

export async function startSlapd(o: {
  suffix: string;
  ldif: string;
  bindRequired?: boolean;
  tls?: { certPem: string; keyPem: string; caPem: string };
}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'lb-slapd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const rootDn = `cn=admin,${o.suffix}`;
  const rootPw = 'directory-root-pw';
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...SCHEMA.map((s) => `include ${s}`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `argsfile ${join(dir, 'slapd.args')}`,
      ...(o.tls
        ? [`TLSCertificateFile ${join(dir, 'cert.pem')}`, `TLSCertificateKeyFile ${join(dir, 'key.pem')}`]
        : []),
      'database mdb',
      `suffix "${o.suffix}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${rootPw}`,
      `directory ${db}`,
      'index mail eq',
      o.bindRequired ? 'access to * by users read by anonymous auth by * none' : 'access to * by * read',
      '',
    ].join('\n'),
  );
  if (o.tls) {
    writeFileSync(join(dir, 'cert.pem'), o.tls.certPem);
    writeFileSync(join(dir, 'key.pem'), o.tls.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), o.tls.caPem);
  }
  const ldifFile = join(dir, 'data.ldif');
  writeFileSync(ldifFile, o.ldif);
  const add = spawnSync('slapadd', ['-f', conf, '-l', ldifFile], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`slapadd failed: ${add.stderr}`);
  const port = await freePort();
  const url = `${o.tls ? 'ldaps' : 'ldap'}://127.0.0.1:${port}`;
  let log = '';
  let pending = '';
  const filters: string[] = [];
  // -d keeps slapd in the foreground (its log on stderr), so it ends with the test
  const proc: ChildProcess = spawn('slapd', ['-f', conf, '-h', `${url}/`, '-d', 'stats'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-20000);
    const lines = (pending + d.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) {
      const m = / SRCH base=.* filter="(.*)"$/.exec(l);
      if (m) filters.push(m[1]!);
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (proc.exitCode !== null || i > 200) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`slapd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    suffix: o.suffix,
    rootDn,
    rootPw,
    searches: () => [...filters],
    search(filter, ...attrs) {
      const r = spawnSync(
        'ldapsearch',
        ['-x', '-LLL', '-H', url, '-D', rootDn, '-w', rootPw, '-b', o.suffix, filter, ...attrs],
        { encoding: 'utf8', env: { ...process.env, LDAPTLS_CACERT: join(dir, 'ca.pem') } },
      );
      if (r.status !== 0) throw new Error(`ldapsearch failed: ${r.stderr}`);
      return r.stdout;
    },
    async close() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
