/**
 * Decoded header values for SEARCH / SORT / THREAD (see HeaderIndex in types.ts).
 *
 * - buildHeaderIndex(raw, header) → HeaderIndex. Display strings are RFC 2047-decoded
 *   ("Name <addr>, ..."); fromAddr/toAddr/ccAddr are the lowercase "mailbox@host" of the first
 *   address of each field (RFC 5256 SORT keys); references are the msg-ids of References in order.
 * - decodeAddressDisplay(value) → "Name <a@b>, group: x@y;" decoded display string.
 * - displaySortValue(header, lowerName) → RFC 5957's DISPLAY value of a header block's field: the
 *   decoded display name of its first address (a group's is the group name), else that mailbox's
 *   "mailbox@host", else ''.
 * - parseMsgIds(value) → the <...> ids in a header value.
 */
import type { HeaderIndex } from './types.ts';
import { firstValue, parseHeaderBlock, type HeaderBlock } from './header-block.ts';
import { parseAddressList, formatAddress, type Mailbox, type AddressItem } from './address.ts';
import { decodeEncodedWords } from './encoded-words.ts';
import { parseRfc5322Date } from './date.ts';
import { baseSubject } from './base-subject.ts';

function mailboxDisplay(m: Mailbox): string {
  const addr = formatAddress(m);
  if (m.name) {
    const name = decodeEncodedWords(m.name);
    return addr ? name + ' <' + addr + '>' : name;
  }
  return addr;
}

function display(items: AddressItem[]): string {
  return items
    .map((it) =>
      it.kind === 'mailbox'
        ? mailboxDisplay(it)
        : decodeEncodedWords(it.name) + ': ' + it.members.map(mailboxDisplay).join(', ') + ';',
    )
    .join(', ');
}

function firstAddr(items: AddressItem[]): string {
  for (const it of items) {
    if (it.kind === 'mailbox') {
      const a = formatAddress(it);
      if (a) return a.toLowerCase();
    } else {
      for (const m of it.members) {
        const a = formatAddress(m);
        if (a) return a.toLowerCase();
      }
    }
  }
  return '';
}

export function displaySortValue(header: Uint8Array, lowerName: string): string {
  const items = parseAddressList(firstValue(header, parseHeaderBlock(header, 0, header.length), lowerName));
  for (const it of items) {
    const group = it.kind === 'group' ? decodeEncodedWords(it.name).trim() : '';
    if (group) return group;
    const m = it.kind === 'mailbox' ? it : it.members[0];
    if (!m || (m.name === null && m.mailbox === null && m.host === null)) continue;
    const name = m.name ? decodeEncodedWords(m.name).trim() : '';
    return name || formatAddress(m);
  }
  return '';
}

export function decodeAddressDisplay(value: string | null): string {
  return value === null ? '' : display(parseAddressList(value));
}

export function parseMsgIds(value: string | null): string[] {
  if (value === null) return [];
  const ids = value.match(/<[^<>\s]+>/g);
  return ids ? ids : [];
}

function firstMsgId(value: string | null): string | null {
  if (value === null) return null;
  const ids = parseMsgIds(value);
  if (ids.length > 0) return ids[0] as string;
  const t = value.trim();
  return t.length > 0 ? t : null;
}

export function buildHeaderIndex(buf: Uint8Array, h: HeaderBlock): HeaderIndex {
  const rawSubject = firstValue(buf, h, 'subject');
  const subject = rawSubject === null ? '' : decodeEncodedWords(rawSubject);
  const from = parseAddressList(firstValue(buf, h, 'from'));
  const to = parseAddressList(firstValue(buf, h, 'to'));
  const cc = parseAddressList(firstValue(buf, h, 'cc'));
  const bcc = parseAddressList(firstValue(buf, h, 'bcc'));
  return {
    subject,
    from: display(from),
    to: display(to),
    cc: display(cc),
    bcc: display(bcc),
    fromAddr: firstAddr(from),
    toAddr: firstAddr(to),
    ccAddr: firstAddr(cc),
    date: parseRfc5322Date(firstValue(buf, h, 'date')),
    messageId: firstMsgId(firstValue(buf, h, 'message-id')),
    inReplyTo: firstMsgId(firstValue(buf, h, 'in-reply-to')),
    references: parseMsgIds(firstValue(buf, h, 'references')),
    baseSubject: baseSubject(subject),
  };
}
