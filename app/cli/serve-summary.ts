/** The plain summary `serve` prints on a terminal once the bridge is ready. */
import type { BridgeStatus, ClientCredentials } from '../control/contract.ts';

export interface SummaryInput {
  status: BridgeStatus;
  credentials: ClientCredentials | null;
  ui?: string;
}

const SECURITY: Record<string, string> = { starttls: 'STARTTLS', tls: 'SSL/TLS', none: 'no TLS' };

function percent(a: BridgeStatus['accounts'][number]): string {
  const { messagesSynced, messagesTotal, phase, sizesKnown } = a.sync;
  if (!sizesKnown) return messagesSynced > 0 ? `${messagesSynced} messages synced so far` : 'not counted yet';
  if (messagesTotal === 0) return 'up to date';
  const pct = Math.floor((100 * messagesSynced) / messagesTotal);
  return pct >= 100 && phase === 'idle'
    ? `up to date (${messagesTotal} messages)`
    : `syncing ${messagesSynced} of ${messagesTotal} (${pct} %)`;
}

export function serveSummary({ status, credentials, ui }: SummaryInput): string {
  const host = credentials?.host ?? '127.0.0.1';
  const imapSec = SECURITY[credentials?.imap.security ?? 'starttls'] ?? '';
  const smtpSec = SECURITY[credentials?.smtp.security ?? 'starttls'] ?? '';
  const lines = [
    '',
    `Lockbridge ${status.version} is ready${status.offline ? ' (offline: providers are not contacted)' : ''}.`,
    `  IMAP      ${host}:${status.ports.imap}  ${imapSec}`,
    `  SMTP      ${host}:${status.ports.smtp}  ${smtpSec}`,
    ui ? `  UI        ${ui}` : '  UI        not served (start with --ui)',
    `  Data      ${status.home}`,
  ];
  if (status.accounts.length === 0) {
    lines.push(
      '  Accounts  none yet: run lockbridge account add --email YOU@EXAMPLE.ORG --imap HOST:PORT --smtp HOST:PORT',
    );
  } else {
    lines.push(`  Accounts  ${status.accounts.length}`);
    for (const a of status.accounts) {
      const state = a.paused ? 'paused' : a.connection;
      const waiting = a.outbox.queued + a.outbox.failed;
      lines.push(
        `    ${a.email}  ${state}, ${percent(a)}${waiting ? `, ${waiting} in the outbox` : ''}${a.lastError ? `; last error: ${a.lastError}` : ''}`,
      );
    }
  }
  lines.push(
    "  Mail clients: 'lockbridge credentials' prints the settings and the local password.",
    '  Stop with Ctrl+C.',
    '',
  );
  return lines.join('\n');
}
