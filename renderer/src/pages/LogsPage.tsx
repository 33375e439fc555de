/**
 * The bridge's recent log lines, then live ones, with their fields (account, error, ...); filter
 * by level and account; export what is shown. (The engine never logs secrets.) A bug report (the
 * engine's createReport bundle, redacted unless the user opts in) is saved as a file.
 */
import { useId, useMemo, useState } from 'react';
import type { LogLine } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { formatTime } from '../format.ts';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';
import { useLoad } from '../hooks/useLoad.ts';
import { downloadText } from '../download.ts';
import { logLineText } from '../format.ts';

const LEVELS: LogLine['level'][] = ['debug', 'info', 'warn', 'error'];
const MAX_LINES = 2000;

export function LogsPage() {
  const { bridge, status } = useApp();
  const [account, setAccount] = useState('');
  const id = useId();
  const initial = useLoad(() => bridge.recentLogs(500), [bridge]);
  const [live, setLive] = useState<LogLine[]>([]);
  const [minLevel, setMinLevel] = useState<LogLine['level']>('info');
  const [paused, setPaused] = useState(false);
  useBridgeEvent('log', (e) => {
    if (!paused) setLive((l) => [...l.slice(-(MAX_LINES - 1)), e.line]);
  });

  const lines = useMemo(() => {
    const all = [...(initial.data ?? []), ...live].slice(-MAX_LINES);
    const min = LEVELS.indexOf(minLevel);
    return all.filter((l) => LEVELS.indexOf(l.level) >= min && (account === '' || l.account === account));
  }, [initial.data, live, minLevel, account]);
  const [personal, setPersonal] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [reportNote, setReportNote] = useState<string | null>(null);
  const [reportError, setReportError] = useState<string | null>(null);
  const createReport = async () => {
    setReporting(true);
    setReportError(null);
    setReportNote(null);
    try {
      const r = await bridge.createReport({ includePersonal: personal });
      downloadText(r.fileName, r.content, 'application/json');
      setReportNote(
        `Saved ${r.fileName}${r.redacted ? ' (personal data replaced by placeholders)' : ' (with your addresses, subjects and folder names)'}. Read it before you send it.${r.missing.length ? ` Left out: ${r.missing.join('; ')}.` : ''}`,
      );
    } catch (err) {
      setReportError(err instanceof Error ? err.message : String(err));
    } finally {
      setReporting(false);
    }
  };
  const exportLines = () =>
    downloadText(
      `lockbridge-logs-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.txt`,
      lines.map(logLineText).join('\n') + '\n',
    );

  return (
    <section>
      <PageHeading>Logs</PageHeading>
      <p className="small muted">Logs hold no message content, passwords or keys.</p>
      <div className="toolbar">
        <div className="field inline">
          <label htmlFor={`${id}-level`}>Show from level</label>
          <select
            id={`${id}-level`}
            value={minLevel}
            onChange={(e) => setMinLevel(e.target.value as LogLine['level'])}
          >
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor={`${id}-account`}>Account</label>
          <select id={`${id}-account`} value={account} onChange={(e) => setAccount(e.target.value)}>
            <option value="">All accounts</option>
            {(status?.accounts ?? []).map((a) => (
              <option key={a.email} value={a.email}>
                {a.email}
              </option>
            ))}
          </select>
        </div>
        <button type="button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume live lines' : 'Pause live lines'}
        </button>
        <button type="button" onClick={() => void initial.reload().then(() => setLive([]))}>
          Reload
        </button>
        <button type="button" onClick={exportLines} disabled={lines.length === 0}>
          Export shown lines
        </button>
      </div>
      <div className="report-box" role="group" aria-labelledby={`${id}-report`}>
        <h2 id={`${id}-report`}>Bug report</h2>
        <p className="small">
          One file with the version, platform, settings, account states, recent log lines and store health.
          Passwords, the passphrase and keys are never in it.
        </p>
        <div className="field checkbox">
          <input
            id={`${id}-personal`}
            type="checkbox"
            checked={personal}
            onChange={(e) => setPersonal(e.target.checked)}
            aria-describedby={`${id}-personal-help`}
          />
          <label htmlFor={`${id}-personal`}>Include personal data</label>
        </div>
        <p id={`${id}-personal-help`} className="small muted">
          Off: e-mail addresses, subjects, your own folder names, provider host names and IP addresses are
          replaced by placeholders like &lt;addr-1&gt;. On: they are kept as they are, which can help find the
          problem but tells the reader who you write with and about what.
        </p>
        <button type="button" onClick={() => void createReport()} disabled={reporting}>
          {reporting ? 'Creating bug report…' : 'Create bug report'}
        </button>
        <p className="small" aria-live="polite">
          {reportNote}
        </p>
        <ErrorText message={reportError} />
      </div>
      <ErrorText message={initial.error} />
      <p className="small" aria-live="polite">
        {lines.length} line{lines.length === 1 ? '' : 's'} shown
      </p>
      <div className="log-view" role="log" aria-label="Log lines" tabIndex={0}>
        {lines.length === 0 ? (
          <p>No log lines at this level.</p>
        ) : (
          <ol className="log-lines">
            {lines.map((l, i) => (
              <li key={i} className={`log-line log-${l.level}`}>
                <span className="log-time">{formatTime(l.time)}</span>{' '}
                <span className="log-level">{l.level.toUpperCase()}</span>{' '}
                {l.module ? <span className="log-module">[{l.module}]</span> : null} <span>{l.msg}</span>
                {l.account ? <span className="log-account"> · {l.account}</span> : null}
                {l.fields ? (
                  <span className="log-fields">
                    {Object.entries(l.fields).map(([k, v]) => (
                      <span key={k} className="log-field">
                        {' '}
                        {k}={v}
                      </span>
                    ))}
                  </span>
                ) : null}
              </li>
            ))}
          </ol>
        )}
      </div>
    </section>
  );
}
