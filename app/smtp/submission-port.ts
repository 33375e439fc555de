/**
 * The port between the local SMTP submission server and the rest of the bridge. app/smtp defines
 * it and never imports keys, store or sync; app/control/adapters/submission.ts implements it (the
 * local login, then app/outgoing's pipeline: keys discovery + policy, PGP/MIME building, the store's outbox).
 *
 * Errors: implementations throw the typed errors of `./errors.ts`; the server maps them to SMTP
 * replies in one place (`./replies.ts`). Any other error becomes `451 4.3.0` (try again later).
 */

/** Opaque account handle returned by `authenticate` (the store's account id, as a string). */
export type AccountId = string;

export type CheckResult = { ok: true } | { ok: false; reason: string };

export interface SubmissionEnvelope {
  /** MAIL FROM address (as given, no angle brackets). */
  mailFrom: string;
  /** RCPT TO addresses in order (duplicates removed case-insensitively). */
  rcptTo: string[];
}

export interface SubmissionRequest {
  account: AccountId;
  envelope: SubmissionEnvelope;
  /** The message as received: dot-unstuffed, CRLF line endings, validated by the server. */
  raw: Buffer;
  /** The client declared SMTPUTF8 (UTF-8 addresses/headers allowed). */
  smtpUtf8: boolean;
}

export interface SubmissionResult {
  /** Outbox id of the submission (all its upstream copies share it). */
  queuedId: string;
}

export interface SubmissionPort {
  /** Local credentials only (never the provider password). Returns the account or null. */
  authenticate(username: string, password: string): Promise<AccountId | null>;
  /**
   * Is `mailFrom` (and, once the message is in, every header From address) one of the account's
   * addresses? Called at MAIL FROM with `headerFrom = []`, and after DATA with the header's.
   */
  checkSender(account: AccountId, mailFrom: string, headerFrom: string[]): Promise<CheckResult>;
  /** Optional extra recipient check at RCPT TO (e.g. the domain exists). */
  checkRecipient?(account: AccountId, rcptTo: string): Promise<CheckResult>;
  /**
   * Plans, builds and queues everything that goes out for this message. Resolves ONLY once every
   * copy is durably in the outbox; throws a typed error (and queues nothing) otherwise.
   */
  submit(req: SubmissionRequest): Promise<SubmissionResult>;
}
