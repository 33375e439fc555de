/** A one-line progress bar on a TTY (stderr); silent otherwise. */
export class ProgressBar {
  readonly #tty = Boolean(process.stderr.isTTY);
  #last = 0;
  update(done: number, bytes: number, totalBytes: number | null, label: string): void {
    if (!this.#tty) return;
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    const frac = totalBytes ? Math.min(1, bytes / totalBytes) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const bar = totalBytes
      ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0)}% `
      : '';
    process.stderr.write(`\r${bar}${done} ${label}`);
  }
  done(): void {
    if (this.#tty) process.stderr.write('\n');
  }
}
