/** IMAP date and date-time arguments (RFC 3501 §9: date, date-time). */
import { ImapBadError } from './errors.ts';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** `"dd-Mon-yyyy hh:mm:ss +zzzz"` → ms since epoch. */
export function parseDateTime(s: string): number {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) throw new ImapBadError('Invalid date-time');
  const mon = MONTHS.indexOf(m[2]!.toLowerCase());
  if (mon < 0) throw new ImapBadError('Invalid date-time');
  const [day, year, hh, mm, ss] = [m[1], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) throw new ImapBadError('Invalid date-time');
  const offset = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === '-' ? -1 : 1);
  return Date.UTC(year, mon, day, hh, mm, ss) - offset * 60_000;
}

/** `d-Mon-yyyy` (SEARCH) → ms of 00:00 UTC that day. */
export function parseDate(s: string): number {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) throw new ImapBadError('Invalid date');
  const mon = MONTHS.indexOf(m[2]!.toLowerCase());
  const day = Number(m[1]);
  if (mon < 0 || day < 1 || day > 31) throw new ImapBadError('Invalid date');
  return Date.UTC(Number(m[3]), mon, day);
}

/** Start of the UTC day containing `ms`. */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}
