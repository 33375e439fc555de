/** Contacts' keys: where each came from, trust, expiry; "mark verified" after comparing fingerprints. */
import { useId } from 'react';
import type { KeySummary } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Fingerprint } from '../components/Fingerprint.tsx';
import { formatDay } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';

const SOURCE_LABEL: Record<string, string> = {
  manual: 'imported by you',
  autocrypt: 'Autocrypt',
  gossip: 'Autocrypt gossip',
  attached: 'attached to a message',
  wkd: 'Web Key Directory',
  vks: 'keys.openpgp.org',
  hkp: 'key server',
  own: 'own',
};

function ContactKey({ k, onChanged }: { k: KeySummary; onChanged(): Promise<void> }) {
  const { bridge, toast } = useApp();
  const action = useAction();
  const verify = async (trust: 'verified' | 'unverified') => {
    const ok = await action.run(async () => {
      await bridge.setKeyTrust(k.fingerprint, trust);
      return true;
    });
    if (!ok) return;
    toast(
      trust === 'verified'
        ? `Marked the key of ${k.email} verified.`
        : `Marked the key of ${k.email} unverified.`,
      'success',
    );
    await onChanged();
  };
  const expired = k.expires !== null && new Date(k.expires).getTime() < Date.now();
  return (
    <li className="key-row" data-key={k.fingerprint} data-contact={k.email}>
      <div className="key-head">
        <h3>{k.email}</h3>
        {k.use === 'pending' ? (
          <Badge kind="warn">New key, not used until you accept it</Badge>
        ) : k.trust === 'verified' ? (
          <Badge kind="ok">Verified</Badge>
        ) : (
          <Badge>Unverified</Badge>
        )}
        {k.use === 'superseded' ? <Badge>Replaced</Badge> : null}
        {k.revoked ? <Badge kind="error">Revoked</Badge> : null}
        {expired ? <Badge kind="error">Expired</Badge> : null}
      </div>
      <Fingerprint value={k.fingerprint} />
      <p className="small muted">
        From {SOURCE_LABEL[k.source] ?? k.source} · created {formatDay(k.created)} ·{' '}
        {k.expires ? `expires ${formatDay(k.expires)}` : 'does not expire'}
      </p>
      <ErrorText message={action.error} />
      {k.use === 'pending' ? (
        <p className="small">
          Compare the fingerprints with {k.email}, then accept or keep the old key above.
        </p>
      ) : k.trust === 'verified' ? (
        <button
          type="button"
          className="button-small"
          disabled={action.busy}
          onClick={() => void verify('unverified')}
        >
          Mark unverified<span className="visually-hidden"> ({k.email})</span>
        </button>
      ) : (
        <button
          type="button"
          className="button-small"
          disabled={action.busy}
          onClick={() => void verify('verified')}
        >
          Mark verified<span className="visually-hidden"> ({k.email})</span>
        </button>
      )}
    </li>
  );
}

export function ContactKeys({ keys, onChanged }: { keys: KeySummary[]; onChanged(): Promise<void> }) {
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Contacts’ keys</h2>
      {keys.length === 0 ? (
        <p>
          No contact keys yet. They are learned from incoming mail (Autocrypt), key directories, or imports.
        </p>
      ) : (
        <ul className="plain">
          {keys.map((k) => (
            <ContactKey key={`${k.email}-${k.fingerprint}`} k={k} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </section>
  );
}
