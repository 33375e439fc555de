/** Mail waiting to go out (or that failed), with the reason. */
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { formatTime } from '../format.ts';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';
import { useLoad } from '../hooks/useLoad.ts';

export function OutboxPage() {
  const { bridge } = useApp();
  const items = useLoad(() => bridge.outbox(), [bridge]);
  useBridgeEvent('send-failed', () => void items.reload());
  const list = items.data ?? [];
  return (
    <section>
      <PageHeading>Outbox</PageHeading>
      <div className="toolbar">
        <button type="button" onClick={() => void items.reload()}>
          Refresh
        </button>
      </div>
      <ErrorText message={items.error} />
      {list.length === 0 ? (
        <p>{items.loading ? 'Loading…' : 'The outbox is empty: everything was sent.'}</p>
      ) : (
        <ul className="plain">
          {list.map((o) => (
            <li key={o.id} className="card">
              <div className="card-head">
                <h2 className="h3">{o.subject || '(no subject)'}</h2>
                <Badge kind={o.state === 'failed' ? 'error' : o.state === 'sent' ? 'ok' : 'neutral'}>
                  {o.state}
                </Badge>
              </div>
              <p className="small">
                From {o.account} to {o.recipients.join(', ')} · queued {formatTime(o.createdAt)} UTC ·{' '}
                {o.attempts} attempt{o.attempts === 1 ? '' : 's'}
              </p>
              {o.lastError ? <p className="error-text">{o.lastError}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
