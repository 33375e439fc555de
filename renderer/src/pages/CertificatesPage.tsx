/**
 * Certificates (S/MIME, issue 19): your own certificates with their keys (issue one, export it for
 * other mail programs, expiry warnings), import a PKCS#12 file or certificates, and the
 * certificates of others (learned from their signed mail, or imported) with trust.
 */
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useLoad } from '../hooks/useLoad.ts';
import { OwnCertificates } from '../certs/OwnCertificates.tsx';
import { ImportCertificate } from '../certs/ImportCertificate.tsx';
import { OtherCertificates } from '../certs/OtherCertificates.tsx';

export function CertificatesPage() {
  const { bridge } = useApp();
  const certs = useLoad(() => bridge.listCertificates(), [bridge]);
  return (
    <section>
      <PageHeading>Certificates</PageHeading>
      <p>
        S/MIME certificates, the standard of Outlook, Apple Mail and iOS Mail. Lockbridge signs and encrypts
        with yours, and encrypts to people whose certificate it holds.
      </p>
      <ErrorText message={certs.error} />
      <OwnCertificates certs={certs.data?.own ?? []} onChanged={certs.reload} />
      <ImportCertificate onChanged={certs.reload} />
      <OtherCertificates certs={certs.data?.certificates ?? []} onChanged={certs.reload} />
    </section>
  );
}
