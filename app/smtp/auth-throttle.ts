/**
 * Failed-login throttling for the local SMTP server. After `freeFailures` failures for a username
 * (or from a remote address) within `windowMs`, each further attempt waits an exponentially
 * growing delay (capped) before its reply, which makes guessing the local password slow without
 * locking the real user out. A success clears the username's record.
 */
export interface ThrottleOptions {
  freeFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  windowMs?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  last: number;
}

export class AuthThrottle {
  readonly #free: number;
  readonly #base: number;
  readonly #max: number;
  readonly #window: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(opts: ThrottleOptions = {}) {
    this.#free = opts.freeFailures ?? 3;
    this.#base = opts.baseDelayMs ?? 1000;
    this.#max = opts.maxDelayMs ?? 30_000;
    this.#window = opts.windowMs ?? 15 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** How long to wait before answering an attempt for these keys (username, remote address). */
  delayFor(keys: string[]): number {
    let failures = 0;
    for (const k of keys) failures = Math.max(failures, this.#live(k)?.failures ?? 0);
    if (failures < this.#free) return 0;
    return Math.min(this.#max, this.#base * 2 ** (failures - this.#free));
  }

  failed(keys: string[]): void {
    const now = this.#now();
    for (const k of keys) {
      const e = this.#live(k);
      this.#entries.set(k, { failures: (e?.failures ?? 0) + 1, last: now });
    }
    if (this.#entries.size > 10_000) this.#prune();
  }

  succeeded(keys: string[]): void {
    for (const k of keys) this.#entries.delete(k);
  }

  #live(key: string): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && this.#now() - e.last > this.#window) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #prune(): void {
    for (const k of [...this.#entries.keys()]) this.#live(k);
  }
}
