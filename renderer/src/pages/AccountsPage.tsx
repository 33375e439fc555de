/**
 * Accounts: connection state, overall and per-folder sync progress (live through events, with
 * polling as a fallback), last error, outbox counts, pause/resume, repair, export and remove.
 */
import { useRef, useState } from 'react';
import type { AccountInfo, AccountStatus, RepairReport } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { formatBytes, formatEta } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';
import { useLoad } from '../hooks/useLoad.ts';
import { useOAuthSignIn } from '../hooks/useOAuthSignIn.ts';
import { OAuthWaiting } from '../components/OAuthWaiting.tsx';
import { ExportAccount } from './ExportAccount.tsx';
import { accountFailed, CONNECTION_LABEL, progressView, type ProgressMemo } from '../status-logic.ts';

function connectionKind(a: AccountStatus): 'ok' | 'warn' | 'error' | 'neutral' {
  if (accountFailed(a)) return 'error';
  if (a.connection === 'online') return 'ok';
  if (a.connection === 'paused' || a.paused) return 'warn';
  return 'neutral';
}

/**
 * An OAuth account whose sign-in was revoked or expired: the provider's page again (the same
 * profile, issuer, client and scopes), then sync resumes; local mail stays.
 */
function OAuthSignInAgain({ email }: { email: string }) {
  const { refreshStatus, toast } = useApp();
  const oauth = useOAuthSignIn();
  const start = async () => {
    const done = await oauth.signIn({ email });
    if (done) {
      toast(`Signed in again as ${email}. Sync resumes; your local mail is kept.`);
      await refreshStatus();
    }
  };
  return (
    <div className="signin-again">
      <button type="button" className="primary" onClick={() => void start()} disabled={oauth.busy}>
        {oauth.busy ? 'Waiting for the sign-in…' : 'Sign in again'}
      </button>
      <OAuthWaiting action={oauth} />
      <ErrorText message={oauth.error} />
    </div>
  );
}

/** After a failed login: a new provider password, checked at the provider, then sync resumes. */
function SignInAgain({ email }: { email: string }) {
  const { bridge, refreshStatus, toast } = useApp();
  const action = useAction();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const fieldId = `signin-${email.replace(/[^A-Za-z0-9]/g, '-')}`;
  if (!open)
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        Sign in again
      </button>
    );
  const submit = async () => {
    const done = await action.run(async () => {
      await bridge.setProviderPassword(email, password);
      return true;
    });
    if (done) {
      setPassword('');
      setOpen(false);
      toast(`Signed in again as ${email}. Sync resumes; your local mail is kept.`);
      await refreshStatus();
    }
  };
  return (
    <form
      className="signin-again"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor={fieldId}>New provider password for {email}</label>
      <input
        id={fieldId}
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <ErrorText message={action.error} />
      <button type="submit" className="primary" disabled={action.busy || password === ''}>
        Sign in
      </button>
      <button type="button" onClick={() => setOpen(false)} disabled={action.busy}>
        Cancel
      </button>
    </form>
  );
}

/** One line saying what a repair checked and did. */
function repairSummary(r: RepairReport): string {
  const sum = (k: 'checked' | 'refetched' | 'repaired' | 'unrepaired') =>
    r.folders.reduce((n, f) => n + f[k], 0);
  const done = [
    sum('refetched') ? `${sum('refetched')} missing fetched again` : '',
    sum('repaired') ? `${sum('repaired')} damaged repaired` : '',
    sum('unrepaired') ? `${sum('unrepaired')} damaged and not repairable` : '',
  ].filter(Boolean);
  return (
    `Repair finished: ${sum('checked')} messages in ${r.folders.length} folders checked against the provider; ` +
    (done.length ? `${done.join(', ')}.` : 'nothing needed repair.')
  );
}

/**
 * Repair: asks first, then re-checks every folder against the provider and fetches again what is
 * missing or damaged here (local flags and waiting changes are kept, nothing changes at the provider).
 */
