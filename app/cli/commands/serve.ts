import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { flag, parse, portNumber, str } from '../args.ts';
import type { CliContext } from '../context.ts';
import { passphrase, requireStore } from '../session.ts';
import { isInteractive } from '../prompt.ts';
import { createBridgeHost } from '../../host.ts';
import { storeExists } from '../../store/store.ts';
import { discoveryDepsFromEnv } from '../../control/provider-discovery.ts';
import { createLogging } from '../../config/logging.ts';
import { pathsFor } from '../../config/paths.ts';
import { UsageError, UserError } from '../../shared/errors.ts';
import type { ControlApi } from '../../control/contract.ts';
import { serveSummary } from '../serve-summary.ts';

const USAGE =
  'lockbridge serve [--imap-port N] [--smtp-port N] [--control-port N] [--offline] [--ui] [--json]';

/** The built renderer: LOCKBRIDGE_UI_DIR (packagers, tests), else renderer/dist of this checkout. */
function uiDir(): string {
  const dir =
    process.env.LOCKBRIDGE_UI_DIR ||
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'renderer', 'dist');
  if (!existsSync(join(dir, 'index.html')))
    throw new UserError('no-ui', `the UI is not built (${dir}): run npm run build:ui`);
  return dir;
}

async function printSummary(ctx: CliContext, api: ControlApi, ui: string | undefined): Promise<void> {
  try {
    const [status, credentials] = await Promise.all([api.status(), api.credentials().catch(() => null)]);
    ctx.stderr.write(`${serveSummary({ status, credentials, ...(ui ? { ui } : {}) })}\n`);
  } catch {
    /* closing already: no summary */
  }
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
      json: { type: 'boolean' },
    },
    { min: 0, max: 0, usage: USAGE },
  );
  const imapPort = portNumber(str(p, 'imap-port'), 'imap-port');
  const smtpPort = portNumber(str(p, 'smtp-port'), 'smtp-port');
  // the control (and UI) port: pinned by --control-port or LOCKBRIDGE_CONTROL_PORT, else a free one
  const controlPort = portNumber(
    str(p, 'control-port') ?? (process.env.LOCKBRIDGE_CONTROL_PORT || undefined),
    'control-port',
  );
  const ui = flag(p, 'ui') ? uiDir() : undefined;
  // With --ui the store may be created or unlocked in the browser: no store, or no passphrase at
  // hand (no LOCKBRIDGE_PASSPHRASE, no terminal), starts locked and waits for the UI.
  const envPass = process.env.LOCKBRIDGE_PASSPHRASE;
  const havePass = (envPass !== undefined && envPass !== '') || isInteractive();
  const exists = storeExists(ctx.home);
  if (!ui) requireStore(ctx.home);
  const pass = exists && (havePass || !ui) ? await passphrase() : undefined;
  const local = process.env.LOCKBRIDGE_LOCAL_PASSWORD;
  // A person at a terminal reads human lines and a summary; pipes, files and --json get JSON lines.
  const human = Boolean(process.stderr.isTTY) && !flag(p, 'json');
  const logging = createLogging({ file: pathsFor(ctx.home).logFile, stderr: human ? 'pretty' : true });
  const host = createBridgeHost({
    home: ctx.home,
    logger: logging.logger,
    logs: logging.ring,
    offline: flag(p, 'offline'),
    ...secondsFromEnv('pollSeconds', 'LOCKBRIDGE_POLL_SECONDS', 1, 3600),
    ...secondsFromEnv('probeSeconds', 'LOCKBRIDGE_PROBE_SECONDS', 2, 600),
    providerDiscovery: discoveryDepsFromEnv(),
    serve: {
      ...(imapPort !== undefined ? { imapPort } : {}),
      ...(smtpPort !== undefined ? { smtpPort } : {}),
    },
    control: { port: controlPort ?? 0, ...(ui ? { uiDir: ui } : {}) },
    ...(local !== undefined && local.length >= 8 ? { localPassword: local } : {}),
    onReady: (info) => {
      ctx.stdout.write(`${JSON.stringify({ event: 'ready', ...info })}\n`);
      logging.logger.info({ imap: info.imap, smtp: info.smtp, control: info.control }, 'bridge ready');
      if (human) void printSummary(ctx, host.api, info.ui);
    },
  });
  // signals are handled from the start: the ready line may come (and a SIGTERM after it) before
  // start() returns
  let stopping = false;
  const done = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logging.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logging.logger.error({}, 'shutdown took too long; exiting');
        resolve(0);
      }, 4500);
      force.unref();
      host
        .close()
        .catch((err: unknown) => logging.logger.error({ err }, 'error while closing'))
        .finally(() => {
          clearTimeout(force);
          logging.close();
          resolve(0);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  try {
    await host.start(pass !== undefined ? { passphrase: pass } : {});
  } catch (err) {
    if (stopping) return done;
    logging.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UserError(
        'port-in-use',
        `a port is already in use: ${(err as Error).message.replace(/^listen /, '')}`,
      );
    throw err;
  }
  if (host.locked && !stopping) {
    ctx.stdout.write(`${JSON.stringify({ event: 'locked', control: host.controlPort, ui: host.uiUrl })}\n`);
    ctx.stderr.write(
      `Lockbridge is ${exists ? 'locked' : 'not set up yet'}: open ${host.uiUrl ?? 'the UI'} to ${exists ? 'unlock it' : 'create the store'}\n`,
    );
  }
  return done;
}

/**
 * A whole number of seconds from the environment: LOCKBRIDGE_POLL_SECONDS (how often folders other
 * than INBOX are looked at; default 60), LOCKBRIDGE_PROBE_SECONDS (how often quiet provider
 * connections are probed; default 20).
 */
function secondsFromEnv<K extends 'pollSeconds' | 'probeSeconds'>(
  key: K,
  name: string,
  min: number,
  max: number,
): { [k in K]?: number } {
  const v = process.env[name];
  if (v === undefined || v === '') return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number of seconds from ${min} to ${max}, got '${v}'`);
  return { [key]: n } as { [k in K]?: number };
}
