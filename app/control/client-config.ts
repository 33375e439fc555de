/** Ready-made client configuration files (Thunderbird autoconfig XML) for the local bridge. */
import type { ClientCredentials } from './contract.ts';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Thunderbird's autoconfig format (clientConfig v1.1): IMAP and SMTP on 127.0.0.1 with the local
 * username. The password is not put in the file: the user pastes it once and Thunderbird saves it.
 */
export function thunderbirdAutoconfigXml(email: string, creds: ClientCredentials): string {
  const socket = (s: string) => (s === 'tls' ? 'SSL' : s === 'starttls' ? 'STARTTLS' : 'plain');
  const domain = email.split('@')[1] ?? 'localhost';
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="lockbridge.local">
    <domain>${esc(domain)}</domain>
    <displayName>Lockbridge (${esc(email)})</displayName>
    <displayShortName>Lockbridge</displayShortName>
    <incomingServer type="imap">
      <hostname>${esc(creds.host)}</hostname>
      <port>${creds.imap.port ?? 1143}</port>
      <socketType>${socket(creds.imap.security)}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${esc(email)}</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>${esc(creds.host)}</hostname>
      <port>${creds.smtp.port ?? 1025}</port>
      <socketType>${socket(creds.smtp.security)}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${esc(email)}</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
`;
}
