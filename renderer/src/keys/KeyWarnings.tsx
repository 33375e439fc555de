/** Contacts whose key changed: old and new fingerprint, and "accept new key and mark verified". */
import type { KeyChangeWarning } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { Fingerprint } from '../components/Fingerprint.tsx';
import { formatTime } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { signalKeyWarningsChanged } from '../key-warning-signal.ts';

const SOURCE: Record<string, string> = {
  autocrypt: 'an Autocrypt header',
  gossip: 'Autocrypt gossip',
  attached: 'an attached key',
  wkd: 'the Web Key Directory',
  vks: 'keys.openpgp.org',
  hkp: 'a key server',
  manual: 'a manual import',
  own: 'your own keys',
};

function Warning({ w, onChanged }: { w: KeyChangeWarning; onChanged(): Promise<void> }) {
  const { bridge, toast } = useApp();
  const action = useAction();
  const accept = async () => {
    const ok = await action.run(async () => {
      await bridge.acceptKeyChange(w.id);
      return true;
    });
    if (!ok) return;
    toast(`The new key of ${w.email} is accepted and marked verified.`, 'success');
    signalKeyWarningsChanged();
    await onChanged();
  };
  return (
    <li className="warning-card" data-warning={w.email}>
      <h3>{w.email} has a new key</h3>
      <p>
        Seen {formatTime(w.seenAt)} UTC through {SOURCE[w.source] ?? w.source}. Until you accept it, mail to{' '}
        {w.email} stays encrypted to the old key. Compare the new fingerprint with the one your contact tells
        you in person or by phone.
      </p>
      <dl className="facts">
        <div>
          <dt>Old key</dt>
          <dd>
            <Fingerprint value={w.oldFingerprint} label="Old fingerprint" />
          </dd>
        </div>
        <div>
          <dt>New key</dt>
          <dd>
            <Fingerprint value={w.newFingerprint} label="New fingerprint" />
          </dd>
        </div>
      </dl>
      <ErrorText message={action.error} />
      <button type="button" className="primary" disabled={action.busy} onClick={() => void accept()}>
        Accept new key and mark verified
      </button>
    </li>
  );
}

export function KeyWarnings({
  warnings,
  onChanged,
}: {
  warnings: KeyChangeWarning[];
  onChanged(): Promise<void>;
}) {
  if (warnings.length === 0) return null;
  return (
    <section className="warnings" aria-labelledby="key-warnings-heading">
      <h2 id="key-warnings-heading">
        <span aria-hidden="true">⚠ </span>Key changes need your attention
      </h2>
      <ul className="plain">
        {warnings.map((w) => (
          <Warning key={w.id} w={w} onChanged={onChanged} />
        ))}
      </ul>
    </section>
  );
}
