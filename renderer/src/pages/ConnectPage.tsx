/**
 * "Connect your mail client": what to type into Thunderbird & co. — host, ports, security,
 * usernames, the local password (show/hide, copy, reset), the local CA certificate and a
 * ready-made Thunderbird account file.
 */
import { useState } from 'react';
import type { ClientCredentials, SecurityMode } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { downloadText } from '../download.ts';
import { fileSafe } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { useLoad } from '../hooks/useLoad.ts';

const SECURITY: Record<SecurityMode, string> = {
  starttls: 'STARTTLS',
  tls: 'SSL/TLS',
  none: 'None',
};

function Details({ creds }: { creds: ClientCredentials }) {
  const { bridge, toast } = useApp();
  const [shown, setShown] = useState(false);
  const tb = useAction();
  return (
    <>
      <dl className="facts" aria-label="Connection settings">
        <div>
          <dt>Server (host)</dt>
          <dd>
            <code data-testid="cred-host">{creds.host}</code> <CopyButton value={creds.host} what="host" />
          </dd>
        </div>
        <div>
          <dt>IMAP (incoming)</dt>
          <dd>
            port <code data-testid="cred-imap-port">{creds.imap.port ?? '—'}</code>,{' '}
            {SECURITY[creds.imap.security]}
          </dd>
        </div>
        <div>
          <dt>SMTP (outgoing)</dt>
          <dd>
            port <code data-testid="cred-smtp-port">{creds.smtp.port ?? '—'}</code>,{' '}
            {SECURITY[creds.smtp.security]}
          </dd>
        </div>
        <div>
          <dt>Username</dt>
          <dd>
            {creds.usernames.length === 0 ? (
              <span>Add an account first; the username is its e-mail address.</span>
            ) : (
              <ul className="plain">
                {creds.usernames.map((u) => (
                  <li key={u}>
                    <code>{u}</code> <CopyButton value={u} what={`username ${u}`} />
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        <div>
          <dt>Password (local)</dt>
          <dd>
            <code className="secret" data-testid="local-password">
              {shown ? creds.password : '•'.repeat(12)}
            </code>{' '}
            <button
              type="button"
              className="button-small"
              aria-pressed={shown}
              onClick={() => setShown((v) => !v)}
            >
              {shown ? 'Hide password' : 'Show password'}
            </button>{' '}
            <CopyButton value={creds.password} what="local password" />
          </dd>
        </div>
      </dl>
      <h2>Downloads</h2>
      <div className="actions">
        <button
          type="button"
          disabled={!creds.caPem}
          onClick={() => {
            downloadText('lockbridge-ca.pem', creds.caPem, 'application/x-pem-file');
            toast('Saved lockbridge-ca.pem.');
          }}
        >
          Download local certificate (lockbridge-ca.pem)
        </button>
        {creds.usernames.map((u) => (
          <button
            key={u}
            type="button"
            disabled={tb.busy}
            onClick={() =>
              void tb.run(async () => {
                const xml = await bridge.thunderbirdAutoconfig(u);
                downloadText(`lockbridge-thunderbird-${fileSafe(u)}.xml`, xml, 'application/xml');
                toast(`Saved the Thunderbird account file for ${u}.`);
              })
            }
          >
            Thunderbird account file for {u}
          </button>
        ))}
      </div>
      <ErrorText message={tb.error} />
    </>
  );
}

export function ConnectPage() {
  const { bridge, toast } = useApp();
  const creds = useLoad(() => bridge.credentials(), [bridge]);
  const [confirm, setConfirm] = useState(false);
  const reset = useAction();

  const doReset = async () => {
    const next = await reset.run(() => bridge.resetLocalPassword());
    if (!next) return;
    creds.set(next);
    setConfirm(false);
    toast('A new local password was made. Enter it in your mail program.', 'success');
  };

  return (
    <section>
      <PageHeading>Connect your mail client</PageHeading>
      <p>
        Your mail program talks to Lockbridge on this computer, never to your provider directly. Use these
        settings in Thunderbird, Apple Mail, Outlook or any IMAP/SMTP client.
      </p>
      <ErrorText message={creds.error} />
      {creds.data ? <Details creds={creds.data} /> : creds.loading ? <p>Loading…</p> : null}
      <h2>How to set up Thunderbird</h2>
      <ol className="steps">
        <li>
          Download the local certificate and import it once: Settings → Privacy &amp; Security → Manage
          Certificates → Authorities → Import.
        </li>
        <li>
          Add a mail account with your name, your e-mail address and the local password above, then choose
          “Configure manually”.
        </li>
        <li>
          Enter the host, ports and security shown above, “Normal password”, and your e-mail address as
          username.
        </li>
        <li>
          Leave Thunderbird’s own OpenPGP off for this account: Lockbridge encrypts and decrypts for you.
        </li>
      </ol>
      <p className="small muted">
        The Thunderbird account file holds the same settings (not the password) for automated setups.
      </p>
      <h2>Reset the local password</h2>
      <p>Makes a new local password. Every mail program must then use the new one.</p>
      <button type="button" className="danger" onClick={() => setConfirm(true)}>
        Reset password…
      </button>
      <Dialog
        open={confirm}
        title="Reset the local password?"
        role="alertdialog"
        onClose={() => setConfirm(false)}
      >
        <p>Connected mail programs will fail to log in until you give them the new password.</p>
        <ErrorText message={reset.error} />
        <div className="actions">
          <button type="button" data-autofocus onClick={() => setConfirm(false)}>
            Cancel
          </button>
          <button type="button" className="danger" disabled={reset.busy} onClick={() => void doReset()}>
            Make a new password
          </button>
        </div>
      </Dialog>
    </section>
  );
}
