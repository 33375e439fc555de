/**
 * Import S/MIME files: a PKCS#12 (.p12/.pfx: your certificate and private key, with its
 * passphrase), certificates (PEM/DER) of others or of a CA to trust, or a CA's revocation list
 * (.crl).
 */
import { useId, useRef, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.ts';
import { errorCode } from '../bridge-types.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { base64FromBytes } from '../download.ts';
import { useAction } from '../hooks/useAction.ts';
import { certName } from './names.ts';

export function ImportCertificate({ onChanged }: { onChanged(): Promise<void> }) {
  const { bridge, toast } = useApp();
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [trusted, setTrusted] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const data = base64FromBytes(new Uint8Array(await file.arrayBuffer()));
    const r = await action.run(async () => {
      try {
        return await bridge.importCertificates(data, { trusted, ...(passphrase ? { passphrase } : {}) });
      } catch (err) {
        if (errorCode(err) === 'passphrase-required')
          throw new Error(`${file.name} is protected by a passphrase: enter it above.`, { cause: err });
        throw err;
      }
    });
    if (!r) return;
    const names = [
      ...r.own.map((c) => `${certName(c)} (yours)`),
      ...r.certificates.map(certName),
      ...(r.crls ?? []).map((c) => `the revocation list of ${c.issuer || 'a CA'} (${c.revoked} revoked)`),
    ];
    setPassphrase('');
    setTrusted(false);
    setFile(null);
    if (fileRef.current) fileRef.current.value = '';
    toast(names.length ? `Imported ${names.join(', ')}.` : 'Nothing new was imported.', 'success');
    await onChanged();
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Import a certificate</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor={`${id}-file`}>Certificate file (.p12, .pfx, .pem, .crt, .cer)</label>
          <input
            id={`${id}-file`}
            ref={fileRef}
            type="file"
            accept=".p12,.pfx,.pem,.crt,.cer,.der,.crl"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-pass`}>Passphrase of a .p12/.pfx file</label>
          <input
            id={`${id}-pass`}
            type="password"
            autoComplete="off"
            aria-describedby={`${id}-pass-hint`}
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
          <p id={`${id}-pass-hint`} className="small">
            Your certificate and private key are kept in Lockbridge’s encrypted store; the passphrase is not
            kept.
          </p>
        </div>
        <div className="field checkbox">
          <input
            id={`${id}-trusted`}
            type="checkbox"
            checked={trusted}
            onChange={(e) => setTrusted(e.target.checked)}
          />
          <label htmlFor={`${id}-trusted`}>Trust it as a certificate authority (CA) for signatures</label>
        </div>
        <ErrorText message={action.error} />
        <button type="submit" disabled={action.busy || !file}>
          {action.busy ? 'Importing…' : 'Import certificate'}
        </button>
      </form>
    </section>
  );
}
