/** Import your secret key from an Autocrypt Setup Message in your inbox, with its setup code. */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { useAction } from '../hooks/useAction.ts';

export function SetupMessageImport({ onChanged }: { onChanged(): Promise<void> }) {
  const { bridge, status, toast } = useApp();
  const id = useId();
  const accounts = status?.accounts.map((a) => a.email) ?? [];
  const [email, setEmail] = useState(accounts[0] ?? '');
  const [code, setCode] = useState('');
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const k = await action.run(() => bridge.importSetupMessage(email, code.trim()));
    if (!k) return;
    setCode('');
    toast(`Imported your key ${k.fingerprint.slice(-16)} from the Setup Message.`, 'success');
    await onChanged();
  };

  if (accounts.length === 0) return null;
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Import from an Autocrypt Setup Message</h2>
      <p className="small">Another mail program sent you a Setup Message? Enter the setup code it showed.</p>
      <form onSubmit={(e) => void submit(e)}>
        <div className="grid-2">
          <div className="field">
            <label htmlFor={`${id}-acct`}>Account</label>
            <select id={`${id}-acct`} value={email} onChange={(e) => setEmail(e.target.value)}>
              {accounts.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-code`}>Setup code</label>
            <input
              id={`${id}-code`}
              inputMode="numeric"
              autoComplete="off"
              placeholder="1234-5678-…"
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </div>
        </div>
        <ErrorText message={action.error} />
        <button type="submit" disabled={action.busy || !code.trim()}>
          {action.busy ? 'Importing…' : 'Import key from Setup Message'}
        </button>
      </form>
    </section>
  );
}
