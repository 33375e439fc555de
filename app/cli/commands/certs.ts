/**
 * `lockbridge certs import|export|issue|list|trust|distrust|directory` (issue 19): S/MIME
 * certificates — the user's own (PKCS#12 with its passphrase, or issued self-signed) and
 * correspondents' or CAs' (PEM/DER) — and the LDAP directory they are looked up in at send time,
 * through the control API.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { flag, parse, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { isInteractive, promptSecret, readPassphraseFile, withAskedPassphrase } from '../prompt.ts';
import { withApi } from '../session.ts';
import { UsageError, UserError } from '../../shared/errors.ts';
import { DIRECTORY_TIMEOUT_MS } from '../../config/settings.ts';
import type {
  CertificateList,
  CertificateSummary,
  ControlApi,
  DirectoryStatus,
} from '../../control/contract.ts';

const IMPORT_USAGE = 'lockbridge certs import FILE [--passphrase-file F] [--trusted]';
const EXPORT_USAGE = 'lockbridge certs export E|FINGERPRINT [--pkcs12 --passphrase-file F] [--out FILE]';
const ISSUE_USAGE = 'lockbridge certs issue E [--algorithm rsa|ec]';
const DIRECTORY_USAGE =
  'lockbridge certs directory [--url ldap[s]://HOST[:PORT] --base-dn DN [--bind-dn DN [--password-file F]] [--timeout MS] [--ca-file PEM | --system-ca] | --off]';
const COMMANDS = 'import, export, issue, list, trust, distrust, directory';

/** The export passphrase: the first line of --passphrase-file (not empty), or typed twice on a terminal. */
async function exportPassphrase(file: string | undefined): Promise<string> {
  if (file !== undefined) return readPassphraseFile(file);
  if (!isInteractive())
    throw new UserError(
      'passphrase-required',
      'a PKCS#12 export needs a passphrase: give it with --passphrase-file FILE, or run in a terminal to be asked',
    );
  const pass = await promptSecret('Passphrase for the PKCS#12 file: ');
  if (!pass) throw new UserError('empty-secret', 'no passphrase given: nothing exported');
  if ((await promptSecret('Repeat the passphrase: ')) !== pass)
    throw new UserError('mismatch', 'the passphrases differ: nothing exported');
  return pass;
}

