/** Display formatting. Pure (no DOM): unit-tested. */
import type { LogLine } from '../../app/control/contract.ts';

/** 'ABCD1234…' → ['ABCD', '1234', …]: groups of four for reading a fingerprint aloud. */
export function fingerprintGroups(fpr: string): string[] {
  const clean = fpr.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  const out: string[] = [];
  for (let i = 0; i < clean.length; i += 4) out.push(clean.slice(i, i + 4));
  return out;
}

/** Groups of four separated by spaces, with a wider gap in the middle (as GnuPG prints it). */
export function formatFingerprint(fpr: string): string {
  const g = fingerprintGroups(fpr);
  if (g.length < 2) return g.join('');
  const half = Math.ceil(g.length / 2);
  return `${g.slice(0, half).join(' ')}  ${g.slice(half).join(' ')}`;
}

/** Whole percent 0–100 of done/total; an empty total counts as complete. */
export function percent(done: number, total: number): number {
  if (!Number.isFinite(total) || total <= 0) return 100;
  const p = Math.floor((Math.max(0, Math.min(done, total)) / total) * 100);
  return Math.max(0, Math.min(100, p));
}

/** 1536 → '1.5 KB'; the CLI's status line has its own copy (app/cli/commands/status.ts says why). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(n || 0))} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** ISO time → 'YYYY-MM-DD' (dates of keys); '' for null/invalid. */
export function formatDay(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().slice(0, 10);
}

/** ISO time → 'YYYY-MM-DD HH:MM:SS' in UTC (log lines). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

/** Seconds → '3 min', '1 h 5 min', or '' for null. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** Safe file-name part from an address or domain. */
export function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9@._-]+/g, '_').slice(0, 100) || 'file';
}

/** One log line as exported text: time, level, module, message, account and fields. */
export function logLineText(l: LogLine): string {
  const fields = Object.entries({ ...(l.account ? { account: l.account } : {}), ...(l.fields ?? {}) })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${l.time} ${l.level.toUpperCase()} ${l.module ? `[${l.module}] ` : ''}${l.msg}${fields ? `  ${fields}` : ''}`;
}
