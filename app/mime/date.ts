/**
 * RFC 5322 §3.3 Date parsing with the obsolete forms of §4.3 (2/3-digit years, named and military
 * zones, comments, missing seconds, missing day-of-week), lenient about spacing.
 *
 * - parseRfc5322Date(value) → ms since epoch, or null if it cannot be understood;
 *   rfc5322WrittenDay(value) → the day as written (for SENTON and friends). Both accept
 *   asctime and ISO 8601 forms that broken software writes (asctime is read as UTC);
 * - formatRfc5322Date(date) → the value of a Date header the bridge writes (in UTC).
 */

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};

/** Non-RFC forms seen in the wild (asctime "Tue Nov 23 10:00:00 2026", ISO 8601). */
function fallback(s: string): number | null {
  const asc = /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(\d{4})$/.exec(s);
  if (asc) {
    const month = MONTHS[(asc[1] as string).toLowerCase()];
    if (month === undefined) return null;
    return Date.UTC(
      Number(asc[6]),
      month,
      Number(asc[2]),
      Number(asc[3]),
      Number(asc[4]),
      Number(asc[5] ?? 0),
    );
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s)) {
    const ms = Date.parse(s);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

/** `Sun, 06 Dec 2026 01:20:34 +0000`: a Date header's value, in UTC. */
export function formatRfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

export function parseRfc5322Date(value: string | null): number | null {
  return parse(value, false);
}

/**
 * The day the Date header names as written (its own time zone disregarded, RFC 3501 SENTON etc.),
 * as ms of 00:00 UTC that day; null if it cannot be understood.
 */
export function rfc5322WrittenDay(value: string | null): number | null {
  const ms = parse(value, true);
  return ms === null ? null : Math.floor(ms / 86_400_000) * 86_400_000;
}

/** ms since epoch; with `local`, the written date-time read as if it were UTC. */
function parse(value: string | null, local: boolean): number | null {
  if (value === null) return null;
  // drop comments and a leading day-of-week
  const s = value
    .replace(/\([^()]*\)/g, ' ')
    .replace(/[\r\n]/g, ' ')
    .trim();
  const m =
    /^(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})\s*[-\s]\s*([A-Za-z]{3})[A-Za-z]*\.?\s*[-\s]\s*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}(?:\.\d+)?))?\s*([+-]\d{4}|[+-]\d{2}:?\d{2}|[A-Za-z]{1,5})?/.exec(
      s,
    );
  if (!m) return fallback(s);
  const day = Number(m[1]);
  const month = MONTHS[(m[2] as string).toLowerCase()];
  if (month === undefined) return null;
  let year = Number(m[3]);
  if ((m[3] as string).length === 2) year += year < 50 ? 2000 : 1900;
  else if ((m[3] as string).length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] ? Math.floor(Number(m[6])) : 0;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offsetMin = 0;
  const z = m[7];
  if (z) {
    if (z[0] === '+' || z[0] === '-') {
      const digits = z.slice(1).replace(':', '');
      const hh = Number(digits.slice(0, 2));
      const mm = Number(digits.slice(2, 4));
      offsetMin = (z[0] === '-' ? -1 : 1) * (hh * 60 + mm);
    } else {
      offsetMin = ZONES[z.toLowerCase()] ?? 0; // military / unknown zones: treat as UTC (RFC 5322 §4.3)
    }
  }
  const ms =
    Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - (local ? 0 : offsetMin * 60_000);
  return Number.isFinite(ms) ? ms : null;
}