function RepairAccount({ email }: { email: string }) {
  const { bridge, refreshStatus } = useApp();
  const action = useAction();
  const [asking, setAsking] = useState(false);
  const [result, setResult] = useState<RepairReport | null>(null);
  const [progress, setProgress] = useState<{ folder: string | null; done: number; total: number } | null>(
    null,
  );
  useBridgeEvent('repair-progress', (e) => {
    if (e.email === email) setProgress({ folder: e.folder, done: e.done, total: e.total });
  });
  const start = async () => {
    setAsking(false);
    setResult(null);
    setProgress(null);
    const r = await action.run(() => bridge.repairAccount(email));
    setProgress(null);
    if (r) {
      setResult(r);
      await refreshStatus();
    }
  };
  const changed = result?.folders.filter((f) => f.refetched || f.repaired || f.unrepaired) ?? [];
  return (
    <>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            action.clear();
            setAsking(true);
          }}
          disabled={action.busy}
        >
          Repair…
        </button>
      </div>
      <div role="status" data-testid="repair-result" className="small">
        {action.busy ? (
          <>
            <p>
              Repairing {email}:{' '}
              {progress?.folder
                ? `checking ${progress.folder} against the provider…`
                : 'checking every folder against the provider…'}
            </p>
            <ProgressBar
              label={`Repair of ${email}`}
              done={progress?.done ?? 0}
              total={progress?.total ?? 0}
              percent={progress && progress.total > 0 ? undefined : null}
              detail={progress ? `${progress.done} of ${progress.total} folders` : 'listing folders'}
            />
          </>
        ) : null}
        {result ? (
          <>
            <p>{repairSummary(result)}</p>
            {changed.length ? (
              <ul>
                {changed.map((f) => (
                  <li key={f.folder}>
                    {f.folder}: {f.refetched} fetched again, {f.repaired} repaired
                    {f.unrepaired ? `, ${f.unrepaired} not repairable` : ''}
                  </li>
                ))}
              </ul>
            ) : null}
          </>
        ) : null}
      </div>
      <ErrorText message={action.error} />
      <Dialog open={asking} title="Repair this account?" onClose={() => setAsking(false)}>
        <p>
          Lockbridge checks every folder of <strong>{email}</strong> against your provider and downloads again
          any message that is missing or damaged on this computer. Your flags and changes still waiting for
          the provider are kept, and nothing is changed at your provider. This can take a while for a large
          mailbox.
        </p>
        <div className="actions">
          <button type="button" data-autofocus onClick={() => setAsking(false)}>
            Not now
          </button>
          <button type="button" className="primary" onClick={() => void start()}>
            Repair now
          </button>
        </div>
      </Dialog>
    </>
  );
}

