/**
 * A one-line progress display on a TTY (stderr): bar and percent when the total size is known,
 * count, rate and ETA; a closing summary line. Silent when stderr is not a terminal.
 */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const count = (n: number) => n.toLocaleString('en-US');

export interface ProgressLine {
  done: number;
  bytes: number;
  totalBytes: number | null;
  elapsedMs: number;
  label: string;
}

/** The text of one progress line (pure: unit-tested). */
export function progressText({ done, bytes, totalBytes, elapsedMs, label }: ProgressLine): string {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? done / secs : 0;
  const frac = totalBytes ? Math.min(1, bytes / totalBytes) : null;
  const width = 24;
  const bar =
    frac === null
      ? ''
      : `[${'#'.repeat(Math.round(frac * width))}${'.'.repeat(width - Math.round(frac * width))}] ${Math.floor(frac * 100)}% `;
  const eta =
    frac !== null && frac > 0 && frac < 1 && secs > 0 ? ` · ETA ${clock((secs * (1 - frac)) / frac)}` : '';
  return `${bar}${count(done)} ${label} · ${count(Math.round(rate))} ${label}/s${eta}`;
}

export class ProgressBar {
  readonly #tty = Boolean(process.stderr.isTTY);
  readonly #started = Date.now();
  #last = 0;
  #shown = false;
  update(done: number, bytes: number, totalBytes: number | null, label: string): void {
    if (!this.#tty) return;
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    this.#shown = true;
    const text = progressText({ done, bytes, totalBytes, elapsedMs: now - this.#started, label });
    process.stderr.write(`\r${text}\u001b[K`);
  }
  /** Ends the progress line (once; again is a no-op, so a `finally` may call it too). */
  done(): void {
    if (this.#tty && this.#shown) process.stderr.write('\n');
    this.#shown = false;
  }
  /** Seconds since the display was made. */
  get elapsed(): number {
    return (Date.now() - this.#started) / 1000;
  }
}
