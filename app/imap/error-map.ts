/**
 * The one place where errors become IMAP replies (tagged NO / BAD with RFC 5530 response codes).
 */
import { ImapBadError, ImapNoError, type ImapErrorCode } from './errors.ts';
import { responseText } from './format.ts';
import { ConflictError, isDiskFull, NotFoundError, UnlockError, UserError } from '../shared/errors.ts';

export interface ErrorReply {
  status: 'NO' | 'BAD';
  code: ImapErrorCode | null;
  text: string;
  /** Unexpected error (log it). */
  internal: boolean;
}

export function mapError(err: unknown): ErrorReply {
  if (err instanceof ImapBadError)
    return { status: 'BAD', code: err.responseCode, text: err.message, internal: false };
  if (err instanceof ImapNoError)
    return { status: 'NO', code: err.responseCode, text: err.message, internal: false };
  if (isDiskFull(err))
    return {
      status: 'NO',
      code: 'OVERQUOTA',
      text: 'Lockbridge cannot store this: its disk is full (stored mail can still be read)',
      internal: false,
    };
  if (err instanceof NotFoundError)
    return { status: 'NO', code: 'NONEXISTENT', text: err.message, internal: false };
  if (err instanceof ConflictError)
    return { status: 'NO', code: 'INUSE', text: err.message, internal: false };
  if (err instanceof UnlockError)
    return { status: 'NO', code: 'UNAVAILABLE', text: 'Mail store is locked', internal: false };
  if (err instanceof UserError) return { status: 'NO', code: 'CANNOT', text: err.message, internal: false };
  return {
    status: 'NO',
    code: 'SERVERBUG',
    text: 'Internal error occurred. Refer to server log for more information.',
    internal: true,
  };
}

export function formatReply(tag: string, r: ErrorReply): string {
  return `${tag} ${r.status} ${r.code ? `[${r.code}] ` : ''}${responseText(r.text)}`;
}
