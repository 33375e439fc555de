/**
 * The failure notice put into the local Inbox when the provider refuses a message permanently
 * (pure). Plain text, names the refused recipients, the provider's reply and the original
 * message's Subject/Message-ID, so the user can act on it.
 */
import { randomBytes } from 'node:crypto';
import { foldField } from '../mime/build.ts';
import { encodeWords } from '../mime/encoded-words.ts';
import { formatRfc5322Date } from '../mime/date.ts';

export interface FailureNoticeInput {
  accountEmail: string;
  recipients: string[];
  /** the provider's reply (or the local reason) */
  reason: string;
  originalSubject: string;
  originalMessageId: string;
  /** what happened to the other recipients, if some were accepted */
  acceptedRecipients?: string[];
  now?: Date;
}

export function buildFailureNotice(n: FailureNoticeInput): Buffer {
  const now = n.now ?? new Date();
  const domain = n.accountEmail.slice(n.accountEmail.lastIndexOf('@') + 1) || 'localhost';
  const subj = n.originalSubject && n.originalSubject !== '...' ? n.originalSubject : '(encrypted subject)';
  const lines = [
    'Lockbridge could not deliver your message.',
    '',
    `Message:    ${n.originalMessageId}`,
    `Subject:    ${subj}`,
    `Recipients: ${n.recipients.join(', ')}`,
    '',
    'The provider refused it permanently with:',
    `    ${n.reason.replace(/\s+/g, ' ').slice(0, 900)}`,
    '',
    ...(n.acceptedRecipients?.length
      ? [`It WAS delivered to: ${n.acceptedRecipients.join(', ')}`, '']
      : ['It was not delivered to anyone.', '']),
    'Nothing will be retried. Check the addresses and send the message again.',
  ];
  const body = Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
  const head =
    `From: Lockbridge <mailer-daemon@${domain}>\r\n` +
    `To: ${n.accountEmail}\r\n` +
    foldField('Subject', encodeWords(`Undelivered: ${subj}`)) +
    `Date: ${formatRfc5322Date(now)}\r\n` +
    `Message-ID: <failure-${randomBytes(12).toString('hex')}@${domain}>\r\n` +
    (n.originalMessageId
      ? `In-Reply-To: ${n.originalMessageId}\r\nReferences: ${n.originalMessageId}\r\n`
      : '') +
    'Auto-Submitted: auto-replied\r\n' +
    'MIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    'Content-Transfer-Encoding: 8bit\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}
