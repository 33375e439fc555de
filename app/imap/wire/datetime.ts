/**
 * IMAP dates (RFC 3501 §9): `date-time` as in APPEND and INTERNALDATE ("17-Jul-1996 02:44:25 -0700",
 * day may be space- or zero-padded) and `date` as in SEARCH BEFORE/SINCE/ON ("1-Feb-1994").
 * Values are given without the surrounding DQUOTEs (the reader has already removed them).
 */
import { UserError } from '../../shared/errors.ts';

export class ImapDateError extends UserError {
  override name = 'ImapDateError';
  constructor(message: string) {
    super('imap-date', message);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));

export interface ImapDateTime {
  /** The instant, ms since the epoch. */
  time: number;
  /** The zone offset the client gave, in minutes east of UTC (-0700 → -420). */
  offsetMinutes: number;
}

export interface ImapDate {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
}

const DATE_TIME_RE = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const DATE_RE = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/;

function checkDay(year: number, monthIdx: number, day: number, text: string): void {
  if (day < 1 || day > new Date(Date.UTC(year, monthIdx + 1, 0)).getUTCDate()) {
    throw new ImapDateError(`Invalid date: ${text}`);
  }
}

/** Parses an IMAP date-time; throws ImapDateError. */
export function parseImapDateTime(text: string): ImapDateTime {
  const m = DATE_TIME_RE.exec(text);
  if (!m) throw new ImapDateError(`Invalid date-time: ${text.slice(0, 40)}`);
  const [, dd, mon, yyyy, hh, mi, ss, sign, zh, zm] = m as unknown as string[];
  const monthIdx = MONTH_INDEX.get((mon as string).toLowerCase());
  if (monthIdx === undefined) throw new ImapDateError(`Invalid month: ${text}`);
  const year = Number(yyyy);
  const day = Number(dd);
  checkDay(year, monthIdx, day, text);
  const h = Number(hh);
  const min = Number(mi);
  const s = Number(ss);
  const ozh = Number(zh);
  const ozm = Number(zm);
  if (h > 23 || min > 59 || s > 60 || ozh > 23 || ozm > 59)
    throw new ImapDateError(`Invalid date-time: ${text}`);
  const offsetMinutes = sign === '-' && ozh + ozm > 0 ? -(ozh * 60 + ozm) : ozh * 60 + ozm;
  const time = Date.UTC(year, monthIdx, day, h, min, Math.min(s, 59)) - offsetMinutes * 60_000;
  return { time, offsetMinutes };
}

/** Formats an IMAP date-time (day zero-padded, as Dovecot does), in the given zone offset. */
export function formatImapDateTime(time: number | Date, offsetMinutes = 0): string {
  const ms = typeof time === 'number' ? time : time.getTime();
  const d = new Date(ms + offsetMinutes * 60_000);
  const abs = Math.abs(offsetMinutes);
  const zone = (offsetMinutes < 0 ? '-' : '+') + pad2(Math.floor(abs / 60)) + pad2(abs % 60);
  return (
    `${pad2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${String(d.getUTCFullYear()).padStart(4, '0')} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${zone}`
  );
}

/** Parses an IMAP date (SEARCH); throws ImapDateError. */
export function parseImapDate(text: string): ImapDate {
  const m = DATE_RE.exec(text);
  if (!m) throw new ImapDateError(`Invalid date: ${text.slice(0, 40)}`);
  const monthIdx = MONTH_INDEX.get((m[2] as string).toLowerCase());
  if (monthIdx === undefined) throw new ImapDateError(`Invalid month: ${text}`);
  const year = Number(m[3]);
  const day = Number(m[1]);
  checkDay(year, monthIdx, day, text);
  return { year, month: monthIdx + 1, day };
}

/** Formats an IMAP date ("1-Feb-1994"). */
export function formatImapDate(date: ImapDate): string {
  return `${date.day}-${MONTHS[date.month - 1]}-${String(date.year).padStart(4, '0')}`;
}

/**
 * Start of that day in a zone, ms since the epoch. SEARCH BEFORE/ON/SINCE compare the internal
 * date's calendar day (RFC 3501 §6.4.4, "disregarding time and timezone"): compute the day of an
 * internal date in the server's zone and compare with [dayStart(d), dayStart(next day)).
 */
export function imapDateStart(date: ImapDate, offsetMinutes = 0): number {
  return Date.UTC(date.year, date.month - 1, date.day) - offsetMinutes * 60_000;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}
