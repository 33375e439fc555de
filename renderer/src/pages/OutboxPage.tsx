/**
 * Mail waiting to go out (or that failed): the reason in plain words (and the provider's own
 * text), when it is tried next, and actions: retry now, cancel (after confirmation), and for a
 * message refused because it could not be encrypted, "send without encryption" (after
 * confirmation) — offered only while the encryption policy allows it, else the page says why not.
 */
import { useEffect, useState } from 'react';
import type { OutboxItem } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { formatTime } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';
import { useLoad } from '../hooks/useLoad.ts';

export function OutboxPage() {
  const { bridge, toast } = useApp();
  const items = useLoad(() => bridge.outbox(), [bridge]);
  useBridgeEvent('send-failed', () => void items.reload());
  const action = useAction();
  const [cancelling, setCancelling] = useState<OutboxItem | null>(null);
  const [unencrypting, setUnencrypting] = useState<OutboxItem | null>(null);
  const list = items.data ?? [];
  // A copy being sent ends as sent, queued (to retry) or failed, and only a permanent failure is
  // announced: look again until nothing is in flight, so the card gets its actions back.
  const inFlight = list.some((o) => o.state === 'sending');
  useEffect(() => {
    if (!inFlight) return;
    const t = setTimeout(() => void items.reload(), 1000);
    return () => clearTimeout(t);
  }, [inFlight, items.data]);
  const retry = async (o: OutboxItem) => {
    const ok = await action.run(async () => {
      await bridge.retryOutbox(o.id);
      return true;
    });
    if (ok) {
      toast(`Trying "${o.subject || '(no subject)'}" again now.`);
      await items.reload();
    }
  };
  const confirmCancel = async () => {
    if (!cancelling) return;
    const o = cancelling;
    const ok = await action.run(async () => {
      await bridge.cancelOutbox(o.id);
      return true;
    });
    if (!ok) return;
    setCancelling(null);
    toast(`"${o.subject || '(no subject)'}" was removed from the outbox; it will not be sent.`, 'success');
    await items.reload();
  };
  const confirmUnencrypted = async () => {
    if (!unencrypting) return;
    const o = unencrypting;
    const ok = await action.run(async () => {
      await bridge.sendOutboxUnencrypted(o.id);
      return true;
    });
    if (!ok) return;
    setUnencrypting(null);
    toast(`"${o.subject || '(no subject)'}" is being sent without encryption.`, 'success');
    await items.reload();
  };
  return (
    <section>
      <PageHeading>Outbox</PageHeading>
      <div className="toolbar">
        <button type="button" onClick={() => void items.reload()}>
          Refresh
        </button>
      </div>
      <ErrorText message={items.error ?? (cancelling || unencrypting ? null : action.error)} />
      {list.length === 0 ? (
        <p>{items.loading ? 'Loading…' : 'The outbox is empty: everything was sent.'}</p>
      ) : (
        <ul className="plain">
          {list.map((o) => (
            <li key={o.id} className="card" data-outbox={o.id}>
              <div className="card-head">
                <h2 className="h3">{o.subject || '(no subject)'}</h2>
                <Badge kind={o.state === 'failed' ? 'error' : o.state === 'sent' ? 'ok' : 'neutral'}>
                  {o.state === 'queued' && o.attempts > 0 ? 'waiting to retry' : o.state}
                </Badge>
              </div>
              <p className="small">
                From {o.account} to {o.recipients.join(', ')} · queued {formatTime(o.createdAt)} UTC ·{' '}
                {o.attempts} attempt{o.attempts === 1 ? '' : 's'}
              </p>
              {o.reason || o.lastError ? (
                <p className="error-text" data-testid="outbox-reason">
                  {o.reason ?? o.lastError}
                </p>
              ) : null}
              {o.reason && o.lastError ? (
                <p className="small muted" data-testid="outbox-detail">
                  {o.unencrypted ? 'In detail' : 'The server said'}: {o.lastError}
                </p>
              ) : null}
              {o.nextAttempt ? (
                <p className="small" data-testid="outbox-next">
                  Next attempt {formatTime(o.nextAttempt)} UTC.
                </p>
              ) : null}
              {o.unencrypted && !o.unencrypted.allowed ? (
                <p className="small" data-testid="outbox-unencrypted-why">
                  {o.unencrypted.why}
                </p>
              ) : null}
              {o.state === 'queued' || o.state === 'failed' ? (
                <div className="actions">
                  <button type="button" disabled={action.busy} onClick={() => void retry(o)}>
                    Retry now
                  </button>
                  {o.unencrypted?.allowed ? (
                    <button
                      type="button"
                      onClick={() => {
                        action.clear();
                        setUnencrypting(o);
                      }}
                    >
                      Send without encryption…
                    </button>
                  ) : null}
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      action.clear();
                      setCancelling(o);
                    }}
                  >
                    Cancel…
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <Dialog
        open={cancelling !== null}
        title="Cancel sending?"
        role="alertdialog"
        onClose={() => setCancelling(null)}
      >
        <p>
          Remove <strong>{cancelling?.subject || '(no subject)'}</strong> to{' '}
          {cancelling?.recipients.join(', ')} from the outbox? It will not be sent.
        </p>
        <ErrorText message={action.error} />
        <div className="actions">
          <button type="button" data-autofocus onClick={() => setCancelling(null)}>
            Keep it
          </button>
          <button
            type="button"
            className="danger"
            disabled={action.busy}
            onClick={() => void confirmCancel()}
          >
            Remove from the outbox
          </button>
        </div>
      </Dialog>
      <Dialog
        open={unencrypting !== null}
        title="Send without encryption?"
        role="alertdialog"
        onClose={() => setUnencrypting(null)}
      >
        <p>
          Send <strong>{unencrypting?.subject || '(no subject)'}</strong> to{' '}
          {unencrypting?.recipients.join(', ')} without encryption? Anyone who handles the message on its way
          (mail servers, their operators) can read it. It is still signed with your key when signing is on.
        </p>
        <ErrorText message={action.error} />
        <div className="actions">
          <button type="button" data-autofocus onClick={() => setUnencrypting(null)}>
            Keep it in the outbox
          </button>
          <button
            type="button"
            className="danger"
            disabled={action.busy}
            onClick={() => void confirmUnencrypted()}
          >
            Send without encryption
          </button>
        </div>
      </Dialog>
    </section>
  );
}
