import { spawn } from 'node:child_process';
import { flag, parse } from '../args.ts';
import { println, type CliContext } from '../context.ts';
import { pathsFor } from '../../config/paths.ts';
import { findRunningBridge } from '../../control/http/client.ts';
import { UserError } from '../../shared/errors.ts';

const USAGE = 'lockbridge ui [--open] [--json]';

/** The platform's "open this address" command. */
function opener(): string {
  if (process.platform === 'darwin') return 'open';
  if (process.platform === 'win32') return 'explorer';
  return 'xdg-open';
}

/** Prints (and with --open opens) the UI address of the bridge serving this data directory. */
export async function runUi(ctx: CliContext, argv: string[]): Promise<number> {
  const p = parse(
    argv,
    { open: { type: 'boolean' }, json: { type: 'boolean' } },
    { min: 0, max: 0, usage: USAGE },
  );
  const running = findRunningBridge(pathsFor(ctx.home));
  if (!running)
    throw new UserError(
      'not-running',
      "no bridge is running for this data directory: start it with 'lockbridge serve --ui'",
    );
  if (!running.ui)
    throw new UserError(
      'no-ui',
      "the running bridge does not serve the UI: restart it with 'lockbridge serve --ui' (add --control-port N to keep the port)",
    );
  const url = `http://127.0.0.1:${running.port}/#token=${running.token}`;
  if (flag(p, 'json')) println(ctx.stdout, JSON.stringify({ ui: url, control: running.port }));
  else println(ctx.stdout, url);
  if (flag(p, 'open')) {
    const cmd = opener();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
      child.once('error', (err) =>
        reject(new UserError('open-failed', `could not start ${cmd} to open the address: ${err.message}`)),
      );
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
    });
  }
  return 0;
}
