/**
 * `lockbridge certs import|list|trust|distrust` (issue 19): S/MIME certificates — the user's own
 * (PKCS#12 with its passphrase) and correspondents' or CAs' (PEM/DER), through the control API.
 */
import { readFileSync } from 'node:fs';
import { flag, parse, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { readPassphraseFile, withAskedPassphrase } from '../prompt.ts';
import { withApi } from '../session.ts';
import { UsageError, UserError } from '../../shared/errors.ts';
import type { CertificateList, CertificateSummary, ControlApi } from '../../control/contract.ts';

const IMPORT_USAGE = 'lockbridge certs import FILE [--passphrase-file F] [--trusted]';

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

function line(kind: string, c: CertificateSummary): string {
  const state = c.expired ? 'EXPIRED' : `expires ${c.notAfter.slice(0, 10)}`;
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
          println(ctx.stdout, 'No S/MIME certificates yet (lockbridge certs import FILE.p12).');
        else {
          for (const c of r.own) println(ctx.stdout, line('own ', c));
          for (const c of r.certificates) println(ctx.stdout, line(c.isCa ? 'ca  ' : 'cert', c));
        }
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
        sub
          ? `unknown certs command '${sub}' (import, list, trust, distrust)`
          : 'missing certs command (import, list, trust, distrust)',
      );
  }
}
