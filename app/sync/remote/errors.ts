/**
 * Typed provider errors with one clear sentence each: the CLI, the control API and the status
 * line show `message` as-is. `kind` drives the engine's retry policy.
 */
import { DiskFullError, isDiskFull, UserError } from '../../shared/errors.ts';
import { OAuthSignInRequired, OAuthUnavailable } from '../../oauth/token-client.ts';

/** 'local-disk': not the provider's fault: the local disk is full (retried like a lost connection). */
export type ProviderErrorKind =
  'auth' | 'tls' | 'unreachable' | 'timeout' | 'protocol' | 'quota' | 'local-disk';

export class ProviderError extends UserError {
  override name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  constructor(kind: ProviderErrorKind, message: string, options?: { cause?: unknown }) {
    super(`provider-${kind}`, message, options);
    this.kind = kind;
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

interface ErrLike {
  message?: string;
  code?: string;
  authenticationFailed?: boolean;
  responseText?: string;
  serverResponseCode?: string;
  timeoutType?: string;
  cause?: unknown;
}

/** Maps whatever imapflow / net / tls threw to a ProviderError (idempotent). */
export function classifyProviderError(
  err: unknown,
  where: { host: string; port: number; caPem?: string | null; protocol?: 'IMAP' | 'SMTP'; oauth?: boolean },
): ProviderError {
  if (err instanceof ProviderError) return err;
  // OAuth: a grant the provider no longer honours is a sign-in to redo, not a password
  if (err instanceof OAuthSignInRequired) return new ProviderError('auth', err.message, { cause: err });
  if (err instanceof OAuthUnavailable) return new ProviderError('unreachable', err.message, { cause: err });
  if (isDiskFull(err))
    return new ProviderError(
      'local-disk',
      err instanceof DiskFullError ? err.message : "the disk holding Lockbridge's data directory is full",
      { cause: err },
    );
  const e = (err ?? {}) as ErrLike;
  const inner = (e.cause ?? {}) as ErrLike;
  // nodemailer wraps socket errors as ESOCKET/ECONNECTION: the system code is in the message
  const sysCode =
    /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNRESET|EPIPE|ETIMEDOUT)\b/.exec(
      `${e.message ?? ''}`,
    )?.[1];
  const code =
    (e.code === 'ESOCKET' || e.code === 'ECONNECTION') && sysCode ? sysCode : (e.code ?? inner.code ?? '');
  const msg = `${e.message ?? ''} ${inner.message ?? ''}`;
  const at = `${where.host}:${where.port}${where.protocol === 'SMTP' ? ' (SMTP)' : ''}`;
  // The hint for an untrusted certificate: --ca when none was given, else say the given CA is not it
  const caHint = where.caPem
    ? 'the certificate is not signed by the CA given with --ca'
    : 'the certificate is not trusted; pass --ca FILE for a private CA';
  if (
    e.code === 'EAUTH' ||
    e.authenticationFailed ||
    e.serverResponseCode === 'AUTHENTICATIONFAILED' ||
    /AUTHENTICATIONFAILED|authentication failed|invalid credentials/i.test(`${msg} ${e.responseText ?? ''}`)
  )
    return new ProviderError(
      'auth',
      where.oauth
        ? `sign in again: the provider at ${at} rejected the sign-in (its access token, also after a refresh)`
        : `the provider at ${at} rejected the username or password`,
      { cause: err },
    );
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(msg))
    return new ProviderError(
      'tls',
      `TLS to ${at} failed: the server does not speak TLS on this port (try --security starttls)`,
      { cause: err },
    );
  if (TLS_CODES.has(code) || /certificate|self[- ]signed|wrong version number|SSL routines|TLS/i.test(msg)) {
    const detail = code && code !== 'EPROTO' ? code : (e.message ?? 'handshake failed');
    return new ProviderError('tls', `TLS to ${at} failed: ${detail} (${caHint})`, { cause: err });
  }
  if (/STARTTLS/i.test(msg))
    return new ProviderError('tls', `${at} does not offer STARTTLS; refusing to continue in plaintext`, {
      cause: err,
    });
  if (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EAI_AGAIN',
      'ECONNRESET',
      'EPIPE',
      'NoConnection',
    ].includes(code) ||
    /ECONNREFUSED|ENOTFOUND|Connection not available|closed/i.test(msg)
  ) {
    const why =
      code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code === 'ECONNREFUSED'
          ? 'connection refused'
          : code || 'connection lost';
    return new ProviderError('unreachable', `cannot reach the provider at ${at}: ${why}`, { cause: err });
  }
  // ETIMEDOUT is not /TIMEOUT/; nodemailer's greeting timeout says "Greeting never received"
  if (/TIME(D)?OUT/i.test(code) || e.timeoutType || /timed? ?out/i.test(msg))
    return new ProviderError('timeout', `the provider at ${at} did not answer in time`, { cause: err });
  if (/OVERQUOTA|quota/i.test(`${msg} ${e.responseText ?? ''} ${e.serverResponseCode ?? ''}`))
    return new ProviderError('quota', `the provider mailbox at ${at} is over quota`, { cause: err });
  return new ProviderError(
    'protocol',
    `provider error at ${at}: ${(e.message ?? String(err)).slice(0, 200)}`,
    { cause: err },
  );
}
