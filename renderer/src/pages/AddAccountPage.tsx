/**
 * Add a provider account: the address first, then the provider's settings as discovered (SRV,
 * autoconfig) or typed in, the provider password — or an OAuth 2.0 sign-in on the provider's own
 * page (Google, Microsoft, ... when discovery names the profile; any OpenID Connect issuer by
 * hand) — optionally a private CA. The bridge checks the login before saving; its message (wrong
 * password, TLS failure, unreachable host) is shown as-is.
 */
import { useId, useRef, useState, type FormEvent } from 'react';
import type { ProviderSuggestion, SecurityMode } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { isPemCertificate, looksLikeEmail } from '../forms.ts';
import { useAction } from '../hooks/useAction.ts';
import { useOAuthSignIn } from '../hooks/useOAuthSignIn.ts';
import { OAuthWaiting } from '../components/OAuthWaiting.tsx';

const SOURCE_TEXT: Record<ProviderSuggestion['source'], string> = {
  srv: "Found in your domain's DNS service records (RFC 6186).",
  autoconfig: "Found in your provider's published autoconfiguration file.",
  guess: 'Guessed from your domain name — please check them.',
};

interface ServerFields {
  imapHost: string;
  imapPort: string;
  smtpHost: string;
  smtpPort: string;
  security: SecurityMode;
  username: string;
}

const EMPTY: ServerFields = {
  imapHost: '',
  imapPort: '993',
  smtpHost: '',
  smtpPort: '465',
  security: 'tls',
  username: '',
};

