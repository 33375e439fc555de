/**
 * Typed errors shared by every layer. Protocol front-ends (IMAP, SMTP, CLI, control API) map
 * these to their own replies in one place each; nothing else formats errors for users.
 */

/** A problem the user can act on: shown as a one-line message (CLI exit 1, NO reply, UI message). */
export class UserError extends Error {
  override name = 'UserError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Bad usage of a command (CLI exit 2). */
export class UsageError extends UserError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

/** The store could not be unlocked with what was given (wrong passphrase, no key). */
export class UnlockError extends UserError {
  override name = 'UnlockError';
}

/** An object that was asked for does not exist. */
export class NotFoundError extends UserError {
  override name = 'NotFoundError';
  constructor(what: string) {
    super('not-found', `${what} not found`);
  }
}

/** A state conflict (already exists, busy, locked by another process). */
export class ConflictError extends UserError {
  override name = 'ConflictError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The disk holding the data directory is full: writes are refused, stored mail is still served. */
export class DiskFullError extends UserError {
  override name = 'DiskFullError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('disk-full', message, options);
  }
}

const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/** True when err (or an error it wraps) says the disk is full: SQLite's SQLITE_FULL, ENOSPC, EDQUOT. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof DiskFullError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
