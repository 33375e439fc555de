/** How a certificate is named on the page. Pure. */
import type { CertificateSummary } from '../../../app/control/contract.ts';

export function certName(c: CertificateSummary): string {
  return c.emails.join(', ') || c.subject || c.fingerprint.slice(0, 16);
}
