/**
 * How a CLI command reaches the engine: through the running bridge's control API when one serves
 * this data directory, else by opening the store itself (which needs the passphrase).
 */
import type { BridgeEvent, ControlApi } from '../control/contract.ts';
import { pathsFor } from '../config/paths.ts';
import { findRunningBridge, remoteControlApi, subscribeControl } from '../control/http/client.ts';
import { createLogging } from '../config/logging.ts';
import { createBridge } from '../index.ts';
import { storeExists } from '../store/store.ts';
import { UserError } from '../shared/errors.ts';
import { secretFrom } from './prompt.ts';
import type { CliContext } from './context.ts';

export interface ApiSession {
  api: ControlApi;
  remote: boolean;
  /** Subscribes to engine events (in-process, or the running bridge's event stream); resolves once subscribed. */
  onEvent(cb: (e: BridgeEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

export function requireStore(home: string): void {
  if (!storeExists(home))
    throw new UserError('no-store', `no Lockbridge store in ${home} (run 'lockbridge init' first)`);
}

export async function passphrase(): Promise<string> {
  return secretFrom('LOCKBRIDGE_PASSPHRASE', 'Store passphrase: ', 'the store passphrase');
}

export async function openApi(ctx: CliContext, given?: string): Promise<ApiSession> {
  requireStore(ctx.home);
  const paths = pathsFor(ctx.home);
  const running = findRunningBridge(paths);
  if (running)
    return {
      api: remoteControlApi(running),
      remote: true,
      onEvent: (cb) => subscribeControl(running, cb),
      close: async () => {},
    };
  const logging = createLogging({ file: paths.logFile });
  const bridge = await createBridge({
    home: ctx.home,
    passphrase: given ?? (await passphrase()),
    logger: logging.logger,
    logs: logging.ring,
    offline: false,
  }).catch((err: unknown) => {
    logging.close();
    throw err;
  });
  return {
    api: bridge.api,
    remote: false,
    onEvent: async (cb) => bridge.events.subscribe(cb),
    close: async () => {
      await bridge.close();
      logging.close();
    },
  };
}

export async function withApi<T>(
  ctx: CliContext,
  fn: (s: ApiSession) => Promise<T>,
  given?: string,
): Promise<T> {
  const s = await openApi(ctx, given);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
