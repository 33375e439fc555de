/**
 * The IPC side of `window.bridge` in the main process. Pure: Electron's ipcMain, the window and
 * the engine are passed in, so every rule here is unit-tested without the Electron binary.
 *
 * One channel carries calls (`bridge:call`, payload `{ method, args }`, answered through
 * `ipcMain.handle`), one carries events to the window (`bridge:event`). A call is refused with a
 * ControlError unless it comes from the app's own page in the app's own window, names a ControlApi
 * method, and carries a small array of plain JSON values.
 */
import type { BridgeEvent, ControlApi, ControlError, ControlErrorCode } from '../app/control/contract.ts';
import { CONTROL_METHODS } from '../app/control/contract.ts';

export const CALL_CHANNEL = 'bridge:call';
export const EVENT_CHANNEL = 'bridge:event';

/** What a call answers: never a rejected promise, so the code survives Electron's IPC. */
export type CallReply = { ok: true; result: unknown } | { ok: false; error: ControlError };

export const LIMITS = {
  /** No ControlApi method takes more. */
  maxArgs: 4,
  /** Serialized size of all arguments (an armored key or a WKD import is well below). */
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 16,
  /** Keys of one object, items of one array. */
  maxEntries: 10_000,
} as const;

const METHODS: ReadonlySet<string> = new Set(CONTROL_METHODS);

export class IpcRefusal extends Error {
  override name = 'IpcRefusal';
  readonly code: ControlErrorCode;
  constructor(code: ControlErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The parts of an `IpcMainInvokeEvent` that the sender check reads. */
export interface SenderInfo {
  /** `event.sender.id` */
  webContentsId: number;
  /** `event.senderFrame?.url` — null when the frame is gone. */
  frameUrl: string | null;
  /** `event.senderFrame` is the top frame of its page (`senderFrame.parent === null`). */
  isMainFrame: boolean;
}

/** The app page's URL without query and fragment ('file:///…/renderer/dist/index.html'). */
export function pageUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  u.hash = '';
  u.search = '';
  return u.href;
}

/** True when `url` is the app's own page (any fragment or query: the renderer routes by hash). */
export function isAppPage(url: string, appUrl: string): boolean {
  const a = pageUrl(url);
  return a !== null && a === pageUrl(appUrl) && a.startsWith('file:');
}

/** Only the app's own page, in the top frame of the app's own window, may call. */
export function checkSender(
  sender: SenderInfo,
  trusted: { webContentsId: number | null; appUrl: string },
): void {
  if (trusted.webContentsId === null || sender.webContentsId !== trusted.webContentsId)
    throw new IpcRefusal('forbidden', 'calls are accepted only from the Lockbridge window');
  if (!sender.isMainFrame || sender.frameUrl === null || !isAppPage(sender.frameUrl, trusted.appUrl))
    throw new IpcRefusal('forbidden', 'calls are accepted only from the Lockbridge page');
}

/** Plain JSON: null, booleans, finite numbers, strings, arrays and plain objects, bounded. */
export function checkJsonValue(value: unknown, depth = 0): void {
  if (depth > LIMITS.maxDepth) throw new IpcRefusal('invalid-argument', 'arguments are nested too deeply');
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new IpcRefusal('invalid-argument', 'numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > LIMITS.maxEntries) throw new IpcRefusal('invalid-argument', 'an array is too long');
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new IpcRefusal('invalid-argument', 'arrays must not have holes');
      checkJsonValue(value[i], depth + 1);
    }
    return;
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      throw new IpcRefusal('invalid-argument', 'arguments must be plain JSON values');
    const keys = Object.keys(value);
    if (keys.length > LIMITS.maxEntries)
      throw new IpcRefusal('invalid-argument', 'an object has too many keys');
    for (const k of keys) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype')
        throw new IpcRefusal('invalid-argument', `the key ${JSON.stringify(k)} is not allowed`);
      checkJsonValue((value as Record<string, unknown>)[k], depth + 1);
    }
    return;
  }
  throw new IpcRefusal('invalid-argument', `arguments must be plain JSON values (got ${typeof value})`);
}

export interface ValidCall {
  method: keyof ControlApi;
  args: unknown[];
}

/** Checks the shape of a `bridge:call` payload. */
export function validateCall(payload: unknown): ValidCall {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new IpcRefusal('invalid-call', 'a call is an object { method, args }');
  const { method, args } = payload as { method?: unknown; args?: unknown };
  if (typeof method !== 'string' || !METHODS.has(method))
    throw new IpcRefusal('unknown-method', `unknown method ${JSON.stringify(String(method)).slice(0, 80)}`);
  if (!Array.isArray(args)) throw new IpcRefusal('invalid-call', 'args must be an array');
  if (args.length > LIMITS.maxArgs) throw new IpcRefusal('invalid-call', 'too many arguments');
  checkJsonValue(args);
  const size = Buffer.byteLength(JSON.stringify(args), 'utf8');
  if (size > LIMITS.maxBytes) throw new IpcRefusal('too-large', 'the arguments are too large');
  return { method: method as keyof ControlApi, args };
}

export interface CallHandlerDeps {
  api: ControlApi;
  /** The window whose page may call, and that page's URL. */
  trusted(): { webContentsId: number | null; appUrl: string };
  /** The engine's one error formatter (app/control/errors.ts toControlError). */
  toControlError(err: unknown): ControlError;
  /** Called after a successful call (the shell reacts to some, e.g. updateSettings). */
  onResult?(method: keyof ControlApi, result: unknown): void;
  /** Refused calls and internal errors are logged (never the arguments). */
  warn?(msg: string, fields: Record<string, unknown>): void;
}

/** The `ipcMain.handle(CALL_CHANNEL, …)` body: never throws, answers a CallReply. */
export function createCallHandler(
  deps: CallHandlerDeps,
): (sender: SenderInfo, payload: unknown) => Promise<CallReply> {
  return async (sender, payload) => {
    let call: ValidCall;
    try {
      checkSender(sender, deps.trusted());
      call = validateCall(payload);
    } catch (err) {
      const e = err instanceof IpcRefusal ? err : new IpcRefusal('invalid-call', 'invalid call');
      deps.warn?.('refused an IPC call', { code: e.code, frame: sender.frameUrl });
      return { ok: false, error: { code: e.code, message: e.message } };
    }
    try {
      const fn = deps.api[call.method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(deps.api, call.args);
      deps.onResult?.(call.method, result);
      return { ok: true, result: result === undefined ? null : result };
    } catch (err) {
      const error = deps.toControlError(err);
      if (error.code === 'internal') deps.warn?.('control call failed', { method: call.method, err });
      return { ok: false, error: { code: error.code, message: error.message } };
    }
  };
}

/** Forwards every BridgeEvent to the window while it exists; returns the unsubscribe. */
export function forwardEvents(
  subscribe: (listener: (e: BridgeEvent) => void) => () => void,
  send: (channel: string, event: BridgeEvent) => void,
): () => void {
  return subscribe((event) => {
    try {
      send(EVENT_CHANNEL, event);
    } catch {
      /* the window is being destroyed: the next one subscribes again through `status` */
    }
  });
}
