/**
 * Every limit the IMAP wire reader enforces, in one place. Each one turns into an error event
 * (never a throw) and bounds the memory one connection can make the reader hold.
 */
export interface WireLimits {
  /**
   * Bytes of one command outside its literals (all line segments together, CRLFs included).
   * 64 KiB: Dovecot's imap_max_line_length default; RFC 7162 §4 asks for at least 8192 octets, and
   * Thunderbird's longest lines (UID FETCH with a long uid-set plus the HEADER.FIELDS list) stay far
   * below. Also bounds the number of tokens (and literals) per command, hence parse memory.
   */
  maxLineLength: number;
  /**
   * One literal. 64 MiB: APPEND is the only command with big literals, and a 64 MiB message is
   * beyond what common providers accept (Gmail 25 MB, Fastmail 70 MB incl. encoding overhead).
   */
  maxLiteralSize: number;
  /**
   * The whole command (line bytes + all literals). 128 MiB: lets a MULTIAPPEND carry a couple of
   * maximum-size messages while capping what one connection can make the reader buffer.
   */
  maxCommandSize: number;
  /** Nesting of ( ) and [ ]. 32: real commands nest at most 3-4 levels (SEARCH OR (..) (..)). */
  maxDepth: number;
  /**
   * Consecutive error events before the reader reports `fatal: true` (the server closes). 10: a
   * real client never gets two BADs in a row; junk (binary, HTTP) gets a quick, cheap close.
   */
  maxConsecutiveErrors: number;
  /**
   * A non-synchronizing literal {n+} that is too big is skipped (the client sends it anyway). Up to
   * this many bytes we read and drop it and carry on; beyond it the error is fatal. 1 GiB.
   */
  maxLiteralSkip: number;
  /**
   * Bytes buffered while the reader is paused (after IDLE/AUTHENTICATE/STARTTLS/COMPRESS). A client
   * must wait for the server's answer there, so little arrives; beyond 1 MiB the error is fatal.
   */
  maxPausedBuffer: number;
}

export const DEFAULT_WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024 * 1024,
  maxCommandSize: 128 * 1024 * 1024,
  maxDepth: 32,
  maxConsecutiveErrors: 10,
  maxLiteralSkip: 1024 * 1024 * 1024,
  maxPausedBuffer: 1024 * 1024,
});

/**
 * Before authentication only small commands are accepted (LOGIN / AUTHENTICATE need a few hundred
 * bytes): anyone local can connect, and `LOGIN {60000000}` must not get a `+` (eight such
 * connections took 500 MB). A larger literal is refused, a larger LITERAL+ one closes the connection.
 */
export const PRE_AUTH_WIRE_LIMITS: Readonly<Partial<WireLimits>> = Object.freeze({
  maxLineLength: 8 * 1024,
  maxLiteralSize: 8 * 1024,
  maxCommandSize: 16 * 1024,
  maxLiteralSkip: 64 * 1024,
  maxPausedBuffer: 64 * 1024,
});

/** The smaller of each limit (pre-authentication limits never loosen what was configured). */
export function tighterLimits(
  a: Partial<WireLimits> | undefined,
  b: Partial<WireLimits>,
): Partial<WireLimits> {
  const base = resolveLimits(a);
  const out: Partial<WireLimits> = { ...base };
  for (const key of Object.keys(b) as (keyof WireLimits)[]) {
    const v = b[key];
    if (v !== undefined) out[key] = Math.min(v, base[key]);
  }
  return out;
}

/**
 * The bytes all connections together may hold in literals being received: each literal is
 * reserved before its buffer is allocated (and before `+` is sent) and released when its command
 * is complete or dropped.
 */
export interface LiteralBudget {
  take(bytes: number): boolean;
  give(bytes: number): void;
}

/** The largest number IMAP allows (number / nz-number are 32-bit unsigned, RFC 3501 §9). */
export const MAX_UINT32 = 4294967295;

export function resolveLimits(partial?: Partial<WireLimits>): WireLimits {
  const out: WireLimits = { ...DEFAULT_WIRE_LIMITS };
  if (partial) {
    for (const key of Object.keys(out) as (keyof WireLimits)[]) {
      const v = partial[key];
      if (v !== undefined) {
        if (!Number.isInteger(v) || v < 0)
          throw new RangeError(`wire limit ${key} must be a non-negative integer`);
        out[key] = v;
      }
    }
  }
  return out;
}
