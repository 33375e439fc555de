/** Settings (every field of Settings) and changing the store passphrase. */
import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import type { EncryptPolicy, Settings } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { passphraseProblem, pendingRestart, settingsPatch } from '../forms.ts';
import { useAction } from '../hooks/useAction.ts';
import { useLoad } from '../hooks/useLoad.ts';
import { DirectoryForm } from './DirectoryForm.tsx';

function Check({
  id,
  label,
  hint,
  checked,
  onChange,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  checked: boolean;
  onChange(v: boolean): void;
}) {
  return (
    <div className="field checkbox">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => onChange(e.target.checked)}
      />
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function Pending({ text }: { text: string | undefined }) {
  return text ? <span className="restart-note">{text}</span> : null;
}

function SettingsForm({ initial, onSaved }: { initial: Settings; onSaved(s: Settings): void }) {
  const { bridge, toast, status } = useApp();
  const id = useId();
  const [s, setS] = useState<Settings>(initial);
  const pending = pendingRestart(s, status);
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();
  useEffect(() => setS(initial), [initial]);
  const set = <K extends keyof Settings>(k: K, v: Settings[K]) => setS((x) => ({ ...x, [k]: v }));
  const patch = settingsPatch(initial, s);
  const dirty = Object.keys(patch).length > 0;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    for (const [k, v] of [
      ['IMAP port', s.imapPort],
      ['SMTP port', s.smtpPort],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 65535)
        return setProblem(`The ${k} must be a number from 0 to 65535.`);
    }
    if (!Number.isInteger(s.keyLookupTimeoutMs) || s.keyLookupTimeoutMs < 100 || s.keyLookupTimeoutMs > 60000)
      return setProblem('The key lookup timeout must be from 100 to 60000 ms.');
    if (s.bodyCacheMB !== null && (!Number.isInteger(s.bodyCacheMB) || s.bodyCacheMB < 0))
      return setProblem('The local mail budget must be a whole number of MB, or empty to keep all mail.');
    setProblem(null);
    const saved = await action.run(() => bridge.updateSettings(patch));
    if (!saved) return;
    const restart = Object.keys(pendingRestart(saved, status)).length > 0;
    toast(restart ? 'Settings saved. Some take effect after a restart.' : 'Settings saved.', 'success');
    onSaved(saved);
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <fieldset>
        <legend>Sending</legend>
        <div className="field">
          <label htmlFor={`${id}-policy`}>Encryption</label>
          <select
            id={`${id}-policy`}
            value={s.encryptPolicy}
            aria-describedby={`${id}-policy-hint`}
            onChange={(e) => set('encryptPolicy', e.target.value as EncryptPolicy)}
          >
            <option value="when-possible">Encrypt when every recipient has a key</option>
            <option value="always">Always encrypt (refuse to send otherwise)</option>
            <option value="never">Never encrypt</option>
          </select>
          <p className="hint" id={`${id}-policy-hint`}>
            Keys are looked up in your keyring, Autocrypt, WKD and keys.openpgp.org.
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-standard`}>Standard when both are possible</label>
          <select
            id={`${id}-standard`}
            value={s.preferredStandard}
            aria-describedby={`${id}-standard-hint`}
            onChange={(e) => set('preferredStandard', e.target.value === 'smime' ? 'smime' : 'openpgp')}
          >
            <option value="openpgp">OpenPGP (also protects the Subject)</option>
            <option value="smime">S/MIME</option>
          </select>
          <p className="hint" id={`${id}-standard-hint`}>
            For a recipient with both an OpenPGP key and an S/MIME certificate, when you have an S/MIME
            certificate of your own (see Certificates).
          </p>
        </div>
        <Check
          id={`${id}-sign`}
          label="Sign outgoing mail"
          checked={s.sign}
          onChange={(v) => set('sign', v)}
        />
        <Check
          id={`${id}-attach`}
          label="Attach my public key to outgoing mail"
          checked={s.attachKey}
          onChange={(v) => set('attachKey', v)}
        />
        <Check
          id={`${id}-sent`}
          label="File copies of sent mail in the Sent folder"
          hint="Turn off when your mail program already saves sent mail."
          checked={s.fileSentCopies}
          onChange={(v) => set('fileSentCopies', v)}
        />
        <div className="field">
          <label htmlFor={`${id}-lookup`}>Key lookup timeout (milliseconds)</label>
          <input
            id={`${id}-lookup`}
            type="number"
            min={100}
            max={60000}
            step={100}
            value={Number.isNaN(s.keyLookupTimeoutMs) ? '' : s.keyLookupTimeoutMs}
            onChange={(e) => set('keyLookupTimeoutMs', e.target.valueAsNumber)}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Mail at your provider</legend>
        <Check
          id={`${id}-self`}
          label="Upload mail encrypted to myself"
          hint="Mail your mail program saves (drafts, sent copies) is encrypted before it reaches the provider."
          checked={s.uploadEncryptedToSelf}
          onChange={(v) => set('uploadEncryptedToSelf', v)}
        />
        <Check
          id={`${id}-rest`}
          label="Encrypt incoming plain mail at the provider (encrypt at rest)"
          hint="Replaces unencrypted messages at your provider with copies encrypted to your key."
          checked={s.encryptAtRest}
          onChange={(v) => set('encryptAtRest', v)}
        />
        <div className="field">
          <label htmlFor={`${id}-cache`}>Local mail budget (MB)</label>
          <input
            id={`${id}-cache`}
            type="number"
            min={0}
            step={100}
            placeholder="Keep all mail"
            aria-describedby={`${id}-cache-hint`}
            value={s.bodyCacheMB === null || Number.isNaN(s.bodyCacheMB) ? '' : s.bodyCacheMB}
            onChange={(e) => set('bodyCacheMB', e.target.value === '' ? null : e.target.valueAsNumber)}
          />
          <p className="hint" id={`${id}-cache-hint`}>
            Empty keeps every message here. With a budget, the bodies of the messages read least recently are
            removed from this computer (their list entries stay) and fetched from the provider again when you
            open them.
          </p>
        </div>
      </fieldset>
      <fieldset>
        <legend>Local servers</legend>
        <div className="grid-2">
          <div className="field">
            <label htmlFor={`${id}-imap`}>IMAP port</label>
            <input
              id={`${id}-imap`}
              type="number"
              min={0}
              max={65535}
              value={Number.isNaN(s.imapPort) ? '' : s.imapPort}
              aria-describedby={`${id}-ports-hint`}
              onChange={(e) => set('imapPort', e.target.valueAsNumber)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-smtp`}>SMTP port</label>
            <input
              id={`${id}-smtp`}
              type="number"
              min={0}
              max={65535}
              value={Number.isNaN(s.smtpPort) ? '' : s.smtpPort}
              aria-describedby={`${id}-ports-hint`}
              onChange={(e) => set('smtpPort', e.target.valueAsNumber)}
            />
          </div>
        </div>
        <p className="hint" id={`${id}-ports-hint`} data-testid="ports-in-use">
          {status?.ports.imap
            ? `In use now: IMAP on port ${status.ports.imap}, SMTP on port ${status.ports.smtp ?? '–'} (127.0.0.1).`
            : 'The mail servers are not running.'}{' '}
          <Pending text={pending.imapPort} /> <Pending text={pending.smtpPort} />
        </p>
        <div className="field">
          <label htmlFor={`${id}-tls`}>TLS for mail programs</label>
          <select
            id={`${id}-tls`}
            value={s.tlsMode}
            aria-describedby={pending.tlsMode ? `${id}-tls-hint` : undefined}
            onChange={(e) => set('tlsMode', e.target.value as Settings['tlsMode'])}
          >
            <option value="starttls">STARTTLS</option>
            <option value="tls">Implicit TLS (SSL/TLS)</option>
          </select>
          {pending.tlsMode ? (
            <p className="hint" id={`${id}-tls-hint`}>
              <Pending text={pending.tlsMode} />
            </p>
          ) : null}
        </div>
        <Check
          id={`${id}-plain`}
          label="Allow logins without TLS on this computer"
          hint={
            <>
              Only for mail programs that cannot do TLS. <Pending text={pending.allowPlaintextLoopback} />
            </>
          }
          checked={s.allowPlaintextLoopback}
          onChange={(v) => set('allowPlaintextLoopback', v)}
        />
        <Check
          id={`${id}-compress`}
          label="Offer IMAP compression (COMPRESS=DEFLATE)"
          hint={
            <>
              Saves bandwidth only over a network; costs CPU on this computer.{' '}
              <Pending text={pending.imapCompress} />
            </>
          }
          checked={s.imapCompress}
          onChange={(v) => set('imapCompress', v)}
        />
      </fieldset>
      <fieldset>
        <legend>Desktop</legend>
        <Check
          id={`${id}-login`}
          label="Start Lockbridge when I log in"
          hint="Desktop app only."
          checked={s.startAtLogin}
          onChange={(v) => set('startAtLogin', v)}
        />
      </fieldset>
      <ErrorText message={problem ?? action.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={action.busy || !dirty}>
          {action.busy ? 'Saving…' : 'Save settings'}
        </button>
        <button type="button" disabled={!dirty} onClick={() => setS(initial)}>
          Undo changes
        </button>
      </div>
    </form>
  );
}

