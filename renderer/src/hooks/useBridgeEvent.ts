/** Calls `handler` for every BridgeEvent of the given type while the component is mounted. */
import { useEffect, useRef } from 'react';
import type { BridgeEvent } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';

export function useBridgeEvent<T extends BridgeEvent['type']>(
  type: T,
  handler: (event: Extract<BridgeEvent, { type: T }>) => void,
): void {
  const { bridge } = useApp();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(
    () =>
      bridge.subscribe((event) => {
        if (event.type === type) ref.current(event as Extract<BridgeEvent, { type: T }>);
      }),
    [bridge, type],
  );
}
