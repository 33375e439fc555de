/**
 * The one shape the renderer talks to: every ControlApi method plus `subscribe` for BridgeEvents.
 * In Electron the preload exposes it as `window.bridge`; in a browser `http-bridge.ts` builds it
 * over the headless control server.
 */
import type { BridgeEvent, ControlApi } from '../../app/control/contract.ts';

export type BridgeListener = (event: BridgeEvent) => void;

export type BridgeApi = ControlApi & {
  /** Receives every BridgeEvent until the returned function is called. */
  subscribe(listener: BridgeListener): () => void;
};

declare global {
  interface Window {
    bridge?: BridgeApi;
  }
}

/** A control call failed: `message` is meant for the user as-is. */
export class ControlCallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ControlCallError';
    this.code = code;
  }
}

/**
 * The Electron preload rejects with a plain `{ name: 'ControlCallError', code, message }` object
 * (the context bridge keeps only an Error's message); the browser adapter with ControlCallError.
 */
function asControlError(err: unknown): { code: string; message: string } | null {
  if (err instanceof ControlCallError) return { code: err.code, message: err.message };
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  if (e.name === 'ControlCallError' && typeof e.code === 'string' && typeof e.message === 'string')
    return { code: e.code, message: e.message };
  return null;
}

/** The message to show for anything a control call threw. */
export function errorMessage(err: unknown): string {
  const control = asControlError(err);
  if (control) return control.message;
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return 'Something went wrong.';
}

export function errorCode(err: unknown): string | null {
  return asControlError(err)?.code ?? null;
}
