/** Certificates of others and CAs: address, issuer, expiry, where it came from, trust; export. */
import { useId } from 'react';
import type { CertificateSummary } from '../../../app/control/contract.ts';
import { useApp } from '../app-context.ts';
import { Badge } from '../components/Badge.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Fingerprint } from '../components/Fingerprint.tsx';
import { downloadText } from '../download.ts';
import { fileSafe, formatDay } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { certName } from './names.ts';

const SOURCE_LABEL: Record<CertificateSummary['source'], string> = {
  imported: 'imported by you',
  learned: 'learned from signed mail',
  directory: 'found in your S/MIME directory',
  'own-chain': 'came with your certificate',
  issued: 'issued by Lockbridge',
};

function OtherCertificate({ c, onChanged }: { c: CertificateSummary; onChanged(): Promise<void> }) {
  const { bridge, toast } = useApp();
  const action = useAction();
  const name = certName(c);
  const setTrust = async (trusted: boolean) => {
    const ok = await action.run(async () => {
      await bridge.setCertificateTrust(c.fingerprint, trusted);
      return true;
    });
    if (!ok) return;
    toast(trusted ? `Trusted ${name}.` : `No longer trusting ${name}.`, 'success');
    await onChanged();
  };
  const exportPem = async () => {
    const pem = await action.run(() => bridge.exportCertificate(c.fingerprint));
    if (pem === undefined) return;
    downloadText(`${fileSafe(c.emails[0] ?? c.subject ?? c.fingerprint)}.pem`, pem, 'application/x-pem-file');
  };
  return (
    <li className="key-row cert-row" data-cert={c.fingerprint}>
      <div className="key-head">
        <h3>{name}</h3>
        {c.isCa ? <Badge>CA</Badge> : null}
        {c.trusted ? <Badge kind="ok">Trusted</Badge> : <Badge>Not trusted</Badge>}
        {c.expired ? <Badge kind="error">Expired</Badge> : null}
      </div>
      <Fingerprint value={c.fingerprint} label="SHA-256 fingerprint" />
      <p className="small muted">
        Issued by {c.issuer || 'unknown'} · {c.expired ? 'expired' : 'expires'} {formatDay(c.notAfter)} ·{' '}
        {SOURCE_LABEL[c.source]}
      </p>
      <ErrorText message={action.error} />
      <div className="actions">
        <button
          type="button"
          className="button-small"
          disabled={action.busy}
          onClick={() => void setTrust(!c.trusted)}
        >
          {c.trusted ? 'Stop trusting' : 'Trust'}
          <span className="visually-hidden"> {name}</span>
        </button>
        <button
          type="button"
          className="button-small"
          disabled={action.busy}
          onClick={() => void exportPem()}
        >
          Export<span className="visually-hidden"> certificate of {name}</span>
        </button>
      </div>
    </li>
  );
}

export function OtherCertificates({
  certs,
  onChanged,
}: {
  certs: CertificateSummary[];
  onChanged(): Promise<void>;
}) {
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Others’ certificates</h2>
      <p className="small">
        A trusted certificate vouches for the signatures of certificates it issued (for a CA) or for its own
        signatures; the others are checked by the mail they came with.
      </p>
      {certs.length === 0 ? (
        <p>No certificates of others yet. They are learned from signed mail, or imported above.</p>
      ) : (
        <ul className="plain">
          {certs.map((c) => (
            <OtherCertificate key={c.fingerprint} c={c} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </section>
  );
}
