/**
 * STATUS items (RFC 3501 §6.3.10, CONDSTORE HIGHESTMODSEQ, STATUS=SIZE, RFC 9051 §6.3.11 DELETED,
 * RFC 8474 MAILBOXID),
 * shared with LIST-STATUS.
 */
import { RecentClaims } from '../recent.ts';
import type { ImapToken } from '../wire/types.ts';
import type { ImapAccount, MailboxInfo } from '../backend.ts';
import { ImapBadError } from '../errors.ts';
import { toWire } from '../mailbox-names.ts';

const ITEMS = new Set([
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'HIGHESTMODSEQ',
  'SIZE',
  'MAILBOXID',
]);

export function parseStatusItems(tokens: ImapToken[]): string[] {
  if (!tokens.length) throw new ImapBadError('Empty status list');
  return tokens.map((t) => {
    const v = t.type === 'atom' ? t.value.toUpperCase() : '';
    if (!ITEMS.has(v)) throw new ImapBadError('Invalid status item');
    return v;
  });
}

export function statusLine(
  account: ImapAccount,
  info: MailboxInfo,
  items: string[],
  utf8: boolean,
  recent: RecentClaims,
): string {
  const st = account.status(info.id);
  const vals = items.map((item) => {
    switch (item) {
      case 'MESSAGES':
        return `MESSAGES ${st.messages}`;
      case 'RECENT':
        return `RECENT ${recent.count(RecentClaims.key(account.username, info.id), () => account.openMailbox(info.id).uids)}`;
      case 'UIDNEXT':
        return `UIDNEXT ${st.uidNext}`;
      case 'UIDVALIDITY':
        return `UIDVALIDITY ${st.uidValidity}`;
      case 'UNSEEN':
        return `UNSEEN ${st.unseen}`;
      case 'DELETED':
        return `DELETED ${st.deleted}`;
      case 'HIGHESTMODSEQ':
        return `HIGHESTMODSEQ ${st.highestModseq}`;
      case 'MAILBOXID':
        return `MAILBOXID (${info.objectId})`;
      default:
        return `SIZE ${st.size}`;
    }
  });
  return `* STATUS ${toWire(info.name, utf8)} (${vals.join(' ')})`;
}
