import { readFileSync } from 'node:fs';
import { flag, parse, str } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { readPassphraseFile, withAskedPassphrase } from '../prompt.ts';
import { withApi } from '../session.ts';
import { UsageError, UserError } from '../../shared/errors.ts';
import type { ControlApi, KeySummary } from '../../control/contract.ts';

const IMPORT_USAGE = 'lockbridge keys import FILE [--passphrase-file F]';

/**
 * Imports; a protected secret key is unlocked with the passphrase from --passphrase-file or, on a
 * terminal, asked for (no echo; three tries).
 */
function importWithPassphrase(
  api: ControlApi,
  text: string,
  fromFile: string | undefined,
): Promise<KeySummary[]> {
  if (fromFile !== undefined) return api.importKey(text, fromFile);
  return withAskedPassphrase(
    (pass) => (pass === undefined ? api.importKey(text) : api.importKey(text, pass)),
    'Passphrase of the secret key: ',
  );
}

function line(k: KeySummary): string {
  const state = k.revoked ? 'revoked' : k.expires && Date.parse(k.expires) < Date.now() ? 'expired' : 'valid';
  const backup = k.own && k.needsBackup ? '  (not backed up: run keys export --secret)' : '';
  return `${k.own ? 'own    ' : 'contact'}  ${k.email}  ${k.fingerprint}  ${k.source}/${k.trust}  ${state}${backup}`;
}

export async function runKeys(ctx: CliContext, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'generate': {
      const p = parse(rest, {}, { min: 1, max: 1, usage: 'lockbridge keys generate E' });
      return withApi(ctx, async ({ api }) => {
        const k = await api.generateKey(p.positionals[0] as string);
        println(ctx.stdout, `Generated ${k.fingerprint} for ${k.email}.`);
        println(ctx.stdout, 'Back it up: lockbridge keys export ' + k.email + ' --secret > key.asc');
        return 0;
      });
    }
    case 'import': {
      const p = parse(
        rest,
        { 'passphrase-file': { type: 'string' } },
        { min: 1, max: 1, usage: IMPORT_USAGE },
      );
      const file = p.positionals[0] as string;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new UserError('no-such-file', `cannot read ${file}`);
      }
      const passFile = str(p, 'passphrase-file');
      const passphrase = passFile === undefined ? undefined : readPassphraseFile(passFile);
      return withApi(ctx, async ({ api }) => {
        const keys = await importWithPassphrase(api, text, passphrase);
        for (const k of keys) println(ctx.stdout, `Imported ${line(k)}`);
        return 0;
      });
    }
    case 'export': {
      const p = parse(
        rest,
        { secret: { type: 'boolean' } },
        { min: 1, max: 1, usage: 'lockbridge keys export E [--secret]' },
      );
      return withApi(ctx, async ({ api }) => {
        ctx.stdout.write(await api.exportKey(p.positionals[0] as string, flag(p, 'secret')));
        return 0;
      });
    }
    case 'list': {
      const p = parse(
        rest,
        { json: { type: 'boolean' } },
        { min: 0, max: 0, usage: 'lockbridge keys list [--json]' },
      );
      return withApi(ctx, async ({ api }) => {
        const keys = await api.listKeys();
        if (flag(p, 'json')) println(ctx.stdout, JSON.stringify(keys));
        else if (!keys.length) println(ctx.stdout, 'No keys yet (lockbridge keys generate YOU@EXAMPLE.ORG).');
        else for (const k of keys) println(ctx.stdout, line(k));
        return 0;
      });
    }
    case 'show': {
      const p = parse(rest, {}, { min: 1, max: 1, usage: 'lockbridge keys show E' });
      const email = (p.positionals[0] as string).toLowerCase();
      return withApi(ctx, async ({ api }) => {
        const keys = (await api.listKeys()).filter((k) => k.email.toLowerCase() === email);
        if (!keys.length) throw new UserError('not-found', `no keys for ${email}`);
        for (const k of keys) {
          println(ctx.stdout, `${k.own ? 'Own key' : 'Contact key'} for ${k.email}`);
          println(ctx.stdout, `  fingerprint: ${k.fingerprint}`);
          println(ctx.stdout, `  source: ${k.source}, trust: ${k.trust}`);
          println(
            ctx.stdout,
            `  created: ${k.created}, expires: ${k.expires ?? 'never'}${k.revoked ? ', REVOKED' : ''}`,
          );
          if (k.own) println(ctx.stdout, `  backed up: ${k.needsBackup ? 'no' : 'yes'}`);
        }
        const warnings = (await api.keyWarnings()).filter((w) => w.email.toLowerCase() === email);
        for (const w of warnings)
          println(
            ctx.stdout,
            `  WARNING: key changed from ${w.oldFingerprint} to ${w.newFingerprint} (${w.source})`,
          );
        return 0;
      });
    }
    default:
      throw new UsageError(
        sub
          ? `unknown keys command '${sub}' (generate, import, export, list, show)`
          : 'missing keys command (generate, import, export, list, show)',
      );
  }
}
