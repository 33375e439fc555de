/** Parses the date of an mbox "From sender asctime" separator line (used as the internal date). */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The date of a "From sender asctime" separator line (UTC assumed), or null. */
export function separatorDate(separator: string): number | null {
  const m = /([A-Z][a-z]{2}) +(\d{1,2}) +(\d{1,2}):(\d{2})(?::(\d{2}))? +(?:[A-Z]{3,4} +)?(\d{4})/.exec(
    separator,
  );
  if (!m) return null;
  const mon = MONTHS.indexOf(m[1]!.toLowerCase());
  if (mon < 0) return null;
  const t = Date.UTC(Number(m[6]), mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  return Number.isNaN(t) ? null : t;
}
