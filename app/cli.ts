/**
 * The headless `lockbridge` command (../CONTRACT.md). Exit codes: 0 ok, 1 a user-facing error
 * (one line on stderr), 2 bad usage. While a bridge serves the data directory, commands go
 * through its control API so their effects reach connected clients at once.
 */
import { UsageError, UserError, errorMessage } from './shared/errors.ts';
import { MAIN_HELP, HELP } from './cli/help.ts';
import { resolveHome } from './config/paths.ts';
import type { CliContext } from './cli/context.ts';
import { VERSION } from './shared/version.ts';

type Runner = (ctx: CliContext, argv: string[]) => Promise<number>;

// Each command module is loaded only when it runs, so `--help` and one-shot commands start fast.
const COMMANDS: Record<string, () => Promise<Runner>> = {
  init: async () => (await import('./cli/commands/init.ts')).runInit,
  account: async () => (await import('./cli/commands/account.ts')).runAccount,
  keys: async () => (await import('./cli/commands/keys.ts')).runKeys,
  certs: async () => (await import('./cli/commands/certs.ts')).runCerts,
  import: async () => (await import('./cli/commands/import.ts')).runImport,
  export: async () => (await import('./cli/commands/export.ts')).runExport,
  serve: async () => (await import('./cli/commands/serve.ts')).runServe,
  credentials: async () => (await import('./cli/commands/credentials.ts')).runCredentials,
  status: async () => (await import('./cli/commands/status.ts')).runStatus,
  ui: async () => (await import('./cli/commands/ui.ts')).runUi,
  report: async () => (await import('./cli/commands/report.ts')).runReport,
};

/** Splits off the global options (`--home DIR`, `--help`, `--version`) that may come before the command. */
function splitGlobal(argv: string[]): { home?: string; help: boolean; version: boolean; rest: string[] } {
  let home: string | undefined;
  let help = false;
  let version = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--home') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError('--home needs a directory');
      home = v;
      i++;
    } else if (a.startsWith('--home=')) home = a.slice('--home='.length);
    else if ((a === '--help' || a === '-h') && rest.length === 0) help = true;
    else if (a === '--version' && rest.length === 0) version = true;
    else rest.push(a);
  }
  return { home, help, version, rest };
}

export async function main(argv: string[]): Promise<number> {
  let global: ReturnType<typeof splitGlobal>;
  try {
    global = splitGlobal(argv);
  } catch (err) {
    process.stderr.write(`lockbridge: ${errorMessage(err)}\n`);
    return 2;
  }
  if (global.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = global.rest;
  if (global.help || command === undefined || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    process.stdout.write(`${(topic && HELP[topic]) || MAIN_HELP}\n`);
    return command === undefined && !global.help ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`lockbridge: unknown command '${command}' (see lockbridge --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${HELP[command]}\n`);
    return 0;
  }
  const ctx: CliContext = { home: resolveHome(global.home), stdout: process.stdout, stderr: process.stderr };
  try {
    const runner = await load();
    return await runner(ctx, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lockbridge ${command}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`lockbridge ${command}: ${err.message}\n`);
      // stopped by Ctrl-C: the shell's convention for SIGINT
      return err.code === 'cancelled' ? 130 : 1;
    }
    process.stderr.write(`lockbridge ${command}: unexpected error: ${errorMessage(err)}\n`);
    if (process.env.LOCKBRIDGE_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
