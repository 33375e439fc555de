/** Hash routes of the app. Pure: unit-tested. */

export type RouteName =
  'accounts' | 'add-account' | 'connect' | 'keys' | 'certificates' | 'outbox' | 'settings' | 'logs';

export interface RouteInfo {
  name: RouteName;
  label: string;
  /** Shown in the main navigation. */
  nav: boolean;
}

export const ROUTES: readonly RouteInfo[] = [
  { name: 'accounts', label: 'Accounts', nav: true },
  { name: 'add-account', label: 'Add account', nav: false },
  { name: 'connect', label: 'Connect your mail client', nav: true },
  { name: 'keys', label: 'Keys', nav: true },
  { name: 'certificates', label: 'Certificates', nav: true },
  { name: 'outbox', label: 'Outbox', nav: true },
  { name: 'settings', label: 'Settings', nav: true },
  { name: 'logs', label: 'Logs', nav: true },
];

export const DEFAULT_ROUTE: RouteName = 'accounts';

/** '/keys' or '#/keys' → 'keys'; anything unknown → the default route. */
export function routeFromHash(hash: string): RouteName {
  const path = hash.replace(/^#/, '').replace(/^\//, '').split(/[/?&]/)[0] ?? '';
  const found = ROUTES.find((r) => r.name === path);
  return found ? found.name : DEFAULT_ROUTE;
}

export function hashFor(route: RouteName): string {
  return `#/${route}`;
}
