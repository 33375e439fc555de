/**
 * The S/MIME directory (setting `smimeDirectory`): an LDAP server where certificates of recipients
 * we hold none for are looked up when mail is sent. The bind password goes to the bridge through
 * setDirectoryPassword and is never shown again (status only says whether one is kept).
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { DirectorySettings, Settings } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { useAction } from '../hooks/useAction.ts';

/** The bridge's default (DIRECTORY_TIMEOUT_MS in app/config/settings.ts; the renderer imports only types). */
const DEFAULT_TIMEOUT_MS = 3000;

export function DirectoryForm({ initial, onSaved }: { initial: Settings; onSaved(s: Settings): void }) {
  const { bridge, toast, status, refreshStatus } = useApp();
  const id = useId();
  const d = initial.smimeDirectory;
  const [url, setUrl] = useState(d?.url ?? '');
  const [baseDn, setBaseDn] = useState(d?.baseDn ?? '');
  const [bindDn, setBindDn] = useState(d?.bindDn ?? '');
  const [password, setPassword] = useState('');
  const [timeoutMs, setTimeoutMs] = useState(d?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const [caPem, setCaPem] = useState(d?.caPem ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();
  useEffect(() => {
    setUrl(d?.url ?? '');
    setBaseDn(d?.baseDn ?? '');
    setBindDn(d?.bindDn ?? '');
    setTimeoutMs(d?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    setCaPem(d?.caPem ?? '');
  }, [d]);
  const dir = status?.certificateDirectory ?? null;
  const last = dir?.lastLookup ?? null;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^ldaps?:\/\/[^/\s]+\/?$/i.test(url.trim()))
      return setProblem('The directory address must look like ldap://host or ldaps://host:636.');
    if (!baseDn.trim())
      return setProblem('The search base (base DN) is needed, e.g. ou=people,dc=example,dc=org.');
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30000)
      return setProblem('The directory timeout must be from 100 to 30000 ms.');
    if (caPem.trim() && !caPem.includes('-----BEGIN CERTIFICATE-----'))
      return setProblem('The directory CA must be a PEM certificate (-----BEGIN CERTIFICATE-----).');
    setProblem(null);
    const next: DirectorySettings = {
      url: url.trim(),
      baseDn: baseDn.trim(),
      bindDn: bindDn.trim() || null,
      timeoutMs,
      caPem: caPem.trim() ? caPem.trim() + '\n' : null,
    };
    const saved = await action.run(async () => {
      const s = await bridge.updateSettings({ smimeDirectory: next });
      if (password) await bridge.setDirectoryPassword(password);
      return s;
    });
    if (!saved) return;
    setPassword('');
    toast('Directory saved.', 'success');
    onSaved(saved);
    await refreshStatus();
  };

  const remove = async () => {
    const saved = await action.run(async () => {
      const s = await bridge.updateSettings({ smimeDirectory: null });
      await bridge.setDirectoryPassword(null);
      return s;
    });
    if (!saved) return;
    setPassword('');
    toast('Directory removed.', 'success');
    onSaved(saved);
    await refreshStatus();
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>S/MIME directory</h2>
      <p className="hint">
        An LDAP directory (your organisation&apos;s address book) where Lockbridge looks up the S/MIME
        certificate of a recipient it holds none for, when you send. A certificate found there is checked (it
        must name the address, be valid now and allow encryption) and kept under Certificates.
      </p>
      <form onSubmit={(e) => void save(e)} noValidate>
        <div className="grid-2">
          <div className="field">
            <label htmlFor={`${id}-url`}>Directory address</label>
            <input
              id={`${id}-url`}
              placeholder="ldaps://ldap.example.org"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-base`}>Search base (base DN)</label>
            <input
              id={`${id}-base`}
              placeholder="ou=people,dc=example,dc=org"
              value={baseDn}
              onChange={(e) => setBaseDn(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-bind`}>Bind DN (empty: anonymous)</label>
            <input id={`${id}-bind`} value={bindDn} onChange={(e) => setBindDn(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-pw`}>Bind password</label>
            <input
              id={`${id}-pw`}
              type="password"
              autoComplete="off"
              placeholder={dir?.passwordSet ? 'kept (type to replace)' : 'none kept'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${id}-timeout`}>Directory timeout (milliseconds)</label>
          <input
            id={`${id}-timeout`}
            type="number"
            min={100}
            max={30000}
            step={100}
            value={Number.isNaN(timeoutMs) ? '' : timeoutMs}
            onChange={(e) => setTimeoutMs(e.target.valueAsNumber)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-ca`}>Directory CA certificate (PEM; empty: the system&apos;s CAs)</label>
          <textarea
            id={`${id}-ca`}
            rows={4}
            spellCheck={false}
            placeholder="-----BEGIN CERTIFICATE----- (for ldaps:// with your organisation's own CA)"
            value={caPem}
            onChange={(e) => setCaPem(e.target.value)}
          />
        </div>
        {last ? (
          <p className="hint" data-testid="directory-last-lookup">
            Last lookup {new Date(last.at).toLocaleString()}:{' '}
            {last.ok
              ? last.detail
              : `the directory could not be reached (${last.detail}); mail went out without it.`}
          </p>
        ) : null}
        <ErrorText message={problem ?? action.error} />
        <div className="actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Saving…' : 'Save directory'}
          </button>
          {d ? (
            <button type="button" disabled={action.busy} onClick={() => void remove()}>
              Remove directory
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
