/**
 * Where the BridgeApi comes from: Electron's preload (`window.bridge`), else the control server
 * this page was served from, with the token from the URL fragment (kept in sessionStorage and
 * removed from the address bar).
 */
import type { BridgeApi } from './bridge-types.ts';
import { createHttpBridge } from './http-bridge.ts';
import { hashWithoutToken, parseHash } from './token.ts';

const TOKEN_KEY = 'lockbridge.controlToken';

/** Takes the token out of the fragment (first thing at start-up, before routing). */
export function takeTokenFromLocation(): string | null {
  const parts = parseHash(window.location.hash);
  if (parts.token) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, parts.token);
    } catch {
      /* storage disabled: the token lives only in memory */
    }
    const url = `${window.location.pathname}${window.location.search}${hashWithoutToken(parts)}`;
    window.history.replaceState(null, '', url);
    return parts.token;
  }
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export type BridgeConnection = { bridge: BridgeApi; error: null } | { bridge: null; error: string };

export function connectBridge(): BridgeConnection {
  if (window.bridge) return { bridge: window.bridge, error: null };
  const token = takeTokenFromLocation();
  if (!token)
    return {
      bridge: null,
      error:
        'No control token. Open the "ui" address printed by `lockbridge serve --ui` (it ends in #token=…).',
    };
  return { bridge: createHttpBridge(token), error: null };
}
