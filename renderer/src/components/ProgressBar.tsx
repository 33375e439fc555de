/** A labelled progress bar (role="progressbar" with aria-valuenow in percent). */
import { percent } from '../format.ts';

export interface ProgressBarProps {
  label: string;
  done: number;
  total: number;
  /** Visible text after the bar, e.g. '120 of 400 messages'. */
  detail?: string;
  small?: boolean;
}

export function ProgressBar({ label, done, total, detail, small }: ProgressBarProps) {
  const p = percent(done, total);
  const text = detail ?? `${done} of ${total}`;
  return (
    <div className={small ? 'progress progress-small' : 'progress'}>
      <div className="progress-label">
        <span>{label}</span>
        <span className="progress-detail">
          {text} · {p} %
        </span>
      </div>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={p}
        aria-valuetext={`${p} %, ${text}`}
      >
        <div className="progress-fill" style={{ width: `${p}%` }} />
      </div>
    </div>
  );
}
