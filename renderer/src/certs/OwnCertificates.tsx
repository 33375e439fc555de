/**
 * Your S/MIME certificates: addresses, issuer, expiry (a warning 30 days ahead), issued here or
 * imported; issue one (under Lockbridge's own root and intermediate CA); export the certificate
 * (PEM) or, with its private key, a PKCS#12 file protected by a passphrase — with the steps to
 * install it in other mail programs and trust the root.
 */
import { useId, useState, type FormEvent } from 'react';
import type { CertificateSummary } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Fingerprint } from '../components/Fingerprint.tsx';
import { bytesFromBase64, downloadBytes, downloadText } from '../download.ts';
import { fileSafe, formatDay } from '../format.ts';
import { looksLikeEmail, passphraseProblem } from '../forms.ts';
import { useAction } from '../hooks/useAction.ts';
import { certName } from './names.ts';

const SOON_MS = 30 * 24 * 60 * 60 * 1000;

function OwnCertificate({ c, onExport }: { c: CertificateSummary; onExport(): void }) {
  const { bridge, toast } = useApp();
  const action = useAction();
  const name = certName(c);
  const left = new Date(c.notAfter).getTime() - Date.now();
  const exportPem = async () => {
    const pem = await action.run(() => bridge.exportCertificate(c.fingerprint));
    if (pem === undefined) return;
    downloadText(`${fileSafe(c.emails[0] ?? c.fingerprint)}.pem`, pem, 'application/x-pem-file');
    toast(`Saved the certificate of ${name}.`);
  };
  return (
    <li className="key-row cert-row" data-cert={c.fingerprint}>
      <div className="key-head">
        <h3>{name}</h3>
        {c.expired ? (
          <Badge kind="error">Expired</Badge>
        ) : left < SOON_MS ? (
          <Badge kind="warn">Expires soon</Badge>
        ) : null}
      </div>
      <Fingerprint value={c.fingerprint} label="SHA-256 fingerprint" />
      <p className="small muted">
        Issued by {c.issuer || 'unknown'} · {c.expired ? 'expired' : 'expires'} {formatDay(c.notAfter)} ·{' '}
        {c.source === 'issued' ? 'issued by Lockbridge' : 'imported'}
      </p>
      <ErrorText message={action.error} />
      <div className="actions">
        <button type="button" onClick={() => void exportPem()} disabled={action.busy}>
          Export certificate<span className="visually-hidden"> of {name}</span>
        </button>
        <button type="button" onClick={onExport}>
          Export with private key…<span className="visually-hidden"> of {name}</span>
        </button>
      </div>
    </li>
  );
}

