/**
 * Work a local client is waiting for, against background upkeep (full-text indexing, body-cache
 * eviction): the IMAP server holds `ForegroundWork` while it answers a command (IDLE excepted)
 * and the background steps wait while it is held, so a client's command is not stretched by their
 * 20 ms steps. Measured (bench/million.ts, 20,000 messages, just synced, the index being built):
 * `UID FETCH 1:* (FLAGS)` took 88 ms with index batches between its writes, 17–25 ms once the
 * index was built (Dovecot 14–33 ms).
 */

/** How often a waiting background step looks again. */
const POLL_MS = 10;
/** A background step waits at most this long in a row: upkeep still moves under constant load. */
const MAX_WAIT_MS = 1000;

export class ForegroundWork {
  #active = 0;
  /** The longest a background step waits in a row (tests set it). */
  readonly maxBackgroundWaitMs: number;

  constructor(opts: { maxBackgroundWaitMs?: number } = {}) {
    this.maxBackgroundWaitMs = opts.maxBackgroundWaitMs ?? MAX_WAIT_MS;
  }

  /** Marks foreground work as started; call the returned function (once) when it ends. */
  begin(): () => void {
    this.#active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#active--;
    };
  }

  get busy(): boolean {
    return this.#active > 0;
  }
}

/** One background job's turn-taking with the foreground (each job has its own). */
export class BackgroundTurn {
  readonly #fg: ForegroundWork | undefined;
  #waitingSince: number | null = null;

  constructor(fg: ForegroundWork | undefined) {
    this.#fg = fg;
  }

  /** 0: the step may run now; else how long to wait before asking again. */
  waitMs(now = Date.now()): number {
    if (!this.#fg?.busy) {
      this.#waitingSince = null;
      return 0;
    }
    this.#waitingSince ??= now;
    if (now - this.#waitingSince < this.#fg.maxBackgroundWaitMs) return POLL_MS;
    this.#waitingSince = now; // one step now, then wait again
    return 0;
  }
}
