/**
 * Failed-login throttling. Guessing is slowed down, never the right password refused (a global
 * lockout let any local process lock the user out): each failure is answered after a delay that
 * doubles per failure on the connection, the connection is closed after a few failures, and while
 * failures across all connections exceed a rate, every failure waits the longest delay. A
 * successful login is answered at once. The local password is random and long, so delays suffice.
 */

export interface ThrottleOptions {
  /** Delay after the first failure on a connection; doubles each time. Default 250 ms. */
  baseDelayMs?: number;
  /** Cap of the delay. Default 4 s. */
  maxDelayMs?: number;
  /** Failures on one connection before it is closed. Default 5. */
  maxPerConnection?: number;
  /** Failures across all connections within `windowMs` beyond which every failure waits `maxDelayMs`. Default 20. */
  globalLimit?: number;
  windowMs?: number;
  now?: () => number;
}

export interface FailureVerdict {
  /** Wait this long before answering the failure. */
  delayMs: number;
  /** Failures across all connections within the window, this one included. */
  recentFailures: number;
  /** This failure crossed the global rate (log it once). */
  startedThrottling: boolean;
}

export class LoginThrottle {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxPerConnection: number;
  readonly #globalLimit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #failures: number[] = [];
  #throttling = false;

  constructor(o: ThrottleOptions = {}) {
    this.baseDelayMs = o.baseDelayMs ?? 250;
    this.maxDelayMs = o.maxDelayMs ?? 4000;
    this.maxPerConnection = o.maxPerConnection ?? 5;
    this.#globalLimit = o.globalLimit ?? 20;
    this.#windowMs = o.windowMs ?? 60_000;
    this.#now = o.now ?? Date.now;
  }

  /** Record one failure (`connectionFailures` on its connection, this one included). */
  fail(connectionFailures: number): FailureVerdict {
    const t = this.#now();
    while (this.#failures.length && this.#failures[0]! <= t - this.#windowMs) this.#failures.shift();
    // the list is bounded: beyond the limit only the count matters
    if (this.#failures.length <= this.#globalLimit) this.#failures.push(t);
    else this.#failures[this.#failures.length - 1] = t;
    const recent = this.#failures.length;
    const over = recent > this.#globalLimit;
    const started = over && !this.#throttling;
    this.#throttling = over;
    const own = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, connectionFailures - 1));
    return {
      delayMs: over ? this.maxDelayMs : own,
      recentFailures: recent,
      startedThrottling: started,
    };
  }
}