function ChangePassphrase() {
  const { bridge, toast } = useApp();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = passphraseProblem(next, repeat);
    setProblem(p);
    if (p) return;
    const ok = await action.run(async () => {
      await bridge.changePassphrase(current, next);
      return true;
    });
    if (!ok) return;
    setCurrent('');
    setNext('');
    setRepeat('');
    toast('Passphrase changed.', 'success');
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Change the store passphrase</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor={`${id}-cur`}>Current passphrase</label>
          <input
            id={`${id}-cur`}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </div>
        <div className="grid-2">
          <div className="field">
            <label htmlFor={`${id}-new`}>New passphrase</label>
            <input
              id={`${id}-new`}
              type="password"
              autoComplete="new-password"
              value={next}
              onChange={(e) => setNext(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-rep`}>Repeat the new passphrase</label>
            <input
              id={`${id}-rep`}
              type="password"
              autoComplete="new-password"
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          </div>
        </div>
        <ErrorText message={problem ?? action.error} />
        <button type="submit" disabled={action.busy || !current || !next}>
          {action.busy ? 'Changing…' : 'Change passphrase'}
        </button>
      </form>
    </section>
  );
}

export function SettingsPage() {
  const { bridge } = useApp();
  const settings = useLoad(() => bridge.getSettings(), [bridge]);
  const id = useId();
  return (
    <section>
      <PageHeading>Settings</PageHeading>
      <ErrorText message={settings.error} />
      <section aria-labelledby={`${id}-h`}>
        <h2 id={`${id}-h`} className="visually-hidden">
          Bridge settings
        </h2>
        {settings.data ? (
          <SettingsForm initial={settings.data} onSaved={(s) => settings.set(s)} />
        ) : (
          <p>Loading…</p>
        )}
      </section>
      {settings.data ? <DirectoryForm initial={settings.data} onSaved={(s) => settings.set(s)} /> : null}
      <ChangePassphrase />
    </section>
  );
}
