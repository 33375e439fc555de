/** Site header: name, live state, main navigation (with the key-warning count on Keys). */
import { useEffect, useState } from 'react';
import type { BridgeStatus } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';
import { hashFor, ROUTES, type RouteName } from '../routes.ts';
import { StatusIndicator } from './StatusIndicator.tsx';
import { KEY_WARNINGS_CHANGED } from '../key-warning-signal.ts';

function Nav({ route }: { route: RouteName }) {
  const { bridge } = useApp();
  const [warnings, setWarnings] = useState(0);
  const load = () => {
    bridge.keyWarnings().then(
      (w) => setWarnings(w.length),
      () => {},
    );
  };
  useEffect(load, [bridge, route]);
  useBridgeEvent('key-change', load);
  useEffect(() => {
    window.addEventListener(KEY_WARNINGS_CHANGED, load);
    return () => window.removeEventListener(KEY_WARNINGS_CHANGED, load);
  });
  return (
    <nav aria-label="Main">
      <ul className="nav-list">
        {ROUTES.filter((r) => r.nav).map((r) => {
          const current = r.name === route || (r.name === 'accounts' && route === 'add-account');
          return (
            <li key={r.name}>
              <a href={hashFor(r.name)} aria-current={current ? 'page' : undefined}>
                {r.label}
                {r.name === 'keys' && warnings > 0 ? (
                  <>
                    <span className="nav-count" aria-hidden="true">
                      {warnings}
                    </span>
                    <span className="visually-hidden">{`, ${warnings} key change warning${warnings === 1 ? '' : 's'}`}</span>
                  </>
                ) : null}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export function Header({
  status,
  route,
  showNav,
}: {
  status: BridgeStatus | null;
  route: RouteName;
  showNav: boolean;
}) {
  return (
    <header className="site-header">
      <div className="header-row">
        <p className="brand">
          <svg
            className="brand-mark"
            viewBox="0 0 24 24"
            width="22"
            height="22"
            aria-hidden="true"
            focusable="false"
          >
            <rect x="4" y="10" width="16" height="11" rx="2" fill="currentColor" />
            <path d="M8 10V7a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" strokeWidth="2.4" />
          </svg>
          Lockbridge
        </p>
        <StatusIndicator status={status} />
      </div>
      {showNav ? <Nav route={route} /> : null}
    </header>
  );
}
