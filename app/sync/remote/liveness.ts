/**
 * Noticing a provider connection that died silently. A lost NAT mapping, a Wi-Fi change or a
 * laptop asleep leave a TCP connection that neither answers nor resets; the IMAP client would wait for its
 * socket timeout (minutes). Instead:
 *  - every quiet connection is probed (NOOP, or the DONE that ends an IDLE) at least every
 *    `probeEveryMs` (default PROBE_EVERY_MS, 20 s; `lockbridge serve` takes LOCKBRIDGE_PROBE_SECONDS),
 *    and a probe unanswered within `deadlineMs` (three quarters of it: 15 s) closes it: a dead
 *    connection is known within probeEveryMs + deadlineMs (35 s); a new connection not greeted
 *    within `connectMs` (probeEveryMs: 20 s) counts as unreachable;
 *  - a command in flight with no byte for SOCKET_TIMEOUT_MS fails (the connection's socket timeout, set in connect.ts);
 *  - a jump of the wall clock ahead of the monotonic clock (the machine slept: the monotonic clock
 *    stops during suspend) drops every connection at once rather than trusting them.
 */
import { ProviderError } from './errors.ts';
import type { RemoteMailbox } from './remote-mailbox.ts';

export const PROBE_EVERY_MS = 20_000;
export const SOCKET_TIMEOUT_MS = 50_000;

export interface Liveness {
  /** A quiet connection is probed at least this often. */
  probeEveryMs: number;
  /** A probe not answered within this closes the connection. */
  deadlineMs: number;
  /** TCP connect and greeting of a new connection. */
  connectMs: number;
}

/** The liveness times for a probe interval (ms; default PROBE_EVERY_MS). */
export function liveness(probeEveryMs = PROBE_EVERY_MS): Liveness {
  return { probeEveryMs, deadlineMs: Math.round((probeEveryMs * 3) / 4), connectMs: probeEveryMs };
}

/** Resolves with `work`, or closes the client and throws when it takes longer than `ms`. */
export async function withDeadline<T>(
  client: Pick<RemoteMailbox, 'close'>,
  work: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      client.close();
      reject(
        new ProviderError(
          'timeout',
          `the provider stopped answering (no reply to ${what} in ${Math.round(ms / 1000)} s)`,
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {}); // the loser of the race must not surface as an unhandled rejection
  }
}

/** A NOOP that must be answered within `deadlineMs`. */
export async function probe(client: RemoteMailbox, deadlineMs: number): Promise<void> {
  await withDeadline(client, client.noop(), deadlineMs, 'NOOP');
}

export interface Clocks {
  wall(): number;
  mono(): number;
}

const realClocks: Clocks = { wall: () => Date.now(), mono: () => performance.now() };

/**
 * Calls `onWake` when the wall clock moved more than `jumpMs` further than the monotonic clock
 * between two ticks (checked every `everyMs`). `check()` runs one comparison (tests).
 */
export class SleepDetector {
  readonly #clocks: Clocks;
  readonly #jumpMs: number;
  readonly #onWake: (sleptMs: number) => void;
  #timer: NodeJS.Timeout | null = null;
  #lastWall: number;
  #lastMono: number;

  constructor(onWake: (sleptMs: number) => void, opts: { clocks?: Clocks; jumpMs?: number } = {}) {
    this.#clocks = opts.clocks ?? realClocks;
    this.#jumpMs = opts.jumpMs ?? 20_000;
    this.#onWake = onWake;
    this.#lastWall = this.#clocks.wall();
    this.#lastMono = this.#clocks.mono();
  }

  start(everyMs = 5000): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.check(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): void {
    const wall = this.#clocks.wall();
    const mono = this.#clocks.mono();
    const gap = wall - this.#lastWall - (mono - this.#lastMono);
    this.#lastWall = wall;
    this.#lastMono = mono;
    if (gap > this.#jumpMs) this.#onWake(gap);
  }
}
