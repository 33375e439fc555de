import { writeFileSync, chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { flag, parse, requireStr } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { requireStore, withApi } from '../session.ts';
import { isInteractive, promptSecret } from '../prompt.ts';
import { pathsFor } from '../../config/paths.ts';
import { findRunningBridge } from '../../control/http/client.ts';
import { buildReport } from '../../control/report.ts';
import type { ReportBundle } from '../../control/contract.ts';

const USAGE = 'lockbridge report --out FILE [--include-personal]';
const NO_STORE =
  'accounts, settings and store health: left out, the store is encrypted and was opened without the passphrase (set LOCKBRIDGE_PASSPHRASE, or start the bridge, and run report again)';

/** The passphrase from the environment, or asked at a terminal (Enter skips); null = without the store. */
async function passphraseOrNone(): Promise<string | null> {
  const env = process.env.LOCKBRIDGE_PASSPHRASE;
  if (env !== undefined && env !== '') return env;
  if (!isInteractive()) return null;
  const pass = await promptSecret('Store passphrase (Enter to make the report without the store): ');
  return pass === '' ? null : pass;
}

export async function runReport(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { out: { type: 'string' }, 'include-personal': { type: 'boolean' } },
    { min: 0, max: 0, usage: USAGE },
  );
  const out = resolve(requireStr(p, 'out', USAGE));
  const includePersonal = flag(p, 'include-personal');
  requireStore(ctx.home);
  let bundle: ReportBundle;
  if (findRunningBridge(pathsFor(ctx.home))) {
    bundle = await withApi(ctx, ({ api }) => api.createReport({ includePersonal }));
  } else {
    const pass = await passphraseOrNone();
    if (pass !== null) {
      bundle = await withApi(ctx, ({ api }) => api.createReport({ includePersonal }), pass);
    } else {
      println(
        ctx.stderr,
        'Making the report without the passphrase: version, platform and logs only (accounts, settings and store health need it).',
      );
      bundle = await buildReport({ home: ctx.home, includePersonal, running: false, missing: [NO_STORE] });
    }
  }
  writeFileSync(out, bundle.content, { mode: 0o600 });
  chmodSync(out, 0o600);
  println(ctx.stdout, `Bug report written to ${out}`);
  println(
    ctx.stdout,
    bundle.redacted
      ? 'Addresses, subjects, personal folder names, provider hosts and IPs are replaced by placeholders; secrets are removed. Read it before you send it.'
      : 'It includes your addresses, subjects and folder names (--include-personal); secrets are removed. Read it before you send it.',
  );
  for (const m of bundle.missing) println(ctx.stdout, `Left out: ${m}`);
  return 0;
}