function portOf(s: string): number | null {
  const n = Number(s.trim());
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

export function AddAccountPage() {
  const { bridge, navigate, toast, refreshStatus } = useApp();
  const id = useId();
  const [email, setEmail] = useState('');
  const [step, setStep] = useState<'email' | 'details'>('email');
  const [found, setFound] = useState<ProviderSuggestion | null>(null);
  const [fields, setFields] = useState<ServerFields>(EMPTY);
  const [password, setPassword] = useState('');
  const [method, setMethod] = useState<'password' | 'oauth'>('password');
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [scopes, setScopes] = useState('');
  const oauth = useOAuthSignIn();
  const [caPem, setCaPem] = useState<string | null>(null);
  const [caName, setCaName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const discover = useAction();
  const add = useAction();
  const detailsHeading = useRef<HTMLHeadingElement>(null);
  const emailInput = useRef<HTMLInputElement>(null);

  const set = <K extends keyof ServerFields>(k: K, v: ServerFields[K]) =>
    setFields((f) => ({ ...f, [k]: v }));

  const onEmail = async (e: FormEvent) => {
    e.preventDefault();
    if (!looksLikeEmail(email)) {
      setProblem('Enter your full e-mail address, like you@example.org.');
      return;
    }
    setProblem(null);
    const suggestion = await discover.run(() => bridge.discoverProvider(email.trim()));
    const s = suggestion ?? null;
    setFound(s);
    setMethod(s?.oauth ? 'oauth' : 'password');
    setFields(
      s
        ? {
            imapHost: s.imap.host,
            imapPort: String(s.imap.port),
            smtpHost: s.smtp.host,
            smtpPort: String(s.smtp.port),
            security: s.security,
            username: s.username ?? '',
          }
        : { ...EMPTY, imapHost: '', smtpHost: '' },
    );
    setStep('details');
    window.setTimeout(() => detailsHeading.current?.focus(), 0);
  };

  const onCaFile = async (file: File | undefined) => {
    setProblem(null);
    if (!file) {
      setCaPem(null);
      setCaName('');
      return;
    }
    const text = await file.text();
    if (!isPemCertificate(text)) {
      setCaPem(null);
      setCaName('');
      setProblem(`${file.name} is not a PEM certificate.`);
      return;
    }
    setCaPem(text);
    setCaName(file.name);
  };

  const onAdd = async (e: FormEvent) => {
    e.preventDefault();
    const imapPort = portOf(fields.imapPort);
    const smtpPort = portOf(fields.smtpPort);
    if (!fields.imapHost.trim() || !fields.smtpHost.trim()) return setProblem('Enter both server names.');
    if (imapPort === null || smtpPort === null) return setProblem('Ports are numbers from 1 to 65535.');
    if (method === 'oauth') {
      if (!found?.oauth && !/^https?:\/\//.test(issuer.trim()))
        return setProblem(
          'Enter the sign-in service (OpenID Connect issuer) address, like https://login.example.org.',
        );
      setProblem(null);
      const saved = await oauth.signIn({
        email: email.trim(),
        ...(found?.oauth ? { profile: found.oauth } : { profile: 'oidc', issuer: issuer.trim() }),
        ...(clientId.trim() ? { clientId: clientId.trim() } : {}),
        ...(scopes.trim() ? { scopes: scopes.trim().split(/\s+/) } : {}),
        imap: { host: fields.imapHost.trim(), port: imapPort },
        smtp: { host: fields.smtpHost.trim(), port: smtpPort },
        security: fields.security,
        ...(fields.username.trim() ? { username: fields.username.trim() } : {}),
        ...(caPem ? { caPem } : {}),
      });
      if (!saved) return;
      toast(`Account ${saved.email} added, signed in with OAuth. Syncing starts now.`, 'success');
      await refreshStatus();
      navigate('accounts');
      return;
    }
    if (!password) return setProblem('Enter the password of your mail account.');
    setProblem(null);
    const saved = await add.run(() =>
      bridge.addAccount({
        email: email.trim(),
        imap: { host: fields.imapHost.trim(), port: imapPort },
        smtp: { host: fields.smtpHost.trim(), port: smtpPort },
        security: fields.security,
        ...(fields.username.trim() ? { username: fields.username.trim() } : {}),
        password,
        ...(caPem ? { caPem } : {}),
      }),
    );
    if (!saved) return;
    setPassword('');
    toast(`Account ${saved.email} added. Syncing starts now.`, 'success');
    await refreshStatus();
    navigate('accounts');
  };

  return (
    <section className="narrow">
      <PageHeading>Add a mail account</PageHeading>
      <form onSubmit={(e) => void onEmail(e)} noValidate aria-label="E-mail address">
        <div className="field">
          <label htmlFor={`${id}-email`}>Your e-mail address</label>
          <div className="inline">
            <input
              id={`${id}-email`}
              ref={emailInput}
              type="email"
              autoComplete="email"
              value={email}
              readOnly={step === 'details'}
              onChange={(e) => setEmail(e.target.value)}
            />
            {/* distinct keys: React must not turn the clicked "Change" button into the submit
                button in place, or the same click submits the form and looks the address up again */}
            {step === 'email' ? (
              <button key="continue" type="submit" className="primary" disabled={discover.busy}>
                {discover.busy ? 'Looking up settings…' : 'Continue'}
              </button>
            ) : (
              <button
                key="change"
                type="button"
                onClick={() => {
                  setStep('email');
                  window.setTimeout(() => emailInput.current?.focus(), 0);
                }}
              >
                Change
              </button>
            )}
          </div>
        </div>
        {step === 'email' ? <ErrorText message={problem ?? discover.error} /> : null}
      </form>

      {step === 'details' ? (
        <form onSubmit={(e) => void onAdd(e)} noValidate aria-labelledby={`${id}-details`}>
          <h2 id={`${id}-details`} ref={detailsHeading} tabIndex={-1}>
            Provider settings
          </h2>
          <p className="note" data-testid="discovery-source">
            {found
              ? SOURCE_TEXT[found.source]
              : discover.error
                ? `Looking up the settings failed (${discover.error}). Enter them by hand.`
                : 'No settings were found for this address. Enter them by hand (your provider documents them).'}
          </p>
          <fieldset>
            <legend>Incoming mail (IMAP)</legend>
            <div className="grid-2">
              <div className="field">
                <label htmlFor={`${id}-ih`}>IMAP server</label>
                <input
                  id={`${id}-ih`}
                  value={fields.imapHost}
                  onChange={(e) => set('imapHost', e.target.value)}
                />
              </div>
              <div className="field port">
                <label htmlFor={`${id}-ip`}>IMAP port</label>
                <input
                  id={`${id}-ip`}
                  inputMode="numeric"
                  value={fields.imapPort}
                  onChange={(e) => set('imapPort', e.target.value)}
                />
              </div>
            </div>
          </fieldset>
          <fieldset>
            <legend>Outgoing mail (SMTP)</legend>
            <div className="grid-2">
              <div className="field">
                <label htmlFor={`${id}-sh`}>SMTP server</label>
                <input
                  id={`${id}-sh`}
                  value={fields.smtpHost}
                  onChange={(e) => set('smtpHost', e.target.value)}
                />
              </div>
              <div className="field port">
                <label htmlFor={`${id}-sp`}>SMTP port</label>
                <input
                  id={`${id}-sp`}
                  inputMode="numeric"
                  value={fields.smtpPort}
                  onChange={(e) => set('smtpPort', e.target.value)}
                />
              </div>
            </div>
          </fieldset>
          <div className="field">
            <label htmlFor={`${id}-sec`}>Connection security</label>
            <select
              id={`${id}-sec`}
              value={fields.security}
              onChange={(e) => set('security', e.target.value as SecurityMode)}
            >
              <option value="tls">TLS (implicit, usually ports 993 and 465)</option>
              <option value="starttls">STARTTLS (usually ports 143 and 587)</option>
              <option value="none">None (unencrypted — only for testing)</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-user`}>Username at the provider</label>
            <input
              id={`${id}-user`}
              autoComplete="username"
              placeholder={email}
              aria-describedby={`${id}-user-hint`}
              value={fields.username}
              onChange={(e) => set('username', e.target.value)}
            />
            <p className="hint" id={`${id}-user-hint`}>
              Leave empty when it is your e-mail address.
            </p>
          </div>
          <fieldset>
            <legend>How Lockbridge signs in to your provider</legend>
            <label className="radio">
              <input
                type="radio"
                name={`${id}-method`}
                checked={method === 'password'}
                onChange={() => setMethod('password')}
              />{' '}
              Password (or an app password)
            </label>
            <label className="radio">
              <input
                type="radio"
                name={`${id}-method`}
                checked={method === 'oauth'}
                onChange={() => setMethod('oauth')}
              />{' '}
              {found?.oauth
                ? `Sign in with ${found.oauthName ?? found.oauth} (OAuth 2.0)`
                : 'Sign in on the provider’s page (OAuth 2.0)'}
            </label>
          </fieldset>
          {method === 'oauth' ? (
            <>
              {found?.oauth ? null : (
                <div className="field">
                  <label htmlFor={`${id}-iss`}>Sign-in service (OpenID Connect issuer)</label>
                  <input
                    id={`${id}-iss`}
                    type="url"
                    placeholder="https://login.example.org"
                    value={issuer}
                    onChange={(e) => setIssuer(e.target.value)}
                  />
                </div>
              )}
              <div className="grid-2">
                <div className="field">
                  <label htmlFor={`${id}-cid`}>Client ID (optional)</label>
                  <input id={`${id}-cid`} value={clientId} onChange={(e) => setClientId(e.target.value)} />
                </div>
                <div className="field">
                  <label htmlFor={`${id}-scp`}>Scopes (optional)</label>
                  <input
                    id={`${id}-scp`}
                    placeholder="openid offline_access …"
                    value={scopes}
                    onChange={(e) => setScopes(e.target.value)}
                  />
                </div>
              </div>
              <p className="hint">
                Your provider’s sign-in page opens in your browser; the password is typed there, never here.
                Lockbridge keeps the sign-in only in its encrypted store.
              </p>
            </>
          ) : null}
          <div className="field" hidden={method !== 'password'}>
            <label htmlFor={`${id}-pw`}>Password at the provider</label>
            <input
              id={`${id}-pw`}
              type="password"
              autoComplete="current-password"
              aria-describedby={`${id}-pw-hint`}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <p className="hint" id={`${id}-pw-hint`}>
              Kept only in the encrypted store. Your mail program will use a separate local password.
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-ca`}>Provider CA certificate (optional)</label>
            <input
              id={`${id}-ca`}
              type="file"
              accept=".pem,.crt,.cer,application/x-pem-file"
              aria-describedby={`${id}-ca-hint`}
              onChange={(e) => void onCaFile(e.target.files?.[0])}
            />
            <p className="hint" id={`${id}-ca-hint`}>
              {caName
                ? `Using ${caName}.`
                : 'Only for a provider whose certificate is signed by a private CA (PEM file).'}
            </p>
          </div>
          <ErrorText message={problem ?? add.error ?? oauth.error} />
          <OAuthWaiting action={oauth} />
          <div className="actions">
            {method === 'oauth' ? (
              <button type="submit" className="primary" disabled={oauth.busy}>
                {oauth.busy
                  ? 'Waiting for the sign-in…'
                  : found?.oauth
                    ? `Sign in with ${found.oauthName ?? found.oauth}`
                    : 'Sign in and add account'}
              </button>
            ) : (
              <button type="submit" className="primary" disabled={add.busy}>
                {add.busy ? 'Checking the login…' : 'Check login and add account'}
              </button>
            )}
            <button type="button" onClick={() => navigate('accounts')}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
