/**
 * The browser adapter (`lockbridge serve --ui`): the same BridgeApi over the headless control
 * server. `POST /api/<method>` with a JSON array of arguments and the bearer token; events through
 * Server-Sent Events on `/api/events`.
 */
import type { BridgeEvent, ControlApi, ControlError } from '../../app/control/contract.ts';
import { type BridgeApi, type BridgeListener, ControlCallError } from './bridge-types.ts';

/** Every ControlApi method; the Record type makes the compiler insist the list is complete. */
const METHODS: Record<keyof ControlApi, true> = {
  status: true,
  initialize: true,
  unlock: true,
  changePassphrase: true,
  listAccounts: true,
  discoverProvider: true,
  addAccount: true,
  removeAccount: true,
  setProviderPassword: true,
  setProviderOAuth: true,
  beginOAuthSignIn: true,
  finishOAuthSignIn: true,
  cancelOAuthSignIn: true,
  repairAccount: true,
  pauseSync: true,
  resumeSync: true,
  credentials: true,
  resetLocalPassword: true,
  thunderbirdAutoconfig: true,
  listKeys: true,
  generateKey: true,
  importKey: true,
  exportKey: true,
  keyWarnings: true,
  acceptKeyChange: true,
  setKeyTrust: true,
  sendSetupMessage: true,
  importSetupMessage: true,
  exportWkd: true,
  listCertificates: true,
  importCertificates: true,
  setCertificateTrust: true,
  issueCertificate: true,
  exportCertificatePkcs12: true,
  exportCertificate: true,
  importMessages: true,
  exportMessages: true,
  cancelExport: true,
  outbox: true,
  retryOutbox: true,
  cancelOutbox: true,
  sendOutboxUnencrypted: true,
  getSettings: true,
  updateSettings: true,
  setDirectoryPassword: true,
  recentLogs: true,
  createReport: true,
};

const UNREACHABLE = 'The bridge is not reachable. Is lockbridge still running?';

async function call(token: string, method: string, args: unknown[]): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(args),
      cache: 'no-store',
    });
  } catch {
    throw new ControlCallError('unreachable', UNREACHABLE);
  }
  let body: { result?: unknown; error?: ControlError };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ControlCallError('bad-response', `The bridge answered ${res.status} without a result.`);
  }
  if (body.error) {
    const message =
      body.error.code === 'unauthorized'
        ? `${body.error.message} — open the "ui" address that lockbridge serve printed.`
        : body.error.message;
    throw new ControlCallError(body.error.code, message);
  }
  return body.result ?? null;
}

export function createHttpBridge(token: string): BridgeApi {
  const listeners = new Set<BridgeListener>();
  let source: EventSource | null = null;

  const open = () => {
    source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
    source.onmessage = (msg: MessageEvent<string>) => {
      let event: BridgeEvent;
      try {
        event = JSON.parse(msg.data) as BridgeEvent;
      } catch {
        return;
      }
      for (const l of [...listeners]) l(event);
    };
  };

  const api: Record<string, unknown> = {};
  for (const method of Object.keys(METHODS)) {
    api[method] = (...args: unknown[]) => call(token, method, args);
  }
  const subscribe = (listener: BridgeListener): (() => void) => {
    listeners.add(listener);
    if (!source) open();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && source) {
        source.close();
        source = null;
      }
    };
  };
  return { ...(api as unknown as ControlApi), subscribe };
}
