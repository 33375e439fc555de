/** What every page gets from the app shell. */
import { createContext, useContext } from 'react';
import type { BridgeStatus } from '../../app/control/contract.ts';
import type { BridgeApi } from './bridge-types.ts';
import type { RouteName } from './routes.ts';

export type ToastKind = 'info' | 'success' | 'error';

export interface AppContextValue {
  bridge: BridgeApi;
  status: BridgeStatus | null;
  refreshStatus(): Promise<void>;
  navigate(route: RouteName): void;
  toast(message: string, kind?: ToastKind): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside AppContext');
  return v;
}
