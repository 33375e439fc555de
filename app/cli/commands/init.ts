import { parse } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { initHome } from '../../index.ts';
import { storeExists } from '../../store/store.ts';
import { ConflictError, UserError } from '../../shared/errors.ts';
import { createLogging } from '../../config/logging.ts';
import { pathsFor } from '../../config/paths.ts';
import { isInteractive, promptSecret } from '../prompt.ts';

const USAGE = 'lockbridge init';

async function newPassphrase(): Promise<string> {
  const env = process.env.LOCKBRIDGE_PASSPHRASE;
  if (env !== undefined && env !== '') return env;
  if (!isInteractive())
    throw new UserError(
      'no-secret',
      'the store passphrase is needed: set LOCKBRIDGE_PASSPHRASE or run in a terminal',
    );
  const a = await promptSecret('New store passphrase: ');
  if (a.length < 8) throw new UserError('weak-passphrase', 'the passphrase must have at least 8 characters');
  const b = await promptSecret('Repeat the passphrase: ');
  if (a !== b) throw new UserError('mismatch', 'the passphrases do not match');
  return a;
}

export async function runInit(ctx: CliContext, argv: string[]): Promise<number> {
  parse(argv, {}, { min: 0, max: 0, usage: USAGE });
  if (storeExists(ctx.home))
    throw new ConflictError(
      'store-exists',
      `a store already exists in ${ctx.home}; refusing to overwrite it`,
    );
  const pass = await newPassphrase();
  const local = process.env.LOCKBRIDGE_LOCAL_PASSWORD;
  if (local !== undefined && local.length < 8)
    throw new UserError('weak-password', 'LOCKBRIDGE_LOCAL_PASSWORD must have at least 8 characters');
  const logging = createLogging({ file: pathsFor(ctx.home).logFile });
  try {
    const res = await initHome({
      home: ctx.home,
      passphrase: pass,
      logger: logging.logger,
      ...(local ? { localPassword: local } : {}),
    });
    println(ctx.stdout, `Created the encrypted store in ${ctx.home}`);
    println(ctx.stdout, `Local password for mail clients: ${res.localPassword}`);
    println(
      ctx.stdout,
      `Next: lockbridge account add --email YOU@EXAMPLE.ORG --imap HOST:993 --smtp HOST:465 --security tls`,
    );
    return 0;
  } finally {
    logging.close();
  }
}
