/**
 * A labelled progress bar (role="progressbar"): with aria-valuenow in percent, or indeterminate
 * (no value, an animated stripe) while the total is not known yet.
 */
import { percent as percentOf } from '../format.ts';

export interface ProgressBarProps {
  label: string;
  done: number;
  total: number;
  /** Visible text after the bar, e.g. '120 of 400 messages'. */
  detail?: string;
  small?: boolean;
  /** Overrides done/total: a percentage, or null for indeterminate. */
  percent?: number | null;
}

export function ProgressBar({ label, done, total, detail, small, percent }: ProgressBarProps) {
  const p = percent === undefined ? percentOf(done, total) : percent;
  const text = detail ?? `${done} of ${total}`;
  return (
    <div className={small ? 'progress progress-small' : 'progress'}>
      <div className="progress-label">
        <span>{label}</span>
        <span className="progress-detail">{p === null ? text : `${text} · ${p} %`}</span>
      </div>
      <div
        className={p === null ? 'progress-track progress-indeterminate' : 'progress-track'}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        {...(p === null ? { 'aria-busy': true } : { 'aria-valuenow': p })}
        aria-valuetext={p === null ? text : `${p} %, ${text}`}
      >
        <div className="progress-fill" style={p === null ? undefined : { width: `${p}%` }} />
      </div>
    </div>
  );
}