/** Writes a new file (mode 0600), never over an existing one. */
function writeNew(file: string, data: string | Uint8Array): void {
  if (existsSync(file)) throw new UserError('target-not-empty', `${file} exists already: nothing written`);
  try {
    writeFileSync(file, data, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new UserError('write-failed', `cannot write ${file}: ${(err as Error).message}`);
  }
}

/** Imports; a PKCS#12 passphrase comes from --passphrase-file or, on a terminal, is asked for (three tries). */
function importFile(
  api: ControlApi,
  data: string,
  passphrase: string | undefined,
  trusted: boolean,
): Promise<CertificateList> {
  const opts = trusted ? { trusted } : {};
  if (passphrase !== undefined) return api.importCertificates(data, { ...opts, passphrase });
  return withAskedPassphrase(
    (pass) => api.importCertificates(data, pass === undefined ? opts : { ...opts, passphrase: pass }),
    'Passphrase of the PKCS#12 file: ',
    true,
  );
}

const SOON_MS = 30 * 86_400_000;

/** The directory as status says it: where, the bind, and the last lookup. */
function directoryLines(d: DirectoryStatus | null | undefined): string[] {
  if (!d) return ['No S/MIME directory set (lockbridge certs directory --url ldaps://HOST --base-dn DN).'];
  const bind = d.bindDn
    ? `bind ${d.bindDn} (${d.passwordSet ? 'password kept' : 'no password kept'})`
    : 'anonymous';
  const out = [`S/MIME directory ${d.url}  base ${d.baseDn}  ${bind}${d.caSet ? '  own CA' : ''}`];
  const l = d.lastLookup;
  if (l) out.push(`Last lookup ${l.at}: ${l.ok ? l.detail : `failed: ${l.detail}`}`);
  return out;
}

function line(kind: string, c: CertificateSummary): string {
  const left = Date.parse(c.notAfter) - Date.now();
  const soon = kind.trim() === 'own' && !c.expired && left < SOON_MS;
  const days = Math.max(0, Math.floor(left / 86_400_000));
  const state = c.expired
    ? `EXPIRED ${c.notAfter.slice(0, 10)}`
    : `expires ${c.notAfter.slice(0, 10)}${soon ? ` EXPIRES SOON (${days === 1 ? '1 day' : `${days} days`} left)` : ''}`;
  const trust = c.trusted ? '  trusted' : '';
  return `${kind}  ${c.emails.join(',') || '-'}  ${c.subject || '-'}  ${c.fingerprint}  ${c.source}  ${state}${trust}`;
}

export async function runCerts(ctx: CliContext, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'import': {
      const p = parse(
        rest,
        { 'passphrase-file': { type: 'string' }, trusted: { type: 'boolean' } },
        { min: 1, max: 1, usage: IMPORT_USAGE },
      );
      const file = p.positionals[0] as string;
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        throw new UserError('no-such-file', `cannot read ${file}`);
      }
      const passFile = str(p, 'passphrase-file');
      const passphrase = passFile === undefined ? undefined : readPassphraseFile(passFile, true);
      return withApi(ctx, async ({ api }) => {
        const r = await importFile(api, bytes.toString('base64'), passphrase, flag(p, 'trusted'));
        for (const c of r.own) println(ctx.stdout, `Imported ${line('own ', c)}`);
        for (const c of r.certificates) println(ctx.stdout, `Imported ${line(c.isCa ? 'ca  ' : 'cert', c)}`);
        for (const c of r.crls ?? [])
          println(
            ctx.stdout,
            `Imported crl   ${c.issuer || '-'}  ${c.revoked} revoked  issued ${c.thisUpdate.slice(0, 10)}${c.nextUpdate ? `  next ${c.nextUpdate.slice(0, 10)}` : ''}`,
          );
        return 0;
      });
    }
    case 'issue': {
      const p = parse(rest, { algorithm: { type: 'string' } }, { min: 1, max: 1, usage: ISSUE_USAGE });
      const algorithm = str(p, 'algorithm') ?? 'rsa';
      if (algorithm !== 'rsa' && algorithm !== 'ec')
        throw new UsageError(`--algorithm must be rsa or ec, got '${algorithm}'\nusage: ${ISSUE_USAGE}`);
      return withApi(ctx, async ({ api }) => {
        const c = await api.issueCertificate(p.positionals[0] as string, { algorithm });
        println(ctx.stdout, `Issued ${line('own ', c)}`);
        println(
          ctx.stdout,
          `Signed by ${c.issuer}; its root CA comes with both exports: trust it once in your other mail programs.`,
        );
        println(
          ctx.stdout,
          `Export it for other mail clients: lockbridge certs export ${c.emails[0] ?? c.fingerprint} --pkcs12 --out me.p12`,
        );
        return 0;
      });
    }
    case 'export': {
      const p = parse(
        rest,
        { pkcs12: { type: 'boolean' }, 'passphrase-file': { type: 'string' }, out: { type: 'string' } },
        { min: 1, max: 1, usage: EXPORT_USAGE },
      );
      const ref = p.positionals[0] as string;
      const out = str(p, 'out');
      if (!flag(p, 'pkcs12')) {
        if (str(p, 'passphrase-file') !== undefined)
          throw new UsageError(`--passphrase-file goes with --pkcs12\nusage: ${EXPORT_USAGE}`);
        return withApi(ctx, async ({ api }) => {
          const pem = await api.exportCertificate(ref);
          if (out) writeNew(out, pem);
          else ctx.stdout.write(pem);
          return 0;
        });
      }
      if (!out)
        throw new UsageError(`--pkcs12 needs --out FILE (the file is binary)\nusage: ${EXPORT_USAGE}`);
      const passphrase = await exportPassphrase(str(p, 'passphrase-file'));
      return withApi(ctx, async ({ api }) => {
        const b64 = await api.exportCertificatePkcs12(ref, passphrase);
        writeNew(out, Buffer.from(b64, 'base64'));
        println(ctx.stdout, `Wrote ${out} (your certificate and private key, protected by the passphrase).`);
        return 0;
      });
    }
    case 'list': {
      const p = parse(
        rest,
        { json: { type: 'boolean' } },
        { min: 0, max: 0, usage: 'lockbridge certs list [--json]' },
      );
      return withApi(ctx, async ({ api }) => {
        const r = await api.listCertificates();
        if (flag(p, 'json')) println(ctx.stdout, JSON.stringify(r));
        else if (!r.own.length && !r.certificates.length)
          println(
            ctx.stdout,
            'No S/MIME certificates yet (lockbridge certs import FILE.p12, or lockbridge certs issue E).',
          );
        else {
          for (const c of r.own) println(ctx.stdout, line('own ', c));
          for (const c of r.certificates) println(ctx.stdout, line(c.isCa ? 'ca  ' : 'cert', c));
        }
        return 0;
      });
    }
    case 'directory': {
      const p = parse(
        rest,
        {
          url: { type: 'string' },
          'base-dn': { type: 'string' },
          'bind-dn': { type: 'string' },
          'password-file': { type: 'string' },
          timeout: { type: 'string' },
          'ca-file': { type: 'string' },
          'system-ca': { type: 'boolean' },
          off: { type: 'boolean' },
        },
        { min: 0, max: 0, usage: DIRECTORY_USAGE },
      );
      const url = str(p, 'url');
      const baseDn = str(p, 'base-dn');
      const bindDn = str(p, 'bind-dn');
      const passFile = str(p, 'password-file');
      const timeout = str(p, 'timeout');
      const caFile = str(p, 'ca-file');
      const systemCa = flag(p, 'system-ca');
      const setting =
        [url, baseDn, bindDn, passFile, timeout, caFile].some((v) => v !== undefined) || systemCa;
      if (flag(p, 'off') && setting)
        throw new UsageError(`--off takes no other option\nusage: ${DIRECTORY_USAGE}`);
      if (setting && (url === undefined || baseDn === undefined))
        throw new UsageError(`--url and --base-dn are both needed\nusage: ${DIRECTORY_USAGE}`);
      if (passFile !== undefined && bindDn === undefined)
        throw new UsageError(`--password-file goes with --bind-dn\nusage: ${DIRECTORY_USAGE}`);
      if (timeout !== undefined && !/^\d{1,5}$/.test(timeout))
        throw new UsageError(`--timeout must be milliseconds (100-30000), got '${timeout}'`);
      if (caFile !== undefined && systemCa)
        throw new UsageError(`--ca-file and --system-ca exclude each other\nusage: ${DIRECTORY_USAGE}`);
      // the directory's CA (ldaps:// with an internal CA); checked as PEM certificates by the bridge
      const caPem = caFile === undefined ? undefined : readFileSync(caFile, 'utf8');
      let password: string | undefined;
      if (passFile !== undefined) password = readPassphraseFile(passFile);
      else if (bindDn !== undefined && isInteractive())
        password = await promptSecret(`Password for ${bindDn} (empty: none): `);
      return withApi(ctx, async ({ api }) => {
        if (flag(p, 'off')) {
          await api.updateSettings({ smimeDirectory: null });
          await api.setDirectoryPassword(null);
          println(ctx.stdout, 'S/MIME directory removed (its password forgotten).');
          return 0;
        }
        if (url !== undefined && baseDn !== undefined) {
          const before = (await api.getSettings()).smimeDirectory;
          await api.updateSettings({
            smimeDirectory: {
              url,
              baseDn,
              bindDn: bindDn ?? null,
              timeoutMs:
                timeout === undefined ? (before?.timeoutMs ?? DIRECTORY_TIMEOUT_MS) : Number(timeout),
              // no --ca-file: the CA set before is kept (--system-ca forgets it)
              caPem: systemCa ? null : (caPem ?? before?.caPem ?? null),
            },
          });
          // a new bind DN without a password given: no old password is kept for it
          if (password !== undefined || bindDn === undefined || bindDn !== before?.bindDn)
            await api.setDirectoryPassword(password ?? null);
        }
        for (const l of directoryLines((await api.status()).certificateDirectory)) println(ctx.stdout, l);
        return 0;
      });
    }
    case 'trust':
    case 'distrust': {
      const p = parse(rest, {}, { min: 1, max: 1, usage: `lockbridge certs ${sub} FINGERPRINT` });
      return withApi(ctx, async ({ api }) => {
        await api.setCertificateTrust(p.positionals[0] as string, sub === 'trust');
        println(ctx.stdout, sub === 'trust' ? 'Trusted.' : 'No longer trusted.');
        return 0;
      });
    }
    default:
      throw new UsageError(
        sub ? `unknown certs command '${sub}' (${COMMANDS})` : `missing certs command (${COMMANDS})`,
      );
  }
}
