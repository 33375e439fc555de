/**
 * The bridge status, kept current by `status`/`sync-progress`/`connection` events and, in case
 * events are lost (SSE reconnecting), by polling.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BridgeStatus } from '../../../app/control/contract.ts';
import { type BridgeApi, errorMessage } from '../bridge-types.ts';
import { applyEvent } from '../status-logic.ts';

const POLL_MS = 3000;

export function useBridgeStatus(bridge: BridgeApi | null): {
  status: BridgeStatus | null;
  error: string | null;
  refresh(): Promise<void>;
} {
  const [status, setStatus] = useState<BridgeStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);

  const refresh = useCallback(async () => {
    if (!bridge) return;
    try {
      const s = await bridge.status();
      if (!alive.current) return;
      setStatus(s);
      setError(null);
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    }
  }, [bridge]);

  useEffect(() => {
    alive.current = true;
    if (!bridge) return;
    void refresh();
    const unsubscribe = bridge.subscribe((event) => {
      if (event.type === 'status' || event.type === 'sync-progress' || event.type === 'connection')
        setStatus((prev) => applyEvent(prev, event));
    });
    const timer = window.setInterval(() => void refresh(), POLL_MS);
    return () => {
      alive.current = false;
      unsubscribe();
      window.clearInterval(timer);
    };
  }, [bridge, refresh]);

  return { status, error, refresh };
}
