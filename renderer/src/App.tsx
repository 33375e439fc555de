/**
 * The shell: header with the live bridge state, navigation, the page for the current hash route,
 * and the status region for toasts. Before the store is open it shows "create" or "unlock".
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AppContext, type AppContextValue, type ToastKind } from './app-context.ts';
import { connectBridge } from './bridge.ts';
import { useBridgeStatus } from './hooks/useBridgeStatus.ts';
import { hashFor, routeFromHash, type RouteName } from './routes.ts';
import { Toasts, type ToastItem } from './components/Toasts.tsx';
import { Header } from './components/Header.tsx';
import { PageHeading } from './components/PageHeading.tsx';
import { CreateStorePage } from './pages/CreateStorePage.tsx';
import { UnlockPage } from './pages/UnlockPage.tsx';
import { AccountsPage } from './pages/AccountsPage.tsx';
import { AddAccountPage } from './pages/AddAccountPage.tsx';
import { ConnectPage } from './pages/ConnectPage.tsx';
import { KeysPage } from './pages/KeysPage.tsx';
import { CertificatesPage } from './pages/CertificatesPage.tsx';
import { OutboxPage } from './pages/OutboxPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { LogsPage } from './pages/LogsPage.tsx';

const connection = connectBridge();

function useHashRoute(): [RouteName, (r: RouteName) => void] {
  const [route, setRoute] = useState<RouteName>(() => routeFromHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeFromHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const navigate = useCallback((r: RouteName) => {
    if (window.location.hash !== hashFor(r)) window.location.hash = hashFor(r);
    setRoute(r);
  }, []);
  return [route, navigate];
}

function Page({ route }: { route: RouteName }) {
  switch (route) {
    case 'accounts':
      return <AccountsPage />;
    case 'add-account':
      return <AddAccountPage />;
    case 'connect':
      return <ConnectPage />;
    case 'keys':
      return <KeysPage />;
    case 'certificates':
      return <CertificatesPage />;
    case 'outbox':
      return <OutboxPage />;
    case 'settings':
      return <SettingsPage />;
    case 'logs':
      return <LogsPage />;
  }
}

export function App() {
  const bridge = connection.bridge;
  const { status, error, refresh } = useBridgeStatus(bridge);
  const [route, navigate] = useHashRoute();
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const nextId = useRef(1);

  const toast = useCallback((message: string, kind: ToastKind = 'info') => {
    const id = nextId.current++;
    setToasts((t) => [...t.slice(-2), { id, message, kind }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 12000 : 6000);
  }, []);

  const ctx = useMemo<AppContextValue | null>(
    () => (bridge ? { bridge, status, refreshStatus: refresh, navigate, toast } : null),
    [bridge, status, refresh, navigate, toast],
  );

  const open = status !== null && status.initialized !== false && !status.locked;
  let body;
  if (!ctx) {
    body = (
      <>
        <PageHeading>Cannot connect to Lockbridge</PageHeading>
        <p className="error-text">{connection.error}</p>
      </>
    );
  } else if (!status) {
    body = error ? (
      <>
        <PageHeading>Cannot reach the bridge</PageHeading>
        <p className="error-text" role="alert">
          {error}
        </p>
        <button type="button" onClick={() => void refresh()}>
          Try again
        </button>
      </>
    ) : (
      <PageHeading>Connecting…</PageHeading>
    );
  } else if (status.initialized === false) {
    body = <CreateStorePage />;
  } else if (status.locked) {
    body = <UnlockPage />;
  } else {
    body = <Page key={route} route={route} />;
  }

  const content = (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <Header status={status} route={route} showNav={open} />
      <main id="main" tabIndex={-1}>
        {body}
      </main>
      <Toasts items={toasts} onDismiss={(id) => setToasts((t) => t.filter((x) => x.id !== id))} />
    </>
  );
  return ctx ? <AppContext.Provider value={ctx}>{content}</AppContext.Provider> : content;
}