export function OwnCertificates({
  certs,
  onChanged,
}: {
  certs: CertificateSummary[];
  onChanged(): Promise<void>;
}) {
  const { bridge, status, toast } = useApp();
  const id = useId();
  const accounts = status?.accounts.map((a) => a.email) ?? [];
  const without = accounts.find((e) => !certs.some((c) => c.emails.includes(e.toLowerCase()) && !c.expired));
  const [email, setEmail] = useState(without ?? accounts[0] ?? '');
  const [algorithm, setAlgorithm] = useState<'rsa' | 'ec'>('rsa');
  const [problem, setProblem] = useState<string | null>(null);
  const issue = useAction();
  const [exportOf, setExportOf] = useState<CertificateSummary | null>(null);
  const [pass, setPass] = useState('');
  const [repeat, setRepeat] = useState('');
  const [passProblem, setPassProblem] = useState<string | null>(null);
  const exporting = useAction();

  const onIssue = async (e: FormEvent) => {
    e.preventDefault();
    if (!looksLikeEmail(email)) return setProblem('Enter an e-mail address.');
    setProblem(null);
    const c = await issue.run(() => bridge.issueCertificate(email.trim(), { algorithm }));
    if (!c) return;
    toast(`Issued a certificate for ${certName(c)}.`, 'success');
    await onChanged();
  };

  const openExport = (c: CertificateSummary) => {
    exporting.clear();
    setPass('');
    setRepeat('');
    setPassProblem(null);
    setExportOf(c);
  };

  const doExport = async (e: FormEvent) => {
    e.preventDefault();
    if (!exportOf) return;
    const bad = passphraseProblem(pass, repeat);
    setPassProblem(bad);
    if (bad) return;
    const c = exportOf;
    const b64 = await exporting.run(() => bridge.exportCertificatePkcs12(c.fingerprint, pass));
    if (b64 === undefined) return;
    downloadBytes(
      `${fileSafe(c.emails[0] ?? c.fingerprint)}.p12`,
      bytesFromBase64(b64),
      'application/x-pkcs12',
    );
    setPass('');
    setRepeat('');
    setExportOf(null);
    toast(`Saved the certificate and private key of ${certName(c)}. Keep that file safe.`, 'success');
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Your certificates</h2>
      {certs.length === 0 ? (
        <p>
          You have no S/MIME certificate yet. Import the PKCS#12 file (.p12, .pfx) your organisation or a CA
          gave you, or issue one here.
        </p>
      ) : (
        <ul className="plain">
          {certs.map((c) => (
            <OwnCertificate key={c.fingerprint} c={c} onExport={() => openExport(c)} />
          ))}
        </ul>
      )}
      <form onSubmit={(e) => void onIssue(e)} noValidate className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-email`}>Issue a certificate for</label>
          <input id={`${id}-email`} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-alg`}>Key type</label>
          <select
            id={`${id}-alg`}
            value={algorithm}
            onChange={(e) => setAlgorithm(e.target.value === 'ec' ? 'ec' : 'rsa')}
          >
            <option value="rsa">RSA 3072 (works everywhere)</option>
            <option value="ec">EC P-256 (smaller, newer clients)</option>
          </select>
        </div>
        <p className="small">
          Lockbridge issues it from its own root and intermediate certificate authority, made once and used
          for all your addresses. It is valid for two years. People who receive your signed mail get it with
          the mail; their program trusts it once they trust your Lockbridge root (or asks them to).
        </p>
        <ErrorText message={problem ?? issue.error} />
        <button type="submit" disabled={issue.busy}>
          {issue.busy ? 'Issuing…' : 'Issue certificate'}
        </button>
      </form>

      <Dialog
        open={exportOf !== null}
        title="Export certificate with private key"
        onClose={() => setExportOf(null)}
      >
        <form onSubmit={(e) => void doExport(e)} noValidate>
          <p className="warning-text">
            <strong>
              Anyone who gets this file and its passphrase can read your encrypted mail and sign as you.
            </strong>
          </p>
          <div className="field">
            <label htmlFor={`${id}-pass`}>Passphrase for the file</label>
            <input
              id={`${id}-pass`}
              type="password"
              autoComplete="new-password"
              data-autofocus
              value={pass}
              onChange={(e) => setPass(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-repeat`}>Repeat the passphrase</label>
            <input
              id={`${id}-repeat`}
              type="password"
              autoComplete="new-password"
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          </div>
          <details>
            <summary>Installing the file in other mail programs</summary>
            <p className="small">
              The file holds your certificate and private key and, for a certificate issued here, the
              Lockbridge intermediate and root certificate authority. Install it, then trust the Lockbridge
              root once on that device (for imported certificates, your CA’s root is usually trusted already).
            </p>
            <ul className="small">
              <li>
                Thunderbird: Settings → Privacy &amp; Security → Manage Certificates → Your Certificates →
                Import. Then, under Authorities, select “Lockbridge Root CA”, choose Edit Trust and tick “This
                certificate can identify mail users”. Pick the certificate under Account Settings → End-To-End
                Encryption → S/MIME.
              </li>
              <li>
                Apple Mail (macOS): open the file; Keychain Access asks for the passphrase. Then open
                “Lockbridge Root CA” in Keychain Access, expand Trust and set “When using this certificate” to
                Always Trust.
              </li>
              <li>
                iOS Mail: send or AirDrop the file to the device and install the profile in Settings. Then
                turn on full trust for “Lockbridge Root CA” under Settings → General → About → Certificate
                Trust Settings, and turn on S/MIME under Mail → Accounts → Advanced.
              </li>
              <li>
                Outlook (Windows): open the file and follow the Certificate Import Wizard, letting it choose
                the store; confirm the security warning that installs “Lockbridge Root CA” as a trusted root
                (or import the root from “Export certificate” into Trusted Root Certification Authorities).
                Then pick the certificate in the Trust Center’s e-mail security settings.
              </li>
            </ul>
          </details>
          <ErrorText message={passProblem ?? exporting.error} />
          <div className="actions">
            <button type="button" onClick={() => setExportOf(null)}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={exporting.busy}>
              {exporting.busy ? 'Exporting…' : `Download .p12 of ${exportOf ? certName(exportOf) : ''}`}
            </button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
