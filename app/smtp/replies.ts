/**
 * The ONE place where errors become SMTP replies. smtp-server adds the enhanced status code that
 * belongs to the reply code (ENHANCEDSTATUSCODES), so only the basic code and the text are chosen
 * here.
 */
import {
  EncryptionRequiredError,
  InvalidMessageError,
  MessageTooLargeError,
  RecipientRejectedError,
  SenderNotAllowedError,
  SubmissionError,
  TemporarySubmissionError,
  Utf8RequiredError,
} from './errors.ts';
import { isDiskFull } from '../shared/errors.ts';

export interface SmtpReply {
  code: number;
  message: string;
}

/** An Error carrying `responseCode`, the shape smtp-server's handler callbacks take. */
export interface SmtpServerError extends Error {
  responseCode: number;
}

export function replyFor(err: unknown): SmtpReply {
  if (err instanceof SenderNotAllowedError) return { code: 553, message: err.message };
  if (err instanceof EncryptionRequiredError) return { code: 550, message: err.message };
  if (err instanceof RecipientRejectedError) return { code: 550, message: err.message };
  if (err instanceof MessageTooLargeError) return { code: 552, message: err.message };
  if (err instanceof Utf8RequiredError) return { code: 554, message: err.message };
  if (err instanceof InvalidMessageError) return { code: 554, message: err.message };
  if (isDiskFull(err))
    return { code: 452, message: "Lockbridge's disk is full; nothing was sent, try again later" };
  if (err instanceof TemporarySubmissionError)
    return { code: 451, message: `${err.message}; try again later` };
  if (err instanceof SubmissionError) return { code: 554, message: err.message };
  return { code: 451, message: 'local error while queueing the message; nothing was sent, try again later' };
}

/** The reply as an error for smtp-server's callbacks. */
export function toServerError(err: unknown): SmtpServerError {
  const { code, message } = replyFor(err);
  return Object.assign(new Error(oneLine(message)), { responseCode: code });
}

/** A reply with an explicit code (server-side checks that have no typed error). */
export function serverError(code: number, message: string): SmtpServerError {
  return Object.assign(new Error(oneLine(message)), { responseCode: code });
}

/** The server's own fixed replies (protocol state, auth), kept here with the error mapping. */
export const REPLIES = {
  authRequired: () => serverError(530, 'authentication required'),
  authFailed: () =>
    serverError(535, 'authentication failed: use the local password shown by `lockbridge credentials`'),
  authTemporary: () => serverError(454, 'temporary authentication failure, try again'),
  authMechanism: () => serverError(504, 'unsupported authentication mechanism'),
  senderRequired: () => serverError(553, 'a sender address is required (MAIL FROM:<you@example.org>)'),
  tooLarge: (limit: number) => serverError(552, `message exceeds the maximum size of ${limit} bytes`),
} as const;

function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 480);
}
