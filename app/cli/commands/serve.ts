import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { flag, parse, portNumber, str } from '../args.ts';
import type { CliContext } from '../context.ts';
import { passphrase, requireStore } from '../session.ts';
import { createBridge } from '../../index.ts';
import { createLogging } from '../../config/logging.ts';
import { pathsFor } from '../../config/paths.ts';
import { UserError } from '../../shared/errors.ts';

const USAGE = 'lockbridge serve [--imap-port N] [--smtp-port N] [--control-port N] [--offline] [--ui]';

function uiDir(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'renderer', 'dist');
  if (!existsSync(join(dir, 'index.html')))
    throw new UserError('no-ui', `the UI is not built (${dir}): run npm run build:ui`);
  return dir;
}

export async function runServe(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    {
      'imap-port': { type: 'string' },
      'smtp-port': { type: 'string' },
      'control-port': { type: 'string' },
      offline: { type: 'boolean' },
      ui: { type: 'boolean' },
    },
    { min: 0, max: 0, usage: USAGE },
  );
  const imapPort = portNumber(str(p, 'imap-port'), 'imap-port');
  const smtpPort = portNumber(str(p, 'smtp-port'), 'smtp-port');
  const controlPort = portNumber(str(p, 'control-port'), 'control-port');
  const ui = flag(p, 'ui') ? uiDir() : undefined;
  requireStore(ctx.home);
  const pass = await passphrase();
  const logging = createLogging({ file: pathsFor(ctx.home).logFile, stderr: true });
  const bridge = await createBridge({
    home: ctx.home,
    passphrase: pass,
    logger: logging.logger,
    logs: logging.ring,
    offline: flag(p, 'offline'),
  }).catch((err: unknown) => {
    logging.close();
    throw err;
  });
  let info;
  try {
    info = await bridge.serve({
      ...(imapPort !== undefined ? { imapPort } : {}),
      ...(smtpPort !== undefined ? { smtpPort } : {}),
      ...(controlPort !== undefined ? { controlPort } : {}),
      ...(ui ? { uiDir: ui } : {}),
    });
  } catch (err) {
    await bridge.close();
    logging.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UserError(
        'port-in-use',
        `a port is already in use: ${(err as Error).message.replace(/^listen /, '')}`,
      );
    throw err;
  }
  ctx.stdout.write(`${JSON.stringify({ event: 'ready', ...info })}\n`);
  logging.logger.info({ imap: info.imap, smtp: info.smtp, control: info.control }, 'bridge ready');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logging.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logging.logger.error({}, 'shutdown took too long; exiting');
        resolve(0);
      }, 4500);
      force.unref();
      bridge
        .close()
        .catch((err: unknown) => logging.logger.error({ err: String(err) }, 'error while closing'))
        .finally(() => {
          clearTimeout(force);
          logging.close();
          resolve(0);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
