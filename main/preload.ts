/**
 * The preload of the Lockbridge window: exposes `window.bridge` (every ControlApi method plus
 * `subscribe`) through contextBridge, over two IPC channels (see main/ipc.ts).
 *
 * It runs in Electron's sandbox, where `require` knows only 'electron' and a few built-ins and
 * preloads cannot be ES modules. So this file is one self-contained script: it may only
 * `import type`, exports nothing, and inlines the method list (a unit test checks that it equals
 * CONTROL_METHODS). `npm run build:main` strips the types into dist/main/preload.cjs unchanged;
 * the unit test runs that same stripped script in a vm with a fake `require('electron')`.
 *
 * A failed call rejects with a plain `{ name: 'ControlCallError', code, message }` object: Electron
 * copies only the message of an Error across the context bridge, and the renderer needs the code.
 */
import type { BridgeEvent, ControlApi, ControlError } from '../app/control/contract.ts';

type BridgeListener = (event: BridgeEvent) => void;
type PreloadBridge = ControlApi & { subscribe(listener: BridgeListener): () => void };
type CallReply = { ok: true; result: unknown } | { ok: false; error: ControlError };

interface PreloadIpc {
  invoke(channel: string, payload: unknown): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}
interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: PreloadIpc;
}

const PRELOAD_CALL_CHANNEL = 'bridge:call';
const PRELOAD_EVENT_CHANNEL = 'bridge:event';
const PRELOAD_METHODS: readonly (keyof ControlApi)[] = [
  'status',
  'initialize',
  'unlock',
  'changePassphrase',
  'listAccounts',
  'discoverProvider',
  'addAccount',
  'removeAccount',
  'setProviderPassword',
  'setProviderOAuth',
  'beginOAuthSignIn',
  'finishOAuthSignIn',
  'cancelOAuthSignIn',
  'repairAccount',
  'pauseSync',
  'resumeSync',
  'credentials',
  'resetLocalPassword',
  'thunderbirdAutoconfig',
  'listKeys',
  'generateKey',
  'importKey',
  'exportKey',
  'keyWarnings',
  'acceptKeyChange',
  'setKeyTrust',
  'sendSetupMessage',
  'importSetupMessage',
  'exportWkd',
  'listCertificates',
  'importCertificates',
  'setCertificateTrust',
  'issueCertificate',
  'exportCertificatePkcs12',
  'exportCertificate',
  'importMessages',
  'exportMessages',
  'cancelExport',
  'outbox',
  'retryOutbox',
  'cancelOutbox',
  'sendOutboxUnencrypted',
  'getSettings',
  'updateSettings',
  'setDirectoryPassword',
  'recentLogs',
  'createReport',
];

function buildPreloadBridge(ipc: PreloadIpc): PreloadBridge {
  const listeners = new Set<BridgeListener>();
  ipc.on(PRELOAD_EVENT_CHANNEL, (_event, payload) => {
    for (const listener of [...listeners]) {
      try {
        listener(payload as BridgeEvent);
      } catch {
        /* one listener's failure must not starve the others */
      }
    }
  });
  const api: Record<string, unknown> = {};
  for (const method of PRELOAD_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const reply = (await ipc.invoke(PRELOAD_CALL_CHANNEL, { method, args })) as CallReply;
      if (reply.ok) return reply.result;
      throw { name: 'ControlCallError', code: reply.error.code, message: reply.error.message };
    };
  }
  api.subscribe = (listener: BridgeListener) => {
    if (typeof listener !== 'function') throw new TypeError('subscribe needs a function');
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  };
  return Object.freeze(api) as unknown as PreloadBridge;
}

if (typeof process === 'object' && process.type === 'renderer') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const electron = require('electron') as PreloadElectron;
  electron.contextBridge.exposeInMainWorld('bridge', buildPreloadBridge(electron.ipcRenderer));
}
