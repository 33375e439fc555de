/** First run: create the encrypted store with a passphrase (or the OS keychain alone). */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { MIN_PASSPHRASE, passphraseProblem } from '../forms.ts';
import { useAction } from '../hooks/useAction.ts';

export function CreateStorePage() {
  const { bridge, status, refreshStatus, navigate, toast } = useApp();
  const [pass, setPass] = useState('');
  const [repeat, setRepeat] = useState('');
  const [keychainOnly, setKeychainOnly] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();
  const id = useId();
  const keychain = status?.unlockMethods?.keychain ?? false;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = keychainOnly ? null : passphraseProblem(pass, repeat);
    setProblem(p);
    if (p) return;
    const creds = await action.run(() => bridge.initialize(keychainOnly ? '' : pass));
    if (!creds) return;
    toast('Your encrypted store is ready.', 'success');
    await refreshStatus();
    navigate('add-account');
  };

  return (
    <section className="narrow">
      <PageHeading>Create your encrypted store</PageHeading>
      <p>
        Lockbridge keeps your mail, keys and passwords in one encrypted database on this computer. Choose a
        passphrase to protect it; you will need it whenever Lockbridge starts.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        {keychain ? (
          <div className="field checkbox">
            <input
              id={`${id}-kc`}
              type="checkbox"
              checked={keychainOnly}
              onChange={(e) => setKeychainOnly(e.target.checked)}
            />
            <label htmlFor={`${id}-kc`}>Unlock with the system keychain only (no passphrase)</label>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-pass`}>Passphrase</label>
          <input
            id={`${id}-pass`}
            type="password"
            autoComplete="new-password"
            value={pass}
            disabled={keychainOnly}
            aria-describedby={`${id}-hint`}
            onChange={(e) => setPass(e.target.value)}
          />
          <p className="hint" id={`${id}-hint`}>
            At least {MIN_PASSPHRASE} characters. It cannot be recovered if you forget it.
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-repeat`}>Repeat the passphrase</label>
          <input
            id={`${id}-repeat`}
            type="password"
            autoComplete="new-password"
            value={repeat}
            disabled={keychainOnly}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </div>
        <ErrorText message={problem ?? action.error} />
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create store'}
        </button>
      </form>
    </section>
  );
}
