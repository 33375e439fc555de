/**
 * "Export…" on an account card: writes the account's decrypted mail — every folder or the one
 * chosen — to a folder (one .eml per message, a folder per mail folder) or an .mbox file that the
 * user names — a path on the computer running Lockbridge (the UI may run in a browser, so it is
 * typed, not picked) — with live progress, a Stop button and a result line.
 */
import { useState } from 'react';
import type { ExportResult } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { formatBytes } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';

export function ExportAccount({ email }: { email: string }) {
  const { bridge, status } = useApp();
  const action = useAction();
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState('');
  /** '' = every folder. */
  const [mailbox, setMailbox] = useState('');
  const [stopping, setStopping] = useState(false);
  const folders = status?.accounts.find((a) => a.email === email)?.sync.folders.map((f) => f.name) ?? [];
  const [progress, setProgress] = useState<{ exported: number; percent: number | null } | null>(null);
  const [result, setResult] = useState<ExportResult | null>(null);
  const fieldId = `export-${email.replace(/[^A-Za-z0-9]/g, '-')}`;
  useBridgeEvent('export-progress', (e) => {
    if (e.email !== email || !action.busy) return;
    const percent = e.totalBytes ? Math.min(100, Math.floor((e.bytes / e.totalBytes) * 100)) : null;
    setProgress({ exported: e.exported, percent });
  });
  const submit = async () => {
    setResult(null);
    setProgress({ exported: 0, percent: null });
    setStopping(false);
    const res = await action.run(() => bridge.exportMessages(email, mailbox || null, target.trim()));
    setProgress(null);
    setStopping(false);
    if (res) {
      setResult(res);
      setOpen(false);
    }
  };
  const stop = async () => {
    setStopping(true);
    await bridge.cancelExport(email).catch(() => setStopping(false));
  };
  const resultLine = result ? (
    <p role="status" className="small" data-testid="export-result">
      Exported {result.exported} messages from {result.folders} folders ({formatBytes(result.bytes)}) to{' '}
      <code>{result.target}</code>
      {result.format === 'mbox' ? ' (one mbox file).' : ' (.eml files, a folder per mail folder).'}
    </p>
  ) : null;
  if (!open)
    return (
      <>
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              setOpen(true);
              action.clear();
            }}
          >
            Export…
          </button>
        </div>
        {resultLine}
      </>
    );
  return (
    <form
      className="export-mail"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="field">
        <label htmlFor={fieldId}>Export the decrypted mail of {email} to</label>
        <input
          id={fieldId}
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="/home/you/mail-export or /home/you/mail.mbox"
          aria-describedby={`${fieldId}-hint`}
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          required
        />
        <p id={`${fieldId}-hint`} className="hint muted small">
          A new or empty folder on the computer running Lockbridge (one .eml file per message, a folder per
          mail folder), or a file name ending in .mbox. Nothing is overwritten. The files hold your mail
          unencrypted.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${fieldId}-folder`}>Folders</label>
        <select
          id={`${fieldId}-folder`}
          value={mailbox}
          onChange={(e) => setMailbox(e.target.value)}
          disabled={action.busy}
        >
          <option value="">All folders</option>
          {folders.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      {progress ? (
        <ProgressBar
          label={`Export of ${email}`}
          done={progress.exported}
          total={0}
          percent={progress.percent}
          detail={`${progress.exported} messages`}
        />
      ) : null}
      <ErrorText message={action.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={action.busy || target.trim() === ''}>
          {action.busy ? 'Exporting…' : 'Export'}
        </button>
        {action.busy ? (
          <button type="button" onClick={() => void stop()} disabled={stopping}>
            {stopping ? 'Stopping…' : 'Stop export'}
          </button>
        ) : (
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
