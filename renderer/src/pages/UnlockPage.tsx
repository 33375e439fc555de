/** The store exists but is closed: unlock it with the passphrase (or the OS keychain). */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useAction } from '../hooks/useAction.ts';

export function UnlockPage() {
  const { bridge, status, refreshStatus, toast } = useApp();
  const [pass, setPass] = useState('');
  const action = useAction();
  const id = useId();
  const keychain = status?.unlockMethods?.keychain ?? false;
  const passphrase = status?.unlockMethods?.passphrase ?? true;

  const unlock = async (value: string) => {
    const s = await action.run(() => bridge.unlock(value));
    if (!s) return;
    toast('Unlocked.', 'success');
    await refreshStatus();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void unlock(pass);
  };

  return (
    <section className="narrow">
      <PageHeading>Unlock Lockbridge</PageHeading>
      <p>Your store is locked. Enter your passphrase to open it and start the bridge.</p>
      {passphrase ? (
        <form onSubmit={submit}>
          <div className="field">
            <label htmlFor={`${id}-pass`}>Passphrase</label>
            <input
              id={`${id}-pass`}
              type="password"
              autoComplete="current-password"
              value={pass}
              onChange={(e) => setPass(e.target.value)}
            />
          </div>
          <ErrorText message={action.error} />
          <button type="submit" className="primary" disabled={action.busy || pass === ''}>
            {action.busy ? 'Unlocking…' : 'Unlock'}
          </button>
        </form>
      ) : (
        <ErrorText message={action.error} />
      )}
      {keychain ? (
        <p>
          <button type="button" onClick={() => void unlock('')} disabled={action.busy}>
            Unlock with the system keychain
          </button>
        </p>
      ) : null}
    </section>
  );
}
