/**
 * Typed errors of the IMAP engine and its backend port. They are turned into `NO`/`BAD` replies in
 * exactly one place: `error-map.ts`.
 */

/**
 * The response codes of the NO/BAD replies this server sends, without brackets: RFC 5530's, and
 * RFC 3501's TRYCREATE, READ-ONLY and BADCHARSET (which lists the charsets it takes), RFC 3516's
 * UNKNOWN-CTE, RFC 4978's COMPRESSIONACTIVE, RFC 7889's TOOBIG.
 */
export type ImapErrorCode =
  | 'ALREADYEXISTS'
  | 'AUTHENTICATIONFAILED'
  | 'AUTHORIZATIONFAILED'
  | 'CANNOT'
  | 'COMPRESSIONACTIVE'
  | 'EXPUNGEISSUED'
  | 'INUSE'
  | 'LIMIT'
  | 'NONEXISTENT'
  | 'OVERQUOTA'
  | 'PRIVACYREQUIRED'
  | 'READ-ONLY'
  | 'SERVERBUG'
  | 'TOOBIG'
  | 'TRYCREATE'
  | 'UNAVAILABLE'
  | 'UNKNOWN-CTE'
  | `BADCHARSET${string}`;

/** Base class: a failure reported to the client as a tagged NO with an optional response code. */
export class ImapNoError extends Error {
  override name = 'ImapNoError';
  /** The response code, e.g. 'NONEXISTENT', or null. */
  readonly responseCode: ImapErrorCode | null;
  constructor(responseCode: ImapErrorCode | null, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.responseCode = responseCode;
  }
}

/** Client syntax/protocol error: a tagged BAD. */
export class ImapBadError extends Error {
  override name = 'ImapBadError';
  readonly responseCode: ImapErrorCode | null;
  constructor(message: string, responseCode: ImapErrorCode | null = null) {
    super(message);
    this.responseCode = responseCode;
  }
}

/** A client-chosen name quoted back in response text: at most 200 characters. */
function echoName(name: string): string {
  return name.length > 200 ? name.slice(0, 200) + '...' : name;
}

export class MailboxNotFoundError extends ImapNoError {
  override name = 'MailboxNotFoundError';
  constructor(name?: string) {
    super(
      'NONEXISTENT',
      name === undefined ? 'Mailbox does not exist' : `Mailbox does not exist: ${echoName(name)}`,
    );
  }
}

export class MailboxExistsError extends ImapNoError {
  override name = 'MailboxExistsError';
  constructor(name?: string) {
    super(
      'ALREADYEXISTS',
      name === undefined ? 'Mailbox already exists' : `Mailbox already exists: ${echoName(name)}`,
    );
  }
}

export class InvalidMailboxNameError extends ImapNoError {
  override name = 'InvalidMailboxNameError';
  constructor(message = 'Invalid mailbox name') {
    super('CANNOT', message);
  }
}

export class MailboxHasChildrenError extends ImapNoError {
  override name = 'MailboxHasChildrenError';
  constructor() {
    super('INUSE', 'Mailbox has children, delete them first');
  }
}

/** APPEND refused: message too big or not storable. */
export class MessageRejectedError extends ImapNoError {
  override name = 'MessageRejectedError';
  constructor(message: string, responseCode: 'TOOBIG' | 'CANNOT' | 'LIMIT' = 'CANNOT') {
    super(responseCode, message);
  }
}

/** The store is locked, closed or busy (temporary). */
export class BackendUnavailableError extends ImapNoError {
  override name = 'BackendUnavailableError';
  constructor(message = 'Mail store temporarily unavailable') {
    super('UNAVAILABLE', message);
  }
}
