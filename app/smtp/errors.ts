/**
 * Typed submission errors. The SubmissionPort implementation (the outgoing pipeline,
 * app/outgoing/pipeline.ts) and the server's own checks throw these; `replies.ts` maps them to SMTP replies in one place.
 */

/** Base class: a submission refused for a reason the user can act on. */
export class SubmissionError extends Error {
  override name = 'SubmissionError';
}

/** The envelope or header sender is not one of the authenticated account's addresses (553). */
export class SenderNotAllowedError extends SubmissionError {
  override name = 'SenderNotAllowedError';
}

/** A recipient address/domain that cannot be used (550 naming the recipient). */
export class RecipientRejectedError extends SubmissionError {
  override name = 'RecipientRejectedError';
  readonly recipient: string;
  constructor(recipient: string, reason: string) {
    super(`<${recipient}>: ${reason}`);
    this.recipient = recipient;
  }
}

/**
 * The policy requires encryption for a recipient and no usable key was found (550 naming the
 * recipient and the reason). Nothing of the message is queued.
 */
export class EncryptionRequiredError extends SubmissionError {
  override name = 'EncryptionRequiredError';
  readonly recipients: { address: string; reason: string }[];
  constructor(recipients: { address: string; reason: string }[]) {
    super(
      'encryption required but not possible for ' +
        recipients.map((r) => `<${r.address}> (${r.reason})`).join(', ') +
        '; nothing was sent',
    );
    this.recipients = recipients;
  }
}

/** The message itself is unacceptable: broken MIME, no From, bad header bytes, long lines (554). */
export class InvalidMessageError extends SubmissionError {
  override name = 'InvalidMessageError';
}

/** 8-bit header bytes without SMTPUTF8 (554 5.6.7-style; message names the problem). */
export class Utf8RequiredError extends InvalidMessageError {
  override name = 'Utf8RequiredError';
}

/** The message is larger than the limit (552). */
export class MessageTooLargeError extends SubmissionError {
  override name = 'MessageTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`message exceeds the maximum size of ${limit} bytes`);
    this.limit = limit;
  }
}

/** A temporary local problem (store busy, key lookup infrastructure down): the client retries (451). */
export class TemporarySubmissionError extends SubmissionError {
  override name = 'TemporarySubmissionError';
}
