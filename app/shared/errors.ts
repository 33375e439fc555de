/**
 * Typed errors shared by every layer. Protocol front-ends (IMAP, SMTP, CLI, control API) map
 * these to their own replies in one place each; nothing else formats errors for users.
 */

/**
 * Every code a UserError carries: the CLI, the control API (HTTP, IPC) and the UI tell errors
 * apart by it, so a code is one of these and a new one is added here.
 */
export const ERROR_CODES = [
  // usage and arguments (CLI, control API)
  'usage',
  'invalid-argument',
  'cancelled',
  'not-confirmed',
  'no-ui',
  // objects asked for, and state conflicts
  'not-found',
  'account-exists',
  // a signed-out account (kept mail, no credentials): not repaired; added again only at its server
  'signed-out',
  'signed-out-elsewhere',
  'already-initialized',
  'not-initialized',
  'not-running',
  'busy',
  'closing',
  'control',
  'unavailable',
  'offline',
  'paused',
  'stopped',
  'port-in-use',
  // files (import, export, certificates)
  'no-such-file',
  'not-a-file',
  'no-such-folder',
  'target-not-a-folder',
  'target-not-empty',
  'target-not-writable',
  'open-failed',
  'write-failed',
  'import-missing-file',
  'nothing-imported',
  'bad-ca',
  'disk-full',
  // the store: creating, unlocking, the keychain, schema
  'no-store',
  'store-exists',
  'locked',
  'passphrase-required',
  'passphrase-empty',
  'wrong-passphrase',
  'weak-passphrase',
  'weak-password',
  'empty-secret',
  'no-secret',
  'no-credentials',
  'mismatch',
  'store-key-mismatch',
  'keychain-failed',
  'keychain-required',
  'keychain-unavailable',
  'keywrap-corrupt',
  'no-keychain-wrap',
  'no-passphrase-wrap',
  'schema-too-new',
  // mailboxes
  'unknown-mailbox',
  'bad-mailbox-name',
  'mailbox-exists',
  'mailbox-gone',
  'mailbox-has-children',
  'mailbox-rename-into-self',
  'inbox-delete',
  'inbox-rename',
  'mutf7',
  // keys and crypto
  'bad-key',
  'key-exists',
  'bad-passphrase',
  'bad-address',
  'no-own-key',
  'already-resolved',
  'bad-setup-code',
  'bad-setup-message',
  'crypto-key',
  'crypto-input',
  // S/MIME certificates and PKCS#12 files (crypto/pkcs12.ts Pkcs12ErrorCode)
  'bad-certificate',
  'malformed',
  'unsupported',
  'no-key',
  // outgoing mail
  'encryption-required',
  'not-refused',
  'not-sent',
  'outbox-busy',
  // the provider (sync/remote/errors.ts ProviderError: 'provider-' and its kind)
  'provider-auth',
  'provider-tls',
  'provider-unreachable',
  'provider-timeout',
  'provider-protocol',
  'provider-quota',
  'provider-local-disk',
  // OAuth 2.0 sign-in (app/oauth)
  'oauth-redirect-refused',
  'oauth-denied',
  'oauth-sign-in-again',
  'oauth-unavailable',
  'oauth-insecure',
  'oauth-no-refresh-token',
  'oauth-discovery',
  'oauth-no-client',
  'oauth-timeout',
  'oauth-cancelled',
  'not-oauth',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True for a code of ERROR_CODES (a code read from a worker or the wire is checked with this). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}

/** A problem the user can act on: shown as a one-line message (CLI exit 1, NO reply, UI message). */
export class UserError extends Error {
  override name = 'UserError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
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
