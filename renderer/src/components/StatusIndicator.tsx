/** The header's live bridge state: locked / error / syncing / up to date. */
import type { BridgeStatus } from '../../../app/control/contract.ts';
import { overallState, STATE_LABEL } from '../status-logic.ts';

export function StatusIndicator({ status }: { status: BridgeStatus | null }) {
  const state = overallState(status);
  return (
    <p className={`state state-${state}`} data-state={state}>
      <span className="state-dot" aria-hidden="true" />
      <span>
        <span className="visually-hidden">Bridge state: </span>
        {STATE_LABEL[state]}
      </span>
    </p>
  );
}
