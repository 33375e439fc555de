/**
 * Failed-login throttling: a growing delay per connection, and an overall lockout window when too
 * many failures happen across all connections (any local process or web page can connect).
 */

export interface ThrottleOptions {
  /** Delay after the first failure on a connection; doubles each time. Default 250 ms. */
  baseDelayMs?: number;
  /** Cap of the per-connection delay. Default 4 s. */
  maxDelayMs?: number;
  /** Failures on one connection before it is closed. Default 5. */
  maxPerConnection?: number;
  /** Failures across all connections within `windowMs` that trigger a lockout. Default 20. */
  globalLimit?: number;
  windowMs?: number;
  /** Lockout length. Default 60 s. */
  lockoutMs?: number;
  now?: () => number;
}

export class LoginThrottle {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxPerConnection: number;
  private readonly globalLimit: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;
  private failures: number[] = [];
  private lockedUntil = 0;

  constructor(o: ThrottleOptions = {}) {
    this.baseDelayMs = o.baseDelayMs ?? 250;
    this.maxDelayMs = o.maxDelayMs ?? 4000;
    this.maxPerConnection = o.maxPerConnection ?? 5;
    this.globalLimit = o.globalLimit ?? 20;
    this.windowMs = o.windowMs ?? 60_000;
    this.lockoutMs = o.lockoutMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** True while the overall lockout is active (logins are refused without checking). */
  get locked(): boolean {
    return this.now() < this.lockedUntil;
  }

  /** Record one failure; returns the delay to apply before answering. */
  fail(connectionFailures: number): number {
    const t = this.now();
    this.failures.push(t);
    while (this.failures.length && this.failures[0]! <= t - this.windowMs) this.failures.shift();
    if (this.failures.length >= this.globalLimit) {
      this.lockedUntil = t + this.lockoutMs;
      this.failures = [];
    }
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, connectionFailures - 1));
  }
}