function AccountCard({
  account,
  info,
  onRemove,
}: {
  account: AccountStatus;
  info: AccountInfo | undefined;
  onRemove(): void;
}) {
  const { bridge, refreshStatus, toast } = useApp();
  const action = useAction();
  const s = account.sync;
  const memo = useRef<ProgressMemo | null>(null);
  const progress = progressView(account, memo.current);
  memo.current = progress.memo;
  const headingId = `acct-${account.email.replace(/[^A-Za-z0-9]/g, '-')}`;
  const togglePause = async () => {
    const done = await action.run(async () => {
      if (account.paused) await bridge.resumeSync(account.email);
      else await bridge.pauseSync(account.email);
      return true;
    });
    if (done) {
      toast(account.paused ? `Sync resumed for ${account.email}.` : `Sync paused for ${account.email}.`);
      await refreshStatus();
    }
  };
  const phase = s.phase === 'initial' ? 'First sync' : s.phase === 'incremental' ? 'Syncing changes' : 'Idle';
  const signedOut = account.connection === 'signed-out';
  return (
    <article className="card" aria-labelledby={headingId} data-account={account.email}>
      <div className="card-head">
        <h2 id={headingId}>{account.email}</h2>
        <Badge kind={connectionKind(account)}>
          <span className="visually-hidden">Connection: </span>
          {account.paused ? 'Paused' : CONNECTION_LABEL[account.connection]}
        </Badge>
      </div>
      {info ? (
        <p className="muted small">
          {info.imap.host}:{info.imap.port} · {info.security.toUpperCase()} · user {info.username}
          {info.auth === 'oauth' ? (
            <span data-testid="oauth-state">
              {' '}
              · signed in with OAuth ({info.oauthProfile === 'oidc' ? info.oauthIssuer : info.oauthProfile})
              {info.oauthExpiresAt
                ? `, access renewed automatically (current one valid until ${new Date(info.oauthExpiresAt).toLocaleTimeString()})`
                : ''}
            </span>
          ) : null}
        </p>
      ) : null}
      {account.lastError ? (
        <p className="error-text" data-testid="last-error">
          Last error: {account.lastError}
        </p>
      ) : null}
      <ProgressBar
        label={`Sync of ${account.email}`}
        done={s.messagesSynced}
        total={s.messagesTotal}
        percent={progress.view.percent}
        detail={progress.view.detail}
      />
      <p className="muted small">
        {phase}
        {s.bytesSynced > 0 ? ` · ${formatBytes(s.bytesSynced)} downloaded` : ''}
        {s.eta !== null && s.eta > 0 ? ` · about ${formatEta(s.eta)} left` : ''}
      </p>
      {s.folders.length > 0 && s.sizesKnown ? (
        <details className="folders" open={s.folders.length <= 8}>
          <summary>Folders ({s.folders.length})</summary>
          <ul className="folder-list">
            {s.folders.map((f) => (
              <li key={f.name}>
                <ProgressBar small label={`Folder ${f.name}`} done={f.synced} total={f.total} />
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <p className="small" data-testid="pending">
        Waiting for the provider: {account.pending.changes} local changes ({account.pending.uploads} uploads)
        {account.pending.oldestAgeSec !== null
          ? `, oldest ${formatEta(account.pending.oldestAgeSec)} old`
          : ''}
        {account.pending.lastError ? `; last error: ${account.pending.lastError}` : ''}
      </p>
      <p className="small">
        Outbox: {account.outbox.queued} waiting
        {account.outbox.failed > 0 ? (
          <>
            , <strong className="error-inline">{account.outbox.failed} failed</strong>
          </>
        ) : null}
        {account.outbox.queued > 0 && account.outbox.oldestAgeSec !== null
          ? `, oldest ${formatEta(account.outbox.oldestAgeSec)} old`
          : ''}
        {account.outbox.lastError ? `; waiting because: ${account.outbox.lastError}` : ''}
      </p>
      <ErrorText message={action.error} />
      {signedOut ? (
        <div className="note" data-testid="signed-out">
          <p>
            Signed out: the mail of this account stays on this computer and your mail program still shows it;
            nothing is synced and changes made meanwhile wait until you sign in again (at the same server).
          </p>
          <SignInAgain email={account.email} />
          <p className="small muted">
            An account that signs in on the provider&apos;s page (Google, Microsoft, …): use Add account with
            the same address.
          </p>
        </div>
      ) : null}
      <div className="actions">
        {account.connection === 'auth-failed' ? (
          info?.auth === 'oauth' ? (
            <OAuthSignInAgain email={account.email} />
          ) : (
            <SignInAgain email={account.email} />
          )
        ) : null}
        {signedOut ? null : (
          <button type="button" onClick={() => void togglePause()} disabled={action.busy}>
            {account.paused ? 'Resume sync' : 'Pause sync'}
          </button>
        )}
        <button type="button" className="danger" onClick={onRemove}>
          Remove…
        </button>
      </div>
      {signedOut ? null : <RepairAccount email={account.email} />}
      <ExportAccount email={account.email} />
    </article>
  );
}

export function AccountsPage() {
  const { bridge, status, navigate, refreshStatus, toast } = useApp();
  const infos = useLoad(() => bridge.listAccounts(), [bridge, status?.accounts.length]);
  const [removing, setRemoving] = useState<string | null>(null);
  const remove = useAction();
  const accounts = status?.accounts ?? [];
  const removingSignedOut = accounts.find((a) => a.email === removing)?.connection === 'signed-out';

  const confirmRemove = async (keepMail: boolean) => {
    if (!removing) return;
    const email = removing;
    const ok = await remove.run(async () => {
      await bridge.removeAccount(email, { keepMail });
      return true;
    });
    if (!ok) return;
    setRemoving(null);
    toast(
      keepMail
        ? `Signed out of ${email}. Its mail stays on this computer; sign in again to sync it.`
        : `Account ${email} removed.`,
      'success',
    );
    await refreshStatus();
  };

  return (
    <section>
      <PageHeading>Accounts</PageHeading>
      <div className="actions">
        <button type="button" className="primary" onClick={() => navigate('add-account')}>
          Add account
        </button>
      </div>
      {status?.diskFull ? (
        <p className="note" role="alert">
          Disk full: {status.diskFull}
        </p>
      ) : null}
      {status?.offline ? (
        <p className="note">The bridge runs offline: it does not contact your providers.</p>
      ) : null}
      {status?.bodyCache && status.bodyCache.budgetBytes !== null ? (
        <p className="note" data-testid="body-cache">
          Mail stored here: {mb(status.bodyCache.storedBytes)} of a {mb(status.bodyCache.budgetBytes)} budget;{' '}
          {status.bodyCache.evicted} older messages are fetched from the provider when opened.
        </p>
      ) : null}
      {accounts.length === 0 ? (
        <p>No accounts yet. Add your mail account to start syncing.</p>
      ) : (
        accounts.map((a) => (
          <AccountCard
            key={a.email}
            account={a}
            info={infos.data?.find((i) => i.email === a.email)}
            onRemove={() => {
              remove.clear();
              setRemoving(a.email);
            }}
          />
        ))
      )}
      <Dialog
        open={removing !== null}
        title="Remove account?"
        role="alertdialog"
        onClose={() => setRemoving(null)}
      >
        <p>
          Remove <strong>{removing}</strong> from Lockbridge? Its mail is deleted from this computer (it stays
          at your provider). Your mail program will no longer see it.
        </p>
        {removingSignedOut ? null : (
          <p>
            Or sign out and keep the mail here: Lockbridge forgets your provider password and stops syncing,
            your mail program still shows the mail, and signing in again later downloads only what is new.
          </p>
        )}
        <ErrorText message={remove.error} />
        <div className="actions">
          <button type="button" data-autofocus onClick={() => setRemoving(null)}>
            Keep account
          </button>
          {removingSignedOut ? null : (
            <button type="button" disabled={remove.busy} onClick={() => void confirmRemove(true)}>
              Sign out, keep local mail
            </button>
          )}
          <button
            type="button"
            className="danger"
            disabled={remove.busy}
            onClick={() => void confirmRemove(false)}
          >
            Remove and delete local mail
          </button>
        </div>
      </Dialog>
    </section>
  );
}

/** Bytes as MB for the body cache note (one decimal below 10 MB). */
function mb(bytes: number): string {
  const v = bytes / (1024 * 1024);
  return `${v.toFixed(v < 10 ? 1 : 0)} MB`;
}
