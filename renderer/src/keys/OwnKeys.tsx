/** Your own keys: fingerprint, dates, backup state; generate, export, back up, Setup Message. */
import { useId, useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Fingerprint } from '../components/Fingerprint.tsx';
import { downloadText } from '../download.ts';
import { fileSafe, formatDay } from '../format.ts';
import { looksLikeEmail } from '../forms.ts';
import { useAction } from '../hooks/useAction.ts';

function OwnKey({
  k,
  onChanged,
  onBackup,
  onSetup,
}: {
  k: KeySummary;
  onChanged(): Promise<void>;
  onBackup(): void;
  onSetup(): void;
}) {
  const { bridge, toast } = useApp();
  const action = useAction();
  const exportPublic = async () => {
    const armored = await action.run(() => bridge.exportKey(k.email, false));
    if (armored === undefined) return;
    downloadText(`${fileSafe(k.email)}-public.asc`, armored, 'application/pgp-keys');
    toast(`Saved the public key of ${k.email}.`);
    await onChanged();
  };
  return (
    <li className="key-row" data-key={k.fingerprint}>
      <div className="key-head">
        <h3>{k.email}</h3>
        {k.revoked ? <Badge kind="error">Revoked</Badge> : null}
        {k.needsBackup ? <Badge kind="warn">Needs backup</Badge> : null}
      </div>
      <Fingerprint value={k.fingerprint} />
      <p className="small muted">
        Created {formatDay(k.created)} · {k.expires ? `expires ${formatDay(k.expires)}` : 'does not expire'}
      </p>
      <ErrorText message={action.error} />
      <div className="actions">
        <button type="button" onClick={() => void exportPublic()} disabled={action.busy}>
          Export public key<span className="visually-hidden"> of {k.email}</span>
        </button>
        <button type="button" onClick={onBackup}>
          Back up secret key…<span className="visually-hidden"> of {k.email}</span>
        </button>
        <button type="button" onClick={onSetup}>
          Send Autocrypt Setup Message…<span className="visually-hidden"> for {k.email}</span>
        </button>
      </div>
    </li>
  );
}

export function OwnKeys({ keys, onChanged }: { keys: KeySummary[]; onChanged(): Promise<void> }) {
  const { bridge, status, toast } = useApp();
  const id = useId();
  const accounts = status?.accounts.map((a) => a.email) ?? [];
  const withoutKey = accounts.find((e) => !keys.some((k) => k.email === e && !k.revoked));
  const [email, setEmail] = useState(withoutKey ?? accounts[0] ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const generate = useAction();
  const [backupFor, setBackupFor] = useState<string | null>(null);
  const backup = useAction();
  const [setupFor, setSetupFor] = useState<string | null>(null);
  const [setupCode, setSetupCode] = useState<string | null>(null);
  const setup = useAction();

  const onGenerate = async (e: FormEvent) => {
    e.preventDefault();
    if (!looksLikeEmail(email)) return setProblem('Enter an e-mail address.');
    setProblem(null);
    const k = await generate.run(() => bridge.generateKey(email.trim()));
    if (!k) return;
    toast(`Generated a new key for ${k.email}.`, 'success');
    await onChanged();
  };

  const doBackup = async () => {
    if (!backupFor) return;
    const addr = backupFor;
    const armored = await backup.run(() => bridge.exportKey(addr, true));
    if (armored === undefined) return;
    downloadText(`${fileSafe(addr)}-SECRET.asc`, armored, 'application/pgp-keys');
    setBackupFor(null);
    toast(`Saved the secret key of ${addr}. Keep that file safe.`, 'success');
    await onChanged();
  };

  const doSetup = async () => {
    if (!setupFor) return;
    const addr = setupFor;
    const r = await setup.run(() => bridge.sendSetupMessage(addr));
    if (!r) return;
    setSetupCode(r.setupCode);
    await onChanged();
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Your keys</h2>
      {keys.length === 0 ? (
        <p>You have no key yet. Adding an account makes one; you can also generate one here.</p>
      ) : null}
      <ul className="plain">
        {keys.map((k) => (
          <OwnKey
            key={k.fingerprint}
            k={k}
            onChanged={onChanged}
            onBackup={() => {
              backup.clear();
              setBackupFor(k.email);
            }}
            onSetup={() => {
              setup.clear();
              setSetupCode(null);
              setSetupFor(k.email);
            }}
          />
        ))}
      </ul>
      <form onSubmit={(e) => void onGenerate(e)} noValidate className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-gen`}>Generate a new key for</label>
          <div className="inline">
            <input id={`${id}-gen`} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
            <button type="submit" disabled={generate.busy}>
              {generate.busy ? 'Generating…' : 'Generate key'}
            </button>
          </div>
        </div>
        <ErrorText message={problem ?? generate.error} />
      </form>

      <Dialog
        open={backupFor !== null}
        title="Back up your secret key"
        role="alertdialog"
        onClose={() => setBackupFor(null)}
      >
        <p className="warning-text">
          <strong>Anyone who gets this file can read your encrypted mail and sign as you.</strong> Store it
          offline (a USB stick in a drawer, a password manager) and never send it by e-mail.
        </p>
        <ErrorText message={backup.error} />
        <div className="actions">
          <button type="button" data-autofocus onClick={() => setBackupFor(null)}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={backup.busy} onClick={() => void doBackup()}>
            Download secret key of {backupFor}
          </button>
        </div>
      </Dialog>

      <Dialog open={setupFor !== null} title="Autocrypt Setup Message" onClose={() => setSetupFor(null)}>
        {setupCode ? (
          <>
            <p>
              The Setup Message is in the inbox of {setupFor}. Open it in your other mail program and enter
              this setup code there:
            </p>
            <p className="setup-code" data-testid="setup-code" aria-label={`Setup code ${setupCode}`}>
              {setupCode}
            </p>
            <p className="small">Write it down now: it is shown only once and is never stored.</p>
            <div className="actions">
              <button type="button" className="primary" data-autofocus onClick={() => setSetupFor(null)}>
                I wrote it down
              </button>
            </div>
          </>
        ) : (
          <>
            <p>
              This puts your secret key, encrypted with a setup code, as a message into the inbox of{' '}
              {setupFor}, so another Autocrypt mail program can import it.
            </p>
            <ErrorText message={setup.error} />
            <div className="actions">
              <button type="button" data-autofocus onClick={() => setSetupFor(null)}>
                Cancel
              </button>
              <button type="button" className="primary" disabled={setup.busy} onClick={() => void doSetup()}>
                {setup.busy ? 'Creating…' : 'Create Setup Message'}
              </button>
            </div>
          </>
        )}
      </Dialog>
    </section>
  );
}
